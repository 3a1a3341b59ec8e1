"""The search engines behind the paper index: ``whoosh/`` is the embedded default
(``jupyter_papers.index.PaperIndex``), ``opensearch.py`` a cluster's index. Both are a
``Library``; front ends never import a backend, they call ``jupyter_papers.open_index``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..paper import Paper
    from ..results import AddReport, SearchResults


@runtime_checkable
class Library(Protocol):
    """What every front end may ask of a paper index, whichever engine holds it. The
    behaviour behind each method is specified by tests/test_backends.py, run on both."""

    path: Path  # a folder of this index's own (the list of its sources, caches)

    def add(self, papers: Iterable[Paper], progress: bool = False, procs: int = 1,
            edits: bool = False) -> AddReport: ...

    def remove(self, identifier: str) -> bool: ...

    def get(self, identifier: str) -> Paper | None: ...

    def find(self, identifier_or_query: str) -> Paper | None: ...

    def add_identifier(self, identifier: str, settings=None) -> Paper: ...

    def search(self, query: str = "", limit: int = 10, offset: int = 0, year_from: int | None = None,
               year_to: int | None = None, prefix: bool | None = None, highlights: bool = True,
               facets: bool = False, sentence: bool | None = None, scope: str | None = None,
               meaning: bool | None = None) -> SearchResults: ...

    def more_like(self, identifier: str, limit: int = 5, meaning: bool | None = None) -> SearchResults: ...

    def papers(self) -> Iterator[Paper]: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Paper]: ...

    @property
    def sources(self): ...

    def rebuild(self) -> int: ...

    def meaning_status(self) -> dict: ...

    def embed(self, progress: bool = False) -> int: ...

    def embed_later(self, asked: bool = False) -> bool: ...

    def fulltext_records(self) -> dict[str, dict]: ...

    def index_fulltext(self, papers: Iterable[Paper] | None = None, procs: int = 2,
                       progress: bool = False) -> list: ...

    def close(self) -> None: ...
