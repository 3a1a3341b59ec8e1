"""Runs inside jupyter_server: the REST API the JupyterLab panel calls, and the watcher
that keeps the index in step with its registered sources.

Enabled by ``jupyter-config/server-config/jupyter_papers.json`` as ``jupyter_papers.server``.
An ExtensionApp, so that the server stops the watcher when it shuts down (a watching
thread left running would keep the process alive).
"""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp


class PapersExtension(ExtensionApp):
    name = "jupyter_papers"
    load_other_extensions = True

    def initialize_handlers(self) -> None:
        from .handlers import setup_handlers

        setup_handlers(self.serverapp)

    def initialize_settings(self) -> None:
        from tornado.ioloop import IOLoop

        from ..config import default_index_dir
        from .handlers import server_index
        from .watcher import SourceWatcher

        settings = self.serverapp.web_app.settings
        self.watcher = SourceWatcher(lambda: settings.get("jupyter_papers_index_dir") or default_index_dir(),
                                     lambda: server_index(settings), self.log)
        settings["jupyter_papers_watcher"] = self.watcher
        IOLoop.current().add_callback(self.watcher.run)
        self.log.info("jupyter_papers: REST API at /jupyter-papers/; registered sources are watched")

    async def stop_extension(self) -> None:
        self.watcher.stop()


def _jupyter_server_extension_points():
    return [{"module": "jupyter_papers.server", "app": PapersExtension}]
