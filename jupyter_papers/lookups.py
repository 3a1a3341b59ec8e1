"""Any paper, not only the index's: an identifier looked up online and kept as a paper of
the "looked-up" source, and results of the scholarly web for a query the index answers
poorly. The one place the front ends (sidebar, `[@` completion, %papers, the CLI) go for
this; sources/online.py speaks to the services.
"""

from __future__ import annotations

from .paper import Paper
from .sources.identifiers import recognise
from .sources.online import Online, OnlineError, OnlineSettings

__all__ = ["OnlineError", "OnlineSettings", "add_identifier", "look_up", "online_results"]


def look_up(text: str, settings: OnlineSettings | None = None) -> Paper:
    """The paper an identifier (DOI, arXiv id, PMID, ISBN, or their URLs) names, from the
    service that answers for it; not added to any index."""
    identifier = recognise(text)
    if identifier is None:
        raise OnlineError(f"{text!r} is not a DOI, arXiv id, PubMed id or ISBN")
    with Online(settings or OnlineSettings.from_environment()) as online:
        return online.lookup(identifier)


def add_identifier(index, text: str, settings: OnlineSettings | None = None) -> Paper:
    """The index's paper for the identifier: the one it holds, else the paper looked up
    online, added as a paper of the "looked-up" source (with the key the usual rules give)."""
    held = index.get(text)
    if held is not None:
        return held
    paper = look_up(text, settings)
    index.sources.add_looked_up(paper)
    added = next((index.get(i) for i in (paper.doi, paper.arxiv_id, paper.id) if i and index.get(i)), None)
    if added is None:
        raise OnlineError(f"{text} was looked up but could not be added to the index")
    return added


def online_results(index, query: str, local: list[Paper], limit: int,
                   settings: OnlineSettings | None = None) -> list[Paper]:
    """What the web adds to a page of local results: the paper an identifier names (when
    the index lacks it), or, with online search on and fewer local results than a page,
    Crossref's and arXiv's matches, less the papers the index holds (same DOI or arXiv id)."""
    settings = settings or OnlineSettings.from_environment()
    if settings.mode == "off":
        return []
    identifier = recognise(query)
    if identifier is not None:
        if index.get(query) is not None:
            return []
        with Online(settings) as online:
            return [online.lookup(identifier)]
    if settings.mode != "search" or len(local) >= limit or len(query.split()) < 2:
        return []
    with Online(settings) as online:
        found = online.search(query, limit)
    return [paper for paper in found
            if not any(index.get(i) for i in (paper.doi, paper.arxiv_id) if i)][: limit - len(local)]
