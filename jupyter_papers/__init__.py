"""Find a paper and cite it without leaving the notebook.

The public API: ``open_index``, ``read_papers``, ``cite``, ``abstract_cell``,
``write_bibliography``, and the records they pass around.
"""

from __future__ import annotations

from pathlib import Path

from .citations.cite import STYLES, abstract_cell, bibtex_entry, cite, write_bibliography
from .paper import Name, Paper
from .backends import Library
from .config import bundled_corpus, default_index_dir, index_location, is_remote
from .index import PaperIndex

from .results import AddReport, Hit, IndexBrokenError, SearchResults
from .citations.references import Citation, ReferenceList, find_citations
from .sources import Problem, read_papers

__version__ = "0.1.0"

__all__ = [
    "AddReport", "Hit", "IndexBrokenError", "Library", "Name", "Paper", "PaperIndex", "Problem", "STYLES", "SearchResults",
    "Citation", "ReferenceList", "abstract_cell", "bibliography", "bibtex_entry", "cite", "find_citations",
    "open_index", "read_papers", "write_bibliography",
]


def open_index(path: str | Path | None = None) -> Library:
    """The index at ``path`` (created empty if missing), or the default one, which is built
    from the bundled demo corpus the first time it is opened (``JUPYTER_PAPERS_INDEX`` names
    another). ``opensearch://host:9200/papers`` is an OpenSearch cluster's index instead
    (the ``[opensearch]`` extra)."""
    path = index_location() if path is None else path
    if is_remote(path):
        from .backends.opensearch import OpenSearchIndex

        return OpenSearchIndex(str(path))
    if Path(path) != default_index_dir():
        return PaperIndex(path)
    index = PaperIndex(default_index_dir())
    if len(index) == 0:
        index.add(read_papers(bundled_corpus()))
    return index



def bibliography(notebook: str | Path, style: str = "apa", bib: str | Path | None = None,
                 index: PaperIndex | None = None, dialect: str | None = None) -> ReferenceList:
    """Write the reference list cell of a saved notebook (every citation in its Markdown
    cells, in ``style``) and, with ``bib``, the cited papers into that .bib file (BibTeX or
    biblatex: ``dialect``, by default the file's own)."""
    from .citations.references import bibliography as write_references

    return write_references(notebook, index or open_index(), style, bib, dialect)


def load_ipython_extension(ipython):
    """``%load_ext jupyter_papers`` registers the %papers magic."""
    from .kernel.magic import register

    register(ipython)
