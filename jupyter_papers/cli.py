"""The ``jupyter-papers`` command (also ``jupyter papers``).

Exit codes: 0 ok, 1 nothing found, 2 bad usage or input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import bundled_corpus, cite, read_papers, write_bibliography
from .cite import BibliographyError, UnknownStyleError
from .csl import EngineError
from .config import default_index_dir
from .index import IndexBrokenError
from .rebuild import rebuild_index
from .query import parse_year_range
from .sources import UnknownFormatError

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


def cmd_add(index, args) -> int:
    status = OK
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"{name}: no such file", file=sys.stderr)
            status = BAD_INPUT
            continue
        try:
            reading = read_papers(path, format=args.format)
            report = index.add(reading, progress=True, procs=os.cpu_count() or 1)
        except UnknownFormatError as error:
            print(f"{name}: {error}", file=sys.stderr)
            status = BAD_INPUT
            continue
        print(f"{name}: {report}")
        for problem in report.skipped:
            print(f"  skipped {problem}")
    return status


def cmd_search(index, args) -> int:
    year_from, year_to = _years(args.year)
    results = index.search(args.query, limit=args.limit, offset=args.offset, year_from=year_from,
                           year_to=year_to, prefix=False)
    if args.json:
        print(json.dumps(results.to_dict(), ensure_ascii=False, indent=1))
        return OK if results.hits else NOT_FOUND
    if results.suggestion:
        print(f"did you mean: {results.suggestion}")
    if not results.hits:
        print(f"no papers found for {args.query!r}", file=sys.stderr)
        return NOT_FOUND
    color = sys.stdout.isatty()
    print(f"{results.offset + 1}-{results.offset + len(results)} of {results.total_label}")
    for rank, hit in enumerate(results, results.offset + 1):
        paper = hit.paper
        meta = ", ".join(str(x) for x in (paper.year, paper.venue) if x)
        print(f"{rank:>3}. {_bold_marks(hit.highlights.get('title', paper.title), color)}"
              + (f" ({meta})" if meta else ""))
        print(f"     id: {paper.id}   key: {paper.key}")
        print(f"     {_bold_marks(hit.highlights.get('abstract', ''), color)}")
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
    for name, value in paper.to_dict().items():
        if value not in ("", None, [], {}):
            print(f"{name:>10}: {', '.join(value) if isinstance(value, list) else value}")
    return OK


def cmd_cite(index, args) -> int:
    paper = _paper_or_exit(index, args.id)
    if paper is None:
        return NOT_FOUND
    print(cite(paper, style=args.style))
    return OK


def cmd_bib(index, args) -> int:
    papers = []
    for identifier in args.ids:
        paper = _paper_or_exit(index, identifier)
        if paper is None:
            return NOT_FOUND
        papers.append(paper)
    report = write_bibliography(papers, args.output)
    print(f"{report.path}: added {len(report.added)} ({', '.join(report.added) or '-'}), "
          f"already there {len(report.present)}")
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
    return OK


def cmd_rebuild(path: Path, args) -> int:
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
    main.add_argument("--index", metavar="DIR", help="index folder (default: %(default)s)",
                      default=str(default_index_dir()))
    commands = main.add_subparsers(dest="command", required=True)

    add = commands.add_parser("add", help="index papers from BibTeX, CSL-JSON, JSON Lines, arXiv files")
    add.add_argument("files", nargs="+")
    add.add_argument("--format", choices=["bibtex", "csljson", "jsonl", "arxiv-atom", "listing"])
    add.set_defaults(run=cmd_add)

    search = commands.add_parser("search", help="search the index")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--offset", type=int, default=0)
    search.add_argument("--year", help="YEAR, FROM..TO, FROM.. or ..TO")
    search.add_argument("--json", action="store_true")
    search.set_defaults(run=cmd_search)

    show = commands.add_parser("show", help="show one paper (id, arXiv id, DOI, key or a query)")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_show)

    cite_cmd = commands.add_parser("cite", help="print a citation")
    cite_cmd.add_argument("id")
    cite_cmd.add_argument("--style", default="apa",
                          help="apa, ieee, chicago, harvard, bibtex, pandoc, myst, latex, a CSL name or .csl file")
    cite_cmd.set_defaults(run=cmd_cite)

    bib = commands.add_parser("bib", help="add papers to a .bib file")
    bib.add_argument("ids", nargs="+")
    bib.add_argument("-o", "--output", default="references.bib")
    bib.set_defaults(run=cmd_bib)

    stats = commands.add_parser("stats", help="how many papers, where, how big")
    stats.set_defaults(run=cmd_stats)

    rebuild = commands.add_parser("rebuild", help="re-create the index from the papers it stores")
    rebuild.set_defaults(run=cmd_rebuild)
    return main


def main(argv: list[str] | None = None) -> int:
    arguments = parser()
    try:
        args = arguments.parse_args(argv)
    except SystemExit as exit:
        return BAD_INPUT if exit.code else OK
    path = Path(args.index).expanduser()
    try:
        if args.run is cmd_rebuild:
            return cmd_rebuild(path, args)
        import jupyter_papers

        index = jupyter_papers.open_index(None if path == default_index_dir() else path)
        with index:
            return args.run(index, args)
    except (UsageError, UnknownStyleError, BibliographyError, EngineError, IndexBrokenError, TimeoutError,
            OSError) as error:
        print(f"jupyter-papers: {error}", file=sys.stderr)
        return BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
