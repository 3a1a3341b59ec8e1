"""Runs inside jupyter_server: the REST API the JupyterLab panel calls.

Enabled by ``jupyter-config/server-config/jupyter_papers.json`` as ``jupyter_papers.server``.
"""

from __future__ import annotations


def _jupyter_server_extension_points():
    return [{"module": "jupyter_papers.server"}]


def _load_jupyter_server_extension(serverapp):
    from .handlers import setup_handlers

    setup_handlers(serverapp)
    serverapp.log.info("jupyter_papers: REST API at /jupyter-papers/")
