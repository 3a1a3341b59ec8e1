"""REST handlers: search, one paper, its citation, its abstract cell, related papers,
indexing uploaded files and writing a references.bib.

The index is opened once per server and searched in a worker thread, so a slow query
never blocks the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import zlib
from pathlib import Path
from urllib.parse import quote

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

import jupyter_papers as jp
from jupyter_papers.citations.bibfile import DIALECTS
from jupyter_papers.citations.cite import FORMATS, BibliographyError, UnknownStyleError, inline_citation
from jupyter_papers.config import index_location
from jupyter_papers.question import SCOPES
from jupyter_papers.meaning import ASKED
from jupyter_papers.sources import UnknownFormatError

MAX_LIMIT = 100
MAX_UPLOAD = 32 * 2**20  # bytes of an upload, before and after gunzip; larger files: `jupyter-papers add`
MAX_PATH = 1024


def server_location(settings) -> str | Path:
    """Where the server's index is: read when first needed, so that the environment a
    server was started in can still be changed before (as tests do)."""
    return index_location(settings.get("jupyter_papers_location"))


def server_index(settings) -> jp.PaperIndex:
    """The server's index, opened on first use (by a request or the sources' watcher)."""
    if settings.get("jupyter_papers_index") is None:
        index = settings["jupyter_papers_index"] = jp.open_index(server_location(settings))
        index.embed_later()  # what a stopped embedding left, or papers added while the server was away
    return settings["jupyter_papers_index"]


class PapersHandler(APIHandler):
    TIME_LIMIT = 60.0  # seconds a request's work may take before it is answered with a 503

    @property
    def index(self) -> jp.PaperIndex:
        try:
            return server_index(self.settings)
        except jp.IndexBrokenError as error:
            raise tornado.web.HTTPError(503, str(error)) from None

    async def run(self, function, *args, **kwargs):
        """In a daemon thread: a server told to stop stops at once, not when an import of
        32 MB finishes half a minute later (the executor's threads are joined at exit). Work
        cut short is left as a killed process leaves it, which the index and .bib survive."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()

        def settle(result, error):
            if not answer.done():
                answer.set_exception(error) if error else answer.set_result(result)

        def work():
            try:
                outcome = (function(*args, **kwargs), None)
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting handler
                outcome = (None, error)
            try:
                loop.call_soon_threadsafe(settle, *outcome)
            except RuntimeError:  # the server stopped meanwhile: nobody waits for the answer
                pass

        threading.Thread(target=work, name="jupyter-papers", daemon=True).start()
        try:
            return await asyncio.wait_for(answer, self.TIME_LIMIT)
        except asyncio.TimeoutError:
            raise tornado.web.HTTPError(503, f"this request took longer than {self.TIME_LIMIT:.0f} s and was "
                                             "given up; try a smaller one") from None
        except jp.IndexBrokenError as error:  # damaged, or deleted under the running server
            raise tornado.web.HTTPError(503, str(error)) from None

    def int_argument(self, name: str, default: int | None, low: int = 0, high: int | None = None) -> int | None:
        raw = self.get_argument(name, None)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise tornado.web.HTTPError(400, f"{name} must be a whole number, not {raw!r}") from None
        if value < low or (high is not None and value > high):
            raise tornado.web.HTTPError(400, f"{name} must be between {low} and {high}" if high else f"{name} must be at least {low}")
        return value

    def meaning_argument(self) -> bool | None:
        raw = self.get_argument("meaning", "auto")
        if raw not in ASKED:
            raise tornado.web.HTTPError(400, f"meaning must be one of {', '.join(ASKED)}, not {raw!r}")
        return ASKED[raw]

    async def paper_or_404(self, paper_id: str) -> jp.Paper:
        paper = await self.run(self.index.get, paper_id)
        if paper is None:
            raise tornado.web.HTTPError(404, f"no paper with id {paper_id!r} in the index")
        return paper

    def json_request(self, usage: str) -> dict:
        """The body as a JSON object, or a 400 saying what to send."""
        try:
            request = json.loads(self.request.body or b"{}")
        except (ValueError, RecursionError):
            raise tornado.web.HTTPError(400, f"the body is not JSON: {usage}") from None
        if not isinstance(request, dict):
            raise tornado.web.HTTPError(400, f"the body is not a JSON object: {usage}")
        return request

    @staticmethod
    def paper_ids(request: dict, usage: str) -> list[str]:
        ids = request.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise tornado.web.HTTPError(400, f"ids must be a list of paper ids (strings): {usage}")
        return ids

    def write_error(self, status_code, **kwargs):
        """Every error is JSON with a message a person can act on."""
        self.set_header("Content-Type", "application/json")
        reason = self._reason
        exc_info = kwargs.get("exc_info")
        if exc_info and isinstance(exc_info[1], tornado.web.HTTPError) and exc_info[1].log_message:
            reason = exc_info[1].log_message % exc_info[1].args if exc_info[1].args else exc_info[1].log_message
        self.finish(json.dumps({"message": reason, "status": status_code}))


def _flag(value: str) -> bool:
    return value.lower() in ("1", "true", "yes")




class SearchHandler(PapersHandler):
    @tornado.web.authenticated
    async def get(self):
        kwargs = dict(
            query=self.get_argument("q", "", strip=False),  # a trailing space says: no completion
            limit=self.int_argument("limit", 10, 1, MAX_LIMIT),
            offset=self.int_argument("offset", 0),
            year_from=self.int_argument("year_from", None, 0, 9999),
            year_to=self.int_argument("year_to", None, 0, 9999),
        )
        prefix = self.get_argument("prefix", None)
        if prefix is not None:
            kwargs["prefix"] = _flag(prefix)
        kwargs["facets"] = _flag(self.get_argument("facets", "0"))
        kwargs["scope"] = self.get_argument("scope", "all")
        if kwargs["scope"] not in SCOPES:
            raise tornado.web.HTTPError(400, f"scope must be one of {', '.join(SCOPES)}")
        kwargs["meaning"] = self.meaning_argument()
        results = await self.run(self.index.search, **kwargs)
        self.finish(results.to_dict())


class PaperHandler(PapersHandler):
    @tornado.web.authenticated
    async def get(self, paper_id: str):
        paper = await self.paper_or_404(paper_id)
        self.finish(paper.to_dict())


class CiteHandler(PapersHandler):
    @tornado.web.authenticated
    async def get(self, paper_id: str):
        paper = await self.paper_or_404(paper_id)
        style = self.get_argument("style", "apa")
        output = self.get_argument("format", "markdown")
        if output not in FORMATS:
            raise tornado.web.HTTPError(400, f"format must be one of {', '.join(FORMATS)}")
        try:
            text = await self.run(jp.cite, paper, style, output)
        except UnknownStyleError as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        self.finish({"id": paper.id, "key": paper.key, "style": style, "format": output, "text": text,
                     "bibtex": jp.bibtex_entry(paper)})


class InlineHandler(PapersHandler):
    """One inline citation of several papers (the sidebar's selection)."""

    USAGE = 'send JSON {"ids": ["paper id", ...], "format": "pandoc", "narrative": false, "locators": {"id": "p. 3"}}'

    @tornado.web.authenticated
    async def post(self):
        request = self.json_request(self.USAGE)
        ids = self.paper_ids(request, self.USAGE)
        locators = request.get("locators") or {}
        if not isinstance(locators, dict):
            raise tornado.web.HTTPError(400, f"locators must map paper ids to text: {self.USAGE}")
        papers = [await self.paper_or_404(i) for i in ids]
        try:
            text = inline_citation(papers, str(request.get("format") or "pandoc"), bool(request.get("narrative")),
                                   {k: str(v) for k, v in locators.items()})
        except UnknownStyleError as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        self.finish({"text": text, "keys": [p.key for p in papers]})


class AbstractHandler(PapersHandler):
    @tornado.web.authenticated
    async def get(self, paper_id: str):
        paper = await self.paper_or_404(paper_id)
        self.finish({"id": paper.id, "markdown": jp.abstract_cell(paper)})


class RelatedHandler(PapersHandler):
    @tornado.web.authenticated
    async def get(self, paper_id: str):
        paper = await self.paper_or_404(paper_id)
        results = await self.run(self.index.more_like, paper.id, self.int_argument("limit", 5, 1, MAX_LIMIT),
                                 self.meaning_argument())
        self.finish(results.to_dict())


class MeaningHandler(PapersHandler):
    """How far search by meaning reaches (the sidebar shows it while papers are embedded);
    POST starts embedding what is missing, in the background."""

    @tornado.web.authenticated
    async def get(self):
        self.finish(await self.run(self.index.meaning_status))

    @tornado.web.authenticated
    async def post(self):
        await self.run(self.index.embed_later, True)
        self.finish(await self.run(self.index.meaning_status))


def inflated(body: bytes, limit: int) -> bytes:
    """The upload, gunzipped if it is gzip, refused past ``limit`` bytes either way (a
    0.5 MB gzip body can inflate to gigabytes)."""
    if body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise tornado.web.HTTPError(400, f"the gzip body cannot be read: {error}") from None
    if len(raw) > limit or inflater.unconsumed_tail:
        raise tornado.web.HTTPError(413, f"the upload inflates to more than {limit // 2**20} MB; "
                                         "index large files with `jupyter-papers add FILE`")
    return raw


class AddHandler(PapersHandler):
    TIME_LIMIT = 900.0  # an upload of 32 MB is read and indexed in about half a minute; a 503 would not stop it

    @tornado.web.authenticated
    async def post(self):
        body = self.request.body
        if len(body) > MAX_UPLOAD:
            raise tornado.web.HTTPError(413, f"the upload is larger than {MAX_UPLOAD // 2**20} MB; "
                                             "index large files with `jupyter-papers add FILE`")
        if not body.strip():
            raise tornado.web.HTTPError(400, "the request body is empty: send BibTeX, CSL-JSON or JSON Lines")
        output_format = self.get_argument("format", None) or None
        filename = self.get_argument("filename", "upload")

        def parse():  # in a worker thread, before the index is touched: searches never wait for it
            reading = jp.read_papers(inflated(body, MAX_UPLOAD), format=output_format)
            return reading, list(reading)

        try:
            reading, papers = await self.run(parse)
        except UnknownFormatError as error:
            raise tornado.web.HTTPError(400, f"{filename}: {error}") from None
        report = await self.run(self.index.add, papers)
        report.skipped.extend(reading.problems)
        self.finish({
            "added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "skipped": [{"line": p.line, "message": p.message} for p in report.skipped],
            "ids": report.ids, "format": reading.format,
        })


class BibliographyHandler(PapersHandler):
    """Append papers to a .bib file inside the server's root directory."""

    USAGE = 'send JSON {"ids": ["paper id", ...], "path": "folder/references.bib", "dialect": "bibtex|biblatex"}'

    def target(self, relative, suffix: str = ".bib") -> Path:
        """The file (.bib, or ``suffix``) a request names: inside the server's root, in a
        folder that exists, not hidden unless the contents manager shows hidden files."""
        if not isinstance(relative, str) or not relative.strip() or "\0" in relative or len(relative) > MAX_PATH:
            raise tornado.web.HTTPError(400, f"path must be a file name of at most {MAX_PATH} characters")
        root = Path(self.settings["server_root_dir"]).expanduser().resolve()
        try:
            target = (root / relative.lstrip("/")).resolve()
            if root not in target.parents or target.suffix != suffix:
                raise tornado.web.HTTPError(400, f"{relative!r} is not a {suffix} file inside the server's root "
                                                 "directory (a link to a file outside it is not written through)")
            if target.is_dir():
                raise tornado.web.HTTPError(400, f"{relative!r} is a folder, not a {suffix} file")
            if not target.parent.is_dir():
                raise tornado.web.HTTPError(400, f"the folder of {relative!r} does not exist")
        except OSError as error:  # a name too long for the file system, say
            raise tornado.web.HTTPError(400, f"the bib path cannot be used: {error.strerror}") from None
        hidden = any(part.startswith(".") for part in target.relative_to(root).parts)
        if hidden and not getattr(self.contents_manager, "allow_hidden", False):
            raise tornado.web.HTTPError(400, f"{relative!r} is hidden, and this server does not show hidden files")
        return target

    def dialect(self, request: dict) -> str | None:
        """The dialect a request asks the .bib file to be written in; none: the file's own."""
        dialect = request.get("dialect") or None
        if dialect is not None and dialect not in DIALECTS:
            raise tornado.web.HTTPError(400, f"dialect must be one of {', '.join(DIALECTS)}: {self.USAGE}")
        return dialect

    async def append_to_bib(self, papers, target: Path, aliases: dict | None = None, dialect: str | None = None):
        """Append to the .bib file; an unclosed entry there is a 400 naming its line."""
        try:
            return await self.run(jp.write_bibliography, papers, target, aliases, dialect)
        except BibliographyError as error:
            raise tornado.web.HTTPError(400, str(error).replace(str(target.parent), "").lstrip("/")) from None

    @tornado.web.authenticated
    async def post(self):
        request = self.json_request(self.USAGE)
        ids = self.paper_ids(request, self.USAGE)
        relative = request.get("path", "references.bib")
        target = self.target(relative)
        dialect = self.dialect(request)
        papers = [await self.paper_or_404(i) for i in ids]
        report = await self.append_to_bib(papers, target, dialect=dialect)
        self.finish({"path": relative, "added": report.added, "present": report.present, "keys": report.keys})


class ReferencesHandler(BibliographyHandler):
    """The reference list of a notebook's cells as the lab holds them (saved or not), and
    with ``bib``, the cited papers appended to that .bib file."""

    USAGE = ('send JSON {"cells": [{"cell_type": "markdown", "source": "..."}], "style": "apa", "bib": "refs.bib", '
             '"dialect": "bibtex|biblatex"}')

    @tornado.web.authenticated
    async def post(self):
        from jupyter_papers.citations.references import cells_problem, reference_cell, reference_list

        request = self.json_request(self.USAGE)
        cells = request.get("cells")
        problem = cells_problem(cells)
        if problem:
            raise tornado.web.HTTPError(400, f"cells must be a list of notebook cells ({problem}): {self.USAGE}")
        style = request.get("style") or "apa"
        if not isinstance(style, str):
            raise tornado.web.HTTPError(400, f"style must be a style name: {self.USAGE}")
        target = self.target(request["bib"]) if request.get("bib") else None
        dialect = self.dialect(request)
        try:
            references = await self.run(reference_list, cells, self.index.get, str(style))
        except UnknownStyleError as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        keys = {}
        if target is not None and references.papers:
            papers, aliases = references.for_bibliography()
            keys = (await self.append_to_bib(papers, target, aliases, dialect)).keys
        source, marker = reference_cell(cells, references.markdown)
        self.finish({"markdown": references.markdown, "cited": references.cited, "missing": references.missing,
                     "listed": references.listed, "keys": keys, "cell": {"source": source, "marker": marker}})


class SourcesHandler(PapersHandler):
    """The index's sources: list (GET), add (POST {"path", "name"} or {"zotero": true}),
    sync (POST .../NAME/sync, or all: POST .../sync), remove (DELETE .../NAME)."""

    USAGE = 'send JSON {"path": "/path/to/refs.bib", "name": "optional"} or {"zotero": true}'

    @tornado.web.authenticated
    async def get(self, name: str | None = None, action: str | None = None):
        states = await self.run(self.index.sources.list)
        self.finish({"sources": [state.summary() for state in states]})

    @tornado.web.authenticated
    async def post(self, name: str | None = None, action: str | None = None):
        from jupyter_papers.sources.registry import SourceError
        from jupyter_papers.sources.zotero import ZoteroError

        sources = self.index.sources
        try:
            if action == "sync" or name == "sync":
                reports = await self.run(sources.sync, None if name == "sync" else name)
                return self.finish({"synced": [vars(report) for report in reports]})
            if name is not None:
                raise tornado.web.HTTPError(404, f"POST a source to /sources, or sync one at /sources/{name}/sync")
            request = self.json_request(self.USAGE)
            path, label = request.get("path"), request.get("name")
            if label is not None and (not isinstance(label, str) or not label.strip() or len(label) > 100):
                raise tornado.web.HTTPError(400, f"name must be a short text: {self.USAGE}")
            if request.get("zotero") is True:
                report = await self.run(sources.add_zotero, path, label or "zotero")
            elif isinstance(path, str) and path.strip() and "\0" not in path and len(path) <= MAX_PATH:
                report = await self.run(sources.add, path, label)
            else:
                raise tornado.web.HTTPError(400, f"path must be a file or folder: {self.USAGE}")
        except (SourceError, ZoteroError) as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        self.finish(vars(report))

    @tornado.web.authenticated
    async def delete(self, name: str | None = None, action: str | None = None):
        from jupyter_papers.sources.registry import SourceError

        if name is None or action is not None:
            raise tornado.web.HTTPError(400, "DELETE /sources/NAME")
        try:
            removed = await self.run(self.index.sources.remove, name)
        except SourceError as error:
            raise tornado.web.HTTPError(404, str(error)) from None
        self.finish({"removed": name, "papers_removed": removed})


class PdfHandler(PapersHandler):
    """The PDF attachment of a paper, as the index knows it (a Zotero attachment, a .bib
    ``file`` field): never a path taken from the request."""

    @tornado.web.authenticated
    async def get(self, paper_id: str):
        paper = await self.paper_or_404(paper_id)
        pdf = paper.extra.get("pdf", "")
        if not pdf:
            raise tornado.web.HTTPError(404, f"the paper {paper_id!r} has no PDF attachment the index knows")
        path = Path(pdf)
        if not path.is_file() or path.suffix.lower() != ".pdf":
            raise tornado.web.HTTPError(404, f"the PDF of {paper_id!r} is not on this machine any more: {pdf}")
        self.set_header("Content-Disposition", f'inline; filename="{quote(path.name)}"')
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(await self.run(path.read_bytes), set_content_type="application/pdf")


def setup_handlers(serverapp) -> None:
    from .exports import ExportHandler
    from .lookups import LookupHandler, OnlineHandler

    web_app = serverapp.web_app
    base = url_path_join(web_app.settings["base_url"], "jupyter-papers")
    paper = r"/papers/(?P<paper_id>.+?)"
    web_app.settings.setdefault("jupyter_papers_index", None)
    web_app.add_handlers(".*$", [
        (url_path_join(base, "search"), SearchHandler),
        (url_path_join(base, "online"), OnlineHandler),
        (url_path_join(base, "meaning"), MeaningHandler),
        (url_path_join(base, "lookup"), LookupHandler),
        (url_path_join(base, "papers"), AddHandler),
        (url_path_join(base, "bibliography"), BibliographyHandler),
        (url_path_join(base, "references"), ReferencesHandler),
        (url_path_join(base, "inline"), InlineHandler),
        (url_path_join(base, "export"), ExportHandler),
        (base + paper + "/cite", CiteHandler),
        (base + paper + "/abstract", AbstractHandler),
        (base + paper + "/related", RelatedHandler),
        (base + paper + "/pdf", PdfHandler),
        (url_path_join(base, "sources"), SourcesHandler),
        (url_path_join(base, "sources") + r"/(?P<name>[^/]+)/(?P<action>sync)", SourcesHandler),
        (url_path_join(base, "sources") + r"/(?P<name>[^/]+)", SourcesHandler),
        (base + paper, PaperHandler),
    ])
