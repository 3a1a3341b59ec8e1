"""How a search step finds and ranks papers: a time-limited collector over the year range,
the whole query's scores for a step's candidates (skipping to each, not scoring every
match), phrase bonuses from the candidates' positions, year facets, and the terms to mark.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from whoosh import query as wq, sorting
from whoosh.searching import TimeLimit

from .collect import BoundedCollector, YearColumns

SEARCH_TIME_LIMIT = 5.0
MAX_HIGHLIGHT_EXPANSION = 200


@dataclass
class Ranked:
    """A search's candidates in the order its steps found them; how many papers the last
    step matched (a lower bound when not ``exact``); year counts when asked for."""

    hits: list[tuple[float, int]] = field(default_factory=list)
    total: int = 0
    facets: dict[str, dict[int, int]] = field(default_factory=dict)
    truncated: bool = False
    exact: bool = True


def rank_steps(searcher, plan, wanted: int, candidates: int, with_facets: bool, years, columns) -> Ranked:
    """Widen step by step until ``wanted`` are found (Plan.steps: titles and authors first,
    a tenth of the postings). Each step matches a superset of the one before; hits keep
    the order in which the steps found them, so pages do not shuffle. A step ranks its
    best candidates by the whole query, so abstracts still count among title matches."""
    ranked = Ranked()
    seen: set[int] = set()
    for step in plan.steps(short_first=not with_facets):
        found, cut = timed_search(searcher, step.finding, candidates, years, year_groups(with_facets), columns)
        ranked.truncated = ranked.truncated or cut
        hits = [(hit.score or 0.0, hit.docnum) for hit in found if hit.docnum not in seen]
        docnums = [docnum for _, docnum in hits]
        if step.ranking is not None:
            better = scores(searcher, step.ranking, docnums)
            hits = [(better.get(docnum, score), docnum) for score, docnum in hits]
        if plan.phrases:
            bonus = phrase_scores(searcher, plan.phrases, docnums)
            hits = [(score + bonus.get(docnum, 0.0), docnum) for score, docnum in hits]
        ranked.hits += sorted(hits, key=lambda hit: -hit[0])
        seen.update(docnums)
        ranked.facets = facets(found, with_facets)
        # Whoosh drops subqueries that can no longer reach the top hits, so past the
        # collected number its count is only a lower bound (without facets)
        ranked.exact = step.counts_all and (with_facets or len(found) < candidates)
        ranked.total = len(found) if ranked.exact else max(len(found), found.estimated_min_length())
        if len(ranked.hits) >= wanted:
            break
    return ranked


def scores(searcher, q: wq.Query, docnums: list[int]) -> dict[int, float]:
    """The scores ``q`` gives these documents, skipping to each one rather than scoring
    every match: ranking 50 candidates by their abstracts costs little, finding them that
    way costs much."""
    scores: dict[int, float] = {}
    context = searcher.context()
    for leaf, offset, local in by_segment(searcher, docnums):
        matcher = q.matcher(leaf, context)
        for docnum in local:
            if at(matcher, docnum):
                scores[docnum + offset] = matcher.score()
    return scores


def phrase_scores(searcher, phrases: list[wq.Phrase], docnums: list[int]) -> dict[int, float]:
    """What the phrases add to these documents' scores (as Whoosh scores a phrase: its
    boost times its words' scores), looking at the positions of the candidates only.
    Whoosh's phrase matcher checks positions in every document holding all the words, and
    finding the next candidate among common word pairs cost most of a query's time."""
    bonus: dict[int, float] = {}
    context = searcher.context()
    for leaf, offset, local in by_segment(searcher, docnums):
        for phrase in phrases:
            words = [wq.Term(phrase.fieldname, word).matcher(leaf, context) for word in phrase.words]
            for docnum in local:
                if not all(at(matcher, docnum) for matcher in words):
                    continue
                starts = set(words[0].value_as("positions"))
                for distance, matcher in enumerate(words[1:], 1):
                    starts.intersection_update(p - distance for p in matcher.value_as("positions"))
                if starts:
                    score = phrase.boost * sum(matcher.score() for matcher in words)
                    bonus[docnum + offset] = bonus.get(docnum + offset, 0.0) + score
    return bonus


def at(matcher, docnum: int) -> bool:
    """Moves the matcher to the document; whether the document matches."""
    if matcher.is_active() and matcher.id() < docnum:
        matcher.skip_to(docnum)
    return matcher.is_active() and matcher.id() == docnum


def by_segment(searcher, docnums: list[int]):
    """(leaf searcher, its offset, its documents in order) for the segments holding some."""
    wanted = sorted(docnums)
    for leaf, offset in searcher.leaf_searchers():
        end = offset + leaf.doc_count_all()
        local = [docnum - offset for docnum in wanted if offset <= docnum < end]
        if local:
            yield leaf, offset, local


def year_groups(wanted: bool) -> dict | None:
    return {"year": sorting.FieldFacet("year", maptype=sorting.Count)} if wanted else None


def facets(results, wanted: bool) -> dict[str, dict[int, int]]:
    if not wanted:
        return {}
    counts = results.groups("year")
    return {"year": {int(year): n for year, n in sorted(counts.items(), key=lambda kv: -(kv[0] or 0))
                     if year}}  # 0: no year


def timed_search(searcher, q, limit, years, groups, columns: YearColumns, sortedby=None):
    """Search with a time limit; a search cut short returns what it found so far. Years
    are checked per match from the year column (Whoosh's NumericRange on our 16-bit year
    matched every paper for ranges starting low, such as "up to 2023")."""
    # optimize=False: whoosh's block-quality skipping trips an assertion in its AND-NOT
    # matcher on some of our queries, and measured no faster (158k papers).
    collector = searcher.collector(limit=limit, groupedby=groups, optimize=False, sortedby=sortedby)
    bounded = BoundedCollector(collector, SEARCH_TIME_LIMIT, years, columns)
    truncated = False
    try:
        searcher.search_with_collector(q, bounded)
    except TimeLimit:
        truncated = True
    return bounded.results(), truncated


def terms_by_field(plan, searcher) -> dict[str, set[str]]:
    """The words to mark, by field: the query's terms, with wildcards expanded (bounded)."""
    query = plan.parsed if plan.parsed is not None else wq.Or(plan.words)
    found = set(query.all_terms(phrases=True))
    for leaf in query.leaves():
        if isinstance(leaf, wq.PatternQuery):
            found.update(itertools.islice(leaf.expanded_terms(searcher.reader()), MAX_HIGHLIGHT_EXPANSION))
    terms: dict[str, set[str]] = {}
    for fieldname, text in found:
        terms.setdefault(fieldname, set()).add(text.decode("utf-8") if isinstance(text, bytes) else text)
    return terms
