"""Runs inside jupyter_server: the REST API the JupyterLab panel calls, and the watcher
that keeps the index in step with its registered sources.

Enabled by ``jupyter-config/server-config/jupyter_papers.json`` as ``jupyter_papers.server``.
"""

from __future__ import annotations


def _jupyter_server_extension_points():
    return [{"module": "jupyter_papers.server"}]


def _load_jupyter_server_extension(serverapp):
    from tornado.ioloop import IOLoop

    from .handlers import server_index, setup_handlers
    from .watcher import SourceWatcher

    setup_handlers(serverapp)
    settings = serverapp.web_app.settings
    watcher = settings["jupyter_papers_watcher"] = SourceWatcher(lambda: server_index(settings), serverapp.log)
    IOLoop.current().add_callback(watcher.run)
    serverapp.log.info("jupyter_papers: REST API at /jupyter-papers/; registered sources are watched")
