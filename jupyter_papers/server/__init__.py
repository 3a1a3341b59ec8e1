"""Runs inside jupyter_server: the REST API the JupyterLab panel calls, and the watcher
that keeps the index in step with its registered sources.

Enabled by ``jupyter-config/server-config/jupyter_papers.json`` as ``jupyter_papers.server``.
An ExtensionApp, so that the server stops the watcher when it shuts down (a watching
thread left running would keep the process alive).
"""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from traitlets import Unicode


class PapersExtension(ExtensionApp):
    name = "jupyter_papers"
    load_other_extensions = True

    index = Unicode("", help="The index the sidebar searches and the watcher keeps in step: a folder, or "
                    "opensearch://host:9200/papers; when empty, JUPYTER_PAPERS_INDEX, else the default "
                    "folder").tag(config=True)

    def initialize_handlers(self) -> None:
        from .handlers import setup_handlers

        setup_handlers(self.serverapp)

    def initialize_settings(self) -> None:
        from tornado.ioloop import IOLoop

        from ..config import local_folder
        from .handlers import server_index, server_location
        from .watcher import SourceWatcher

        settings = self.serverapp.web_app.settings
        settings["jupyter_papers_location"] = self.index
        self.watcher = SourceWatcher(lambda: local_folder(server_location(settings)),
                                     lambda: server_index(settings), self.log)
        settings["jupyter_papers_watcher"] = self.watcher
        IOLoop.current().add_callback(self.watcher.run)
        self.log.info("jupyter_papers: REST API at /jupyter-papers/; registered sources are watched")

    async def stop_extension(self) -> None:
        self.watcher.stop()


def _jupyter_server_extension_points():
    return [{"module": "jupyter_papers.server", "app": PapersExtension}]
