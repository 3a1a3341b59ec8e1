"""The %papers line magic: search, cite, insert abstracts and index files from a cell."""

from __future__ import annotations

import json
import os
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import Markdown, display
from traitlets import Unicode

from .. import open_index, read_papers, write_bibliography
from ..config import index_location
from ..citations.bibfile import DIALECTS
from ..citations.cite import BibliographyError, UnknownStyleError, abstract_cell, cite, inline_citation
from ..citations.csl import EngineError
from ..citations.references import reference_list
from ..index import PaperIndex, WorkerFailed
from ..question import parse_year_range
from ..lookups import OnlineError, look_up
from ..meaning import ASKED
from ..paper import Paper
from ..results import IndexBrokenError, SearchResults
from ..sources import UnknownFormatError
from ..sources.identifiers import recognise
from ..sources.registry import SourceError
from ..sources.zotero import ZoteroError
from .bridge import Bridge


class PanelResults(SearchResults):
    """Search results that show as the interactive panel (with a static HTML fallback),
    and stay a plain results object when assigned: ``r = %papers rope``."""

    panel_factory = None

    def _ipython_display_(self):
        panel = self.panel_factory(self.query)
        bundle = panel._repr_mimebundle_() or {}
        bundle["text/html"] = self._repr_html_()
        display(bundle, raw=True)


def _years(text: str | None) -> tuple[int | None, int | None]:
    try:
        return parse_year_range(text)
    except ValueError as error:
        raise UsageError(f"%papers --year: {error}") from None


@magics_class
class PapersMagics(Magics):
    location = Unicode("", help="The index every %papers of this kernel searches until --index "
                       "names another: a folder, or opensearch://host:9200/papers; when empty, "
                       "JUPYTER_PAPERS_INDEX, else the default folder").tag(config=True)

    def __init__(self, shell):
        super().__init__(shell)
        self.bridge = Bridge(shell)
        self.bridge.connect()
        self._index: PaperIndex | None = None

    @property
    def index(self) -> PaperIndex:
        if self._index is None:
            self._index = open_index(index_location(self.location))
        return self._index

    def panel(self, query: str = "", **options):
        from .widget import SearchPanel

        return SearchPanel(self.index, self.bridge, query=query, **options)

    @magic_arguments()
    @argument("query", nargs="*", help="words to search, or a paper id (arXiv id, DOI, citation key)")
    @argument("--for", dest="passage", metavar="TEXT",
              help='papers for a claim or passage you are writing: --for "RoPE fails past its training length"')
    @argument("--cite", action="store_true", help="insert a citation cell for the best match below this cell")
    @argument("--abstract", action="store_true", help="insert an abstract cell for the best match below this cell")
    @argument("--inline", action="store_true",
              help="return the inline citation of the best match (see --format); several works: QUERY; QUERY")
    @argument("--narrative", action="store_true", help="with --inline: \"Wang et al. (2024)\", not \"(Wang et al., 2024)\"")
    @argument("--locator", help='with --inline: where in the work, e.g. "p. 33" (for the first work)')
    @argument("--style", default="apa", help="apa, ieee, chicago, harvard, mla, bibtex, a CSL style name or FILE.csl")
    @argument("--format", default="pandoc", choices=["pandoc", "myst", "latex"], help="inline citation form")
    @argument("--bibliography", action="store_true",
              help="write this notebook's References cell: every paper its Markdown cells cite (in --style)")
    @argument("--add", metavar="FILE", help="index a BibTeX, CSL-JSON or JSON Lines file")
    @argument("--sources", nargs="*", metavar="ARG",
              help="the sources kept in step: list them (no ARG), `add PATH`, `add zotero`, `sync [NAME]`, "
                   "`remove NAME`")
    @argument("--index", metavar="DIR", help="use the index in DIR (or opensearch://host:9200/papers) from now on")
    @argument("--bib", metavar="PATH", help="also append what is cited to this .bib file")
    @argument("--bib-format", choices=DIALECTS, help="that file's dialect, bibtex or biblatex (default: its own)")
    @argument("--limit", type=int, default=10, help="results per page")
    @argument("--year", help="YEAR, FROM..TO, FROM.. or ..TO")
    @argument("--meaning", choices=["auto", "on", "off"], default="auto",
              help="re-rank the best word matches by meaning too: for sentences and --for (auto), always, or never")
    @argument("--embed", action="store_true",
              help="embed the papers that have no vector yet, now, with a progress bar (search by meaning)")
    @argument("--in", dest="scope", choices=["all", "fulltext", "metadata"], default="all",
              help="where to look: everywhere, the PDFs' pages only (as in:fulltext), or titles and abstracts only")
    @line_magic
    def papers(self, line: str):
        """Search and cite papers. ``%papers`` opens the search panel, ``%papers QUERY``
        opens it with QUERY's results (``r = %papers QUERY`` keeps them as an object)."""
        try:
            args = parse_argstring(self.papers, line)
        except UsageError as error:
            raise UsageError(f"%papers: {error}. See %papers?") from None
        try:
            return self._run(args)
        except (IndexBrokenError, UnknownStyleError, UnknownFormatError, BibliographyError, EngineError,
                WorkerFailed, SourceError, ZoteroError, TimeoutError, OSError) as error:
            print(f"%papers: {error}")
            return None

    def _run(self, args):
        if args.index:
            self._index = open_index(index_location(args.index))
        if args.add:
            return self._add(args.add)
        if args.sources is not None:
            return self._sources(args.sources)
        if args.embed:
            return self._embed()
        if args.bibliography:
            return self._bibliography("apa" if args.style == "bibtex" else args.style)
        query = (args.passage or " ".join(args.query)).strip().strip("\"'")
        if args.cite or args.abstract or args.inline:
            return self._act(args, query)
        if not query:
            display(self.panel(limit=args.limit, style=args.style, inline_format=args.format))
            return None
        year_from, year_to = _years(args.year)
        results = self.index.search(query, limit=args.limit, year_from=year_from, year_to=year_to, prefix=False,
                                    sentence=True if args.passage else None, scope=args.scope,
                                    meaning=ASKED[args.meaning])
        if not results.hits and recognise(query) is not None:
            return self._online(query)
        if not results.hits:
            print(f"%papers: no papers found for {query!r}"
                  + (f"; did you mean {results.suggestion!r}?" if results.suggestion else ""))
            return None
        shown = PanelResults(**{f: getattr(results, f) for f in results.__dataclass_fields__})
        cell_id = self.bridge.current_cell_id()
        shown.panel_factory = lambda q: self.panel(q, limit=args.limit, style=args.style,
                                                   inline_format=args.format, cell_id=cell_id)
        return shown

    def _online(self, query: str):
        """What the web has for an identifier the index lacks, shown, not added yet."""
        try:
            paper = look_up(query)
        except OnlineError as error:
            print(f"%papers: not in the index, and {error}")
            return None
        print(f"%papers: not in the index; online: {paper.display_title} ({', '.join(map(str, paper.authors[:3]))}"
              f"{', ' + str(paper.year) if paper.year else ''}). `%papers --cite {query}` adds and cites it.")
        return None

    def _best(self, query: str) -> Paper | None:
        if not query:
            raise UsageError("%papers: give a query or a paper id to cite")
        paper = self.index.find(query)
        if paper is None and recognise(query) is not None:
            try:  # a DOI, arXiv id, pmid:… or isbn:… the index lacks: looked up, and kept
                paper = self.index.add_identifier(query)
                print(f"%papers: looked up {query} online and added it to the index (source looked-up)")
            except OnlineError as error:
                print(f"%papers: {error}")
                return None
        if paper is None:
            print(f"%papers: no papers found for {query!r}")
        return paper

    def _act(self, args, query: str):
        paper = self._best(query.split(";")[0].strip() if args.inline else query)
        if paper is None:
            return None
        if paper.guessed:
            print(f"%papers: the metadata of {paper.key} was guessed from its PDF ({paper.guessed}: "
                  f"{paper.display_title!r}); check the reference, or add a record of the paper to replace the guess")
        key = paper.key
        if args.bib:
            key = write_bibliography([paper], args.bib, dialect=args.bib_format).keys[paper.id]
            paper.key = key
        if args.inline:
            papers = [paper] + [p for p in map(self._best, query.split(";")[1:]) if p is not None]
            return inline_citation(papers, args.format, args.narrative, {paper.id: (args.locator or "").strip("\"'")})
        cell_id = self.bridge.current_cell_id()
        if args.cite:
            self.bridge.insert_cell(cite(paper, args.style, "markdown"), after_cell_id=cell_id, role="cite")
            print(f"%papers: cited {paper.display_title!r} ({args.style}, key {key})")
        if args.abstract:
            self.bridge.insert_cell(abstract_cell(paper), after_cell_id=cell_id, role="abstract")
            print(f"%papers: inserted the abstract of {paper.display_title!r}")
        return None

    def _bibliography(self, style: str):
        """In JupyterLab the lab writes the References cell from the notebook as it is now;
        elsewhere the saved notebook's reference list is shown below (JupyterLab and
        jupyter_server name the notebook of a kernel in JPY_SESSION_NAME)."""
        if self.bridge.request("update_references", style=style):
            print("%papers: updating the notebook's References cell")
            return None
        notebook = Path(os.environ.get("JPY_SESSION_NAME", ""))
        if notebook.suffix != ".ipynb" or not notebook.is_file():
            print("%papers --bibliography: this frontend does not say which notebook this is; "
                  "run `jupyter-papers bibliography NOTEBOOK.ipynb` instead")
            return None
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        references = reference_list(cells, self.index.get, style)
        display(Markdown(references.markdown))
        return None

    def _sources(self, words: list[str]):
        """``%papers --sources [add PATH | add zotero | sync [NAME] | remove NAME]``."""
        sources = self.index.sources
        action, rest = (words[0], words[1:]) if words else ("list", [])
        if action == "add" and rest == ["zotero"]:
            _sources_said(sources.add_zotero())
        elif action == "add" and len(rest) == 1:
            _sources_said(sources.add(Path(rest[0]).expanduser()))
        elif action == "sync" and len(rest) <= 1:
            for report in sources.sync(rest[0] if rest else None):
                _sources_said(report)
        elif action == "remove" and len(rest) == 1:
            print(f"%papers: removed the source {rest[0]}: {sources.remove(rest[0])} papers left the index")
        elif action == "list" and not rest:
            states = sources.list()
            print("%papers: no sources; add one with %papers --sources add PATH" if not states else "\n".join(
                f"{s.name}: {s.kind}, {len(s.papers)} papers, {'missing' if s.missing else 'ok'}"
                f"{f', {len(s.problems)} problems' if s.problems else ''}, {s.path}" for s in states))
        else:
            raise UsageError("%papers --sources: list (nothing), add PATH, add zotero, sync [NAME] or remove NAME")
        return None

    def _embed(self):
        status = self.index.meaning_status()
        if status["state"] == "unavailable":
            print(f"%papers: {status['message']}")
            return None
        encoded = self.index.embed(progress=True)
        status = self.index.meaning_status()
        print(f"%papers: meaning: {encoded:,} papers embedded now; {status['embedded']:,} of {status['papers']:,} "
              "papers have a vector")
        return None

    def _add(self, name: str):
        path = Path(name).expanduser()
        if not path.is_file():
            print(f"%papers: no such file: {name}")
            return None
        report = self.index.add(read_papers(path))
        print(f"%papers: {path.name}: {report}")
        for problem in report.skipped:
            print(f"  skipped {problem}")
        return None


def _sources_said(report) -> None:
    print(f"%papers: {report}")
    for problem in report.problems[:20]:
        print(f"  {problem}")


def register(ipython) -> PapersMagics:
    magics = PapersMagics(ipython)
    ipython.register_magics(magics)
    return magics
