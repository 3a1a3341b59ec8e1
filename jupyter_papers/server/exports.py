"""REST handler for a notebook exported with its citations resolved (``POST export``):
the File menu's "Save and Export Notebook As ▸ … with references" items. The notebook
and what is written beside it stay inside the server's root; the export (nbconvert,
pandoc, LaTeX for a PDF) runs in a worker thread."""

from __future__ import annotations

from pathlib import PurePosixPath

import tornado.web

from jupyter_papers.citations.cite import UnknownStyleError
from jupyter_papers.citations.references import NotebookError
from jupyter_papers.export import FORMATS, TIMEOUT, ExportError, export

from .handlers import BibliographyHandler

NOT_CSL = frozenset({"bibtex", "pandoc", "myst", "latex"})  # citation styles of ours that are not CSL styles


class ExportHandler(BibliographyHandler):
    USAGE = 'send JSON {"path": "folder/paper.ipynb", "to": "html|pdf|docx|md|latex", "style": "apa"}'
    TIME_LIMIT = TIMEOUT + 30.0  # a PDF runs LaTeX

    @tornado.web.authenticated
    async def post(self):
        request = self.json_request(self.USAGE)
        notebook = self.target(request.get("path"), ".ipynb")
        if not notebook.is_file():
            raise tornado.web.HTTPError(404, f"no notebook {request['path']!r}")
        to, style = request.get("to"), request.get("style") or "apa"
        if to not in FORMATS or not isinstance(style, str):
            raise tornado.web.HTTPError(400, f"to must be one of {', '.join(FORMATS)}: {self.USAGE}")
        if style.lower() in NOT_CSL:  # the sidebar cites as BibTeX entries: a reference list needs a CSL style
            style = "apa"
        try:
            report = await self.run(export, notebook, to, self.index, style=style,
                                    keep_references=bool(request.get("keep_references")),
                                    no_input=bool(request.get("no_input")))
        except (ExportError, NotebookError, UnknownStyleError) as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        written = PurePosixPath(request["path"].lstrip("/")).with_suffix(FORMATS[to])
        self.finish({"path": str(written), "papers": report.papers, "missing": report.missing})
