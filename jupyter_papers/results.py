"""What an index answers: a search's hits with escaped highlights, totals, a suggestion and
year facets; an import's report; the error of an index that cannot be read."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .paper import Paper
from .sources import Problem


@dataclass
class Hit:
    paper: Paper
    score: float
    highlights: dict[str, str] = field(default_factory=dict)
    # the best pages of its PDF for the query: {"page": n (0: a text without page numbers), "snippet": html}
    pages: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"paper": self.paper.to_dict(), "score": self.score, "highlights": self.highlights,
                "pages": self.pages}


def page_label(page: dict) -> str:
    """"p. 7", or "in the text" for a text without page numbers."""
    return f"p. {page['page']}" if page.get("page") else "in the text"


@dataclass
class SearchResults:
    """One page of hits. ``total`` counts every match, or with ``total_exact`` False is a
    lower bound (counting every match of a common word costs more than finding the best).
    ``truncated`` is True when a time limit cut the search short, so the page may miss
    better matches."""

    query: str
    hits: list[Hit]
    total: int
    offset: int = 0
    limit: int = 10
    suggestion: str | None = None
    facets: dict[str, dict[int, int]] = field(default_factory=dict)
    truncated: bool = False
    total_exact: bool = True
    meaning: dict | None = None  # re-ranked by meaning too: {"embedded", "papers"} it could use

    def __iter__(self):
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, index):
        return self.hits[index]

    @property
    def meaning_label(self) -> str:
        """How the page used meaning, as the front ends say it ("" for words alone)."""
        if not self.meaning:
            return ""
        embedded, papers = self.meaning["embedded"], self.meaning["papers"]
        if embedded >= papers:
            return "by words and meaning"
        return f"by words and meaning: {embedded:,} of {papers:,} papers embedded so far"

    @property
    def total_label(self) -> str:
        """The total as a person reads it: "6,150+" when it is a lower bound."""
        return f"{self.total:,}" + ("" if self.total_exact else "+")

    @property
    def papers(self) -> list[Paper]:
        return [hit.paper for hit in self.hits]

    def to_dict(self) -> dict:
        return {
            "query": self.query, "total": self.total, "offset": self.offset, "limit": self.limit,
            "suggestion": self.suggestion, "truncated": self.truncated, "total_exact": self.total_exact,
            "facets": {name: {str(k): v for k, v in counts.items()} for name, counts in self.facets.items()},
            "hits": [hit.to_dict() for hit in self.hits], "meaning": self.meaning,
        }

    def to_dataframe(self):
        """The page as a pandas DataFrame (pandas is optional)."""
        import pandas as pd

        return pd.DataFrame([{
            "id": h.paper.id, "title": h.paper.display_title, "authors": ", ".join(h.paper.authors),
            "year": h.paper.year, "venue": h.paper.venue, "score": h.score,
        } for h in self.hits])

    def _repr_html_(self) -> str:
        rows = []
        for hit in self.hits:
            paper = hit.paper
            meta = " · ".join(html.escape(str(part)) for part in (
                ", ".join(paper.authors[:4]) + (" et al." if len(paper.authors) > 4 else ""),
                paper.year or "", paper.venue, paper.id) if part)
            rows.append(
                f"<li><div><b>{hit.highlights.get('title') or html.escape(paper.display_title)}</b></div>"
                f"<div style='opacity:.75'>{meta}</div>"
                f"<div>{hit.highlights.get('abstract', '')}</div>"
                + "".join(f"<div style='opacity:.85'>{page_label(page)}: {page['snippet']}</div>" for page in hit.pages)
                + "</li>"
            )
        header = f"{self.offset + 1}–{self.offset + len(self.hits)} of {self.total_label} for {html.escape(self.query)!s}"
        if not self.hits:
            header = f"No papers found for {html.escape(self.query)}"
        if self.suggestion:
            header += f" · did you mean <i>{html.escape(self.suggestion)}</i>?"
        if self.meaning:
            header += f" · {self.meaning_label}"
        return f"<div class='jp-papers-results'><p>{header}</p><ol start='{self.offset + 1}'>{''.join(rows)}</ol></div>"


class IndexBrokenError(RuntimeError):
    """The index on disk cannot be read; the message says how to rebuild it."""


@dataclass
class AddReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # records folded into a paper the index held: what changed
    held: dict[str, str] = field(default_factory=dict)  # id a record came with -> id of its paper in the index
    fulltext: list[Problem] = field(default_factory=list)  # PDFs whose text could not be read
    attached: list[Paper] = field(default_factory=list, repr=False)  # papers with a PDF, or that had one

    @property
    def changed(self) -> int:
        return self.added + self.updated

    def __str__(self) -> str:
        return (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"skipped {len(self.skipped)}")
