"""The ``jupyter-papers`` command (also ``jupyter papers``).

Exit codes: 0 ok, 1 nothing found, 2 bad usage or input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from .meaning import ASKED
from . import bibliography, bundled_corpus, cite, read_papers, write_bibliography
from .citations.bibfile import DIALECTS
from .citations.cite import BibliographyError, UnknownStyleError
from .citations.csl import EngineError
from .citations.references import NotebookError
from .config import default_index_dir, index_location, is_remote
from .export import ExportError, export
from .index import WorkerFailed, rebuild_index
from .question import parse_year_range
from .meaning.model import ModelUnavailable, download
from .sources.registry import SourceError
from .sources.zotero import ZoteroError
from .paper import Name
from .results import IndexBrokenError, page_label
from .sources import TEXT_ORIGIN, UnknownFormatError, extract
from .sources.identifiers import recognise
from .sources.online import OnlineError

OK, NOT_FOUND, BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad usage or input: reported in one line, exit 2."""


def _years(text: str | None) -> tuple[int | None, int | None]:
    try:
        return parse_year_range(text)
    except ValueError as error:
        raise UsageError(f"--year: {error}") from None


def _bold_marks(fragment: str, color: bool) -> str:
    import html

    if color:
        fragment = fragment.replace("<mark>", "\x1b[1;33m").replace("</mark>", "\x1b[0m")
    else:
        fragment = fragment.replace("<mark>", "*").replace("</mark>", "*")
    return html.unescape(fragment)


DIALECT_HELP = ("bibtex (read by every tool) or biblatex (@software, @online, journaltitle, full dates; "
                "for biber and pandoc); default: the file's own, BibTeX for a new file")
READABLE = (".bib", ".bibtex", ".biblatex", ".json", ".jsonl", ".ndjson", ".xml", ".atom", ".pdf")


def _files(name: str) -> list[Path]:
    """A file, or the readable files of a folder (by their endings, .gz too), in order."""
    path = Path(name)
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts)
                  and "".join(p.suffixes[-2:]).removesuffix(".gz").lower().endswith(READABLE))


def cmd_add(index, args) -> int:
    status = OK
    for name in args.files:
        if not Path(name).exists() and recognise(name) is not None:
            status = max(status, _add_identifier(index, name))
            continue
        files = _files(name)
        if Path(name).is_dir():
            print(f"{name}: a folder; reading its {len(files)} file(s) of papers "
                  f"({', '.join(sorted({''.join(f.suffixes) for f in files})) or 'none found'})")
        pdfs = [path for path in files if path.suffix.lower() == ".pdf"]
        for path in files:
            if path not in pdfs:
                status = max(status, _add_file(index, path, args.format))
        if pdfs:
            status = max(status, _add_pdfs(index, pdfs))
    meaning = index.meaning_status() if status == OK else {"state": "not asked"}
    if meaning["state"] in ("embedding", "partial"):
        print(f"meaning: {_meaning_line(meaning)}")
    return status


def _add_identifier(index, text: str) -> int:
    """A DOI, arXiv id, PubMed id or ISBN: the paper looked up online and kept in the
    "looked-up" source (JUPYTER_PAPERS_ONLINE=off forbids it)."""
    try:
        paper = index.add_identifier(text)
    except OnlineError as error:
        print(f"{text}: {error}", file=sys.stderr)
        return BAD_INPUT
    print(f"{text}: added {paper.key}: {paper.display_title}")
    return OK


def _add_pdfs(index, pdfs: list[Path]) -> int:
    """Each PDF a paper, with the metadata the index or the PDF has; what was guessed is
    listed, so that it can be fixed."""
    problems = []
    papers = extract.papers_of_pdfs(pdfs, problems.append, procs=os.cpu_count() or 1)
    report = index.add(papers, progress=True)
    print(f"{len(pdfs)} PDF(s): {report}")
    for merged in report.merged:
        print(f"  merged {merged}")
    for problem in problems + report.fulltext:
        print(f"  {problem}")
    stored = [index.get(report.held.get(paper.id, paper.id)) for paper in papers]
    guessed = [paper for paper in stored if paper is not None and paper.guessed]
    if guessed:
        print(f"  {len(guessed)} with a guessed title (add a record of the paper with its DOI, or with the PDF in "
              "its `file` field, and it replaces the guess):")
        for paper in guessed:
            print(f"    {paper.key}: {paper.display_title!r} ({paper.guessed}; {Path(paper.extra['pdf']).name})")
    return OK if report.ids or report.unchanged else BAD_INPUT


def _add_file(index, path: Path, format: str | None) -> int:
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return BAD_INPUT
    try:
        reading = read_papers(path, format=format)
        report = index.add(reading, progress=True, procs=os.cpu_count() or 1)
    except UnknownFormatError as error:
        print(f"{path}: {error}", file=sys.stderr)
        return BAD_INPUT
    if not report.ids and not report.unchanged and not report.skipped:
        print(f"{path}: no paper could be read from this file ({reading.format}?)", file=sys.stderr)
        return BAD_INPUT
    print(f"{path}: {report}")
    for merged in report.merged:
        print(f"  merged {merged}")
    for problem in report.skipped:
        print(f"  skipped {problem}")
    for problem in report.fulltext:
        print(f"  {problem}")
    return OK if report.ids or report.unchanged else BAD_INPUT


def cmd_search(index, args) -> int:
    year_from, year_to = _years(args.year)
    results = index.search(args.query, limit=args.limit, offset=args.offset, year_from=year_from,
                           year_to=year_to, prefix=False, scope=args.scope, meaning=ASKED[args.meaning])
    if args.json:
        print(json.dumps(results.to_dict(), ensure_ascii=False, indent=1))
        return OK if results.hits else NOT_FOUND
    if results.suggestion:
        print(f"did you mean: {results.suggestion}")
    if not results.hits:
        print(f"no papers found for {args.query!r}", file=sys.stderr)
        return NOT_FOUND
    color = sys.stdout.isatty()
    print(f"{results.offset + 1}-{results.offset + len(results)} of {results.total_label}"
          + (f"  ({results.meaning_label})" if results.meaning else ""))
    for rank, hit in enumerate(results, results.offset + 1):
        paper = hit.paper
        meta = ", ".join(str(x) for x in (paper.year, paper.venue) if x)
        print(f"{rank:>3}. {_bold_marks(hit.highlights.get('title') or paper.display_title, color)}"
              + (f" ({meta})" if meta else ""))
        print(f"     id: {paper.id}   key: {paper.key}" + (f"   (guessed: {paper.guessed})" if paper.guessed else ""))
        print(f"     {_bold_marks(hit.highlights.get('abstract', ''), color)}")
        for page in hit.pages:
            print(f"     {page_label(page)}: {_bold_marks(page['snippet'], color)}")
    return OK


def _paper_or_exit(index, identifier: str):
    paper = index.find(identifier)
    if paper is None:
        print(f"no paper matches {identifier!r}", file=sys.stderr)
    return paper


def cmd_show(index, args) -> int:
    paper = _paper_or_exit(index, args.id)
    if paper is None:
        return NOT_FOUND
    if args.json:
        print(json.dumps(paper.to_dict(), ensure_ascii=False, indent=1))
        return OK
    for name, value in _shown(paper):
        print(f"{name:>16}: {value}")
    return OK


def _shown(paper) -> list[tuple[str, str]]:
    """The record as lines a person reads: names written out, dates as dates, every CSL
    variable and extra by its own name."""
    def text(value) -> str:
        if isinstance(value, dict) and "date-parts" in value:
            return "/".join("-".join(str(p) for p in parts) for parts in value["date-parts"])
        if isinstance(value, list):
            return ", ".join(str(Name.from_csl(v)) if isinstance(v, dict) else str(v) for v in value)
        return re.sub(r"</?span[^>]*>", "", str(value))  # CSL's case protection, not text

    lines = [(name, getattr(paper, name)) for name in ("id", "key", "type", "title", "authors", "editors", "year",
                                                          "venue", "doi", "arxiv_id", "url", "keywords", "source")]
    lines += sorted(paper.csl.items()) + sorted(paper.extra.items())
    lines.append(("abstract", paper.abstract))
    return [(name, text(value)) for name, value in lines if value not in ("", None, [], {}, TEXT_ORIGIN)]


def cmd_cite(index, args) -> int:
    paper = _paper_or_exit(index, args.id)
    if paper is None:
        return NOT_FOUND
    if paper.guessed:
        print(f"{paper.key}: its metadata was guessed from its PDF ({paper.guessed}); check the reference, or add "
              "a record of the paper to replace the guess", file=sys.stderr)
    print(cite(paper, style=args.style))
    return OK


def cmd_bib(index, args) -> int:
    papers = []
    for identifier in args.ids:
        paper = _paper_or_exit(index, identifier)
        if paper is None:
            return NOT_FOUND
        papers.append(paper)
    report = write_bibliography(papers, args.output, dialect=args.format)
    print(f"{report.path.resolve()}: added {len(report.added)} ({', '.join(report.added) or '-'}), "
          f"already there {len(report.present)}")
    return OK


def _notebook_argument(name: str) -> Path:
    notebook = Path(name)
    if not notebook.exists():
        raise UsageError(f"{name}: no such file")
    if not notebook.is_file() or notebook.suffix != ".ipynb":
        raise UsageError(f"{name}: not a notebook (.ipynb) file")
    return notebook


def cmd_bibliography(index, args) -> int:
    notebook = _notebook_argument(args.notebook)
    references = bibliography(notebook, args.style, args.bib, index, args.bib_format)
    print(f"{notebook}: {len(references.cited)} cited, {references.listed} in the reference list"
          + (f", not in the index: {', '.join(references.missing)}" if references.missing else ""))
    return OK


def cmd_export(index, args) -> int:
    notebook = _notebook_argument(args.notebook)
    report = export(notebook, args.to, index, style=args.style, output=args.output,
                    keep_references=args.keep_references, no_input=args.no_input)
    print(f"{report.path}: {report.papers} papers in the reference list"
          + (f", not found: {', '.join(report.missing)}" if report.missing else ""))
    return OK


def cmd_sources(index, args) -> int:
    if args.action == "add":
        if args.zotero:
            report = index.sources.add_zotero(args.path, name=args.name or "zotero")
        elif args.path:
            report = index.sources.add(args.path, name=args.name)
        else:
            raise UsageError("sources add: give a PATH, or --zotero")
        return _said(report)
    if args.action == "remove":
        print(f"removed the source {args.name}: {index.sources.remove(args.name)} papers left the index")
        return OK
    states = index.sources.list()
    if not states:
        print("no sources: add one with `jupyter-papers sources add PATH` or `sources add --zotero`")
    for state in states:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(state.last_sync)) if state.last_sync else "never"
        status = "missing" if state.missing else f"{len(state.problems)} problems" if state.problems else "ok"
        print(f"{state.name}  {state.kind}  {len(state.papers)} papers  synced {when}  {status}  {state.path}")
        for problem in state.problems[:20]:
            print(f"  {problem}")
    return OK


def cmd_sync(index, args) -> int:
    reports = index.sources.sync(args.name)
    if not reports:
        print("no sources to sync: add one with `jupyter-papers sources add PATH`")
    return max((_said(report) for report in reports), default=OK)


def _said(report) -> int:
    print(report)
    for problem in report.problems[:20]:
        print(f"  {problem}")
    return OK


def cmd_stats(index, args) -> int:
    results = index.search("", limit=1, facets=True)
    years = results.facets.get("year", {})
    size = sum(f.stat().st_size for f in index.path.iterdir() if f.is_file())
    print(f"index:  {index.path}")
    print(f"papers: {len(index)}")
    print(f"size:   {size / 1e6:.1f} MB")
    if years:
        print(f"years:  {min(years)}-{max(years)}")
    pdfs = index.fulltext_records()
    if pdfs:
        unread = {paper: record for paper, record in pdfs.items() if record.get("problem")}
        print(f"PDFs:   {len(pdfs)}, {sum(r.get('pages', 0) for r in pdfs.values())} pages searchable"
              + (f"; {len(unread)} without searchable text:" if unread else ""))
        for paper, record in sorted(unread.items()):
            print(f"  {paper}: {record['pdf']}: {record['problem']}")
    print(f"meaning: {_meaning_line(index.meaning_status())}")
    return OK


def _meaning_line(status: dict) -> str:
    if status["state"] in ("unavailable", "off"):
        return status["message"] or "off (JUPYTER_PAPERS_MEANING=off)"
    line = f"{status['embedded']:,} of {status['papers']:,} papers"
    return line + {"embedding": ", embedding in the background", "partial": " (`jupyter-papers semantic embed`)"}.get(
        status["state"], "")


def cmd_semantic(index, args) -> int:
    if args.action == "download":
        print(f"model saved in {download()}")
    elif args.action == "embed":
        encoded = index.embed(progress=True)
        print(f"meaning: {encoded:,} papers embedded; {_meaning_line(index.meaning_status())}")
    else:
        print(f"meaning: {_meaning_line(index.meaning_status())}")
    return OK


def cmd_rebuild(path, args) -> int:
    if not isinstance(path, Path):  # an OpenSearch index: built anew behind its alias
        print(f"rebuilt {path.url}: {path.rebuild()} papers")
        return OK
    fallback = read_papers(bundled_corpus()) if path == default_index_dir() else None
    report = rebuild_index(path, fallback=fallback)
    print(f"rebuilt {path}: {report.papers} papers")
    for problem in report.problems:
        print(f"  could not read {problem}", file=sys.stderr)
    if report.kept_old:
        print(f"  the old index is kept at {report.kept_old}", file=sys.stderr)
    return OK


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="jupyter-papers", description="Find, show and cite papers from the index.")
    main.add_argument("--index", metavar="DIR", default=str(index_location()),
                      help="index folder, or an OpenSearch index as opensearch://host:9200/papers (default: "
                           "%(default)s; JUPYTER_PAPERS_INDEX sets it)")
    commands = main.add_subparsers(dest="command", required=True)

    add = commands.add_parser("add", help="index papers from BibTeX, CSL-JSON, JSON Lines, arXiv files, PDFs")
    add.add_argument("files", nargs="+", metavar="FILE",
                     help="a file, a folder whose readable files are read, or a DOI, arXiv id, pmid:… or isbn:… "
                          "looked up online")
    add.add_argument("--format", choices=["bibtex", "csljson", "jsonl", "arxiv-atom", "listing"],
                     help="the format, when the file name does not tell it")
    add.set_defaults(run=cmd_add)

    search = commands.add_parser("search", help="search the index")
    search.add_argument("query", help="words, a phrase in quotes, field:word, an arXiv id or a DOI")
    search.add_argument("--limit", type=int, default=10, help="results to show (default: %(default)s)")
    search.add_argument("--offset", type=int, default=0, help="results to skip first, for the next page")
    search.add_argument("--year", help="YEAR, FROM..TO, FROM.. or ..TO")
    search.add_argument("--json", action="store_true", help="the results as JSON, as the REST API gives them")
    search.add_argument("--in", dest="scope", choices=("all", "fulltext", "metadata"), default="all",
                        help="where to look: everywhere (default), the PDFs' pages only (as in:fulltext), or titles, "
                             "abstracts and authors only (as in:metadata)")
    search.add_argument("--meaning", choices=tuple(ASKED), default="auto",
                        help="re-rank the best word matches by meaning too: for sentences (auto, the default), "
                             "always (on) or never (off); needs the [semantic] extra")
    search.set_defaults(run=cmd_search)

    show = commands.add_parser("show", help="show one paper (id, arXiv id, DOI, key or a query)")
    show.add_argument("id", help="id, arXiv id or URL, DOI, citation key, or words to search")
    show.add_argument("--json", action="store_true", help="the paper record as JSON (CSL-JSON names and variables)")
    show.set_defaults(run=cmd_show)

    cite_cmd = commands.add_parser("cite", help="print a citation")
    cite_cmd.add_argument("id", help="id, arXiv id or URL, DOI, citation key, or words to search")
    cite_cmd.add_argument("--style", default="apa",
                          help="apa, ieee, chicago, harvard, bibtex, pandoc, myst, latex, a CSL name or .csl file")
    cite_cmd.set_defaults(run=cmd_cite)

    bib = commands.add_parser("bib", help="add papers to a .bib file")
    bib.add_argument("ids", nargs="+", metavar="ID", help="papers, by id, arXiv id, DOI, key or words")
    bib.add_argument("-o", "--output", default="references.bib",
                     help="the .bib file to append to (default: ./%(default)s)")
    bib.add_argument("--format", choices=DIALECTS, help=DIALECT_HELP)
    bib.set_defaults(run=cmd_bib)

    references = commands.add_parser("bibliography", help="write a notebook's reference list cell")
    references.add_argument("notebook", help="the .ipynb file whose Markdown cells cite papers")
    references.add_argument("--style", default="apa", help="apa, ieee, chicago, ..., a CSL name or .csl file")
    references.add_argument("--bib", metavar="FILE", help="also append the cited papers to this .bib file "
                                                        "and name it in the notebook's metadata")
    references.add_argument("--bib-format", choices=DIALECTS, help=DIALECT_HELP)
    references.set_defaults(run=cmd_bibliography)

    export_cmd = commands.add_parser("export", help="a notebook as HTML, PDF, Word, Markdown or LaTeX, its "
                                                    "citations resolved and one reference list")
    export_cmd.add_argument("notebook", help="the .ipynb file")
    export_cmd.add_argument("--to", required=True, choices=["html", "pdf", "docx", "md", "latex"])
    export_cmd.add_argument("--style", default="apa", help="apa, ieee, chicago, ..., a CSL name or .csl file")
    export_cmd.add_argument("-o", "--output", help="the file to write (default: beside the notebook)")
    export_cmd.add_argument("--keep-references", action="store_true",
                            help="keep the notebook's own References cell instead of pandoc's list")
    export_cmd.add_argument("--no-input", action="store_true", help="leave the code out (outputs stay)")
    export_cmd.set_defaults(run=cmd_export)

    sources = commands.add_parser("sources", help="the files, folders and Zotero libraries kept in step")
    actions = sources.add_subparsers(dest="action", required=True)
    source_add = actions.add_parser("add", help="add a .bib / CSL-JSON / JSON Lines file, a folder, or Zotero's "
                                                "data directory, and sync it")
    source_add.add_argument("path", nargs="?", help="the file or folder (with --zotero: Zotero's data directory, "
                                                   "if not where Zotero keeps it)")
    source_add.add_argument("--zotero", action="store_true", help="the Zotero library, read offline")
    source_add.add_argument("--name", help="what to call it (default: the file's name)")
    actions.add_parser("list", help="each source: kind, path, papers, last sync, problems")
    source_remove = actions.add_parser("remove", help="forget a source; its papers leave the index unless "
                                                      "another source holds them")
    source_remove.add_argument("name")
    sources.set_defaults(run=cmd_sources)

    sync = commands.add_parser("sync", help="bring the index in step with its sources (or one of them)")
    sync.add_argument("name", nargs="?", help="one source's name (default: all)")
    sync.set_defaults(run=cmd_sync)

    stats = commands.add_parser("stats", help="how many papers, where, how big")
    stats.set_defaults(run=cmd_stats)

    semantic = commands.add_parser("semantic", help="search by meaning: how far the papers are embedded, embed "
                                                    "them now, or download the model")
    semantic.add_argument("action", choices=("status", "embed", "download"),
                          help="status; embed what is missing now (with progress); download the model from the "
                               "model hub into the cache (not needed with the [semantic] extra)")
    semantic.set_defaults(run=cmd_semantic)

    rebuild = commands.add_parser("rebuild", help="re-create the index from the papers it stores")
    rebuild.set_defaults(run=cmd_rebuild)
    return main


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `jupyter-papers search ... | head`: the reader has gone, as Unix tools expect
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK


def _main(argv: list[str] | None) -> int:
    arguments = parser()
    try:
        args = arguments.parse_args(argv)
    except SystemExit as exit:
        return BAD_INPUT if exit.code else OK
    location = index_location(args.index)
    try:
        if args.run is cmd_rebuild and not is_remote(location):
            return cmd_rebuild(location, args)
        import jupyter_papers

        index = jupyter_papers.open_index(location)
        with index:
            return args.run(index, args)
    except BrokenPipeError:
        raise
    except (UsageError, UnknownStyleError, BibliographyError, NotebookError, EngineError, IndexBrokenError,
            WorkerFailed, SourceError, ZoteroError, ExportError, ModelUnavailable, TimeoutError, OSError) as error:
        print(f"jupyter-papers: {error}", file=sys.stderr)
        return BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
