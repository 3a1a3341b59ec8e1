"""Plain words, and the query language's terms, searched a posting list at a time with
numpy.

Whoosh finds a plan's matches through a tree of matchers, one call per posting per word
and field, and the last word of a search box stands for up to eight completions in four
fields: three title words took 255 ms at p95 over 158k papers, 3.5x SQLite FTS5. Here
each term's posting list is read once per index snapshot (postings.PostingCache), and
its BM25F scores are added into one array per segment: the cost is a few numpy
operations per term, whatever the words' frequencies. Scores are Whoosh's own
(analysis.PaperBM25F; the query language's coordination bonus for matching more of an
OR's words is left out), so the ranking is the one Whoosh's path gives; plain words widen
as Plan.steps does (every word in the short fields, every word anywhere, two of three, any).
Quoted phrases are searched here too: their words' lists intersected, then the positions
of every candidate compared at once (postings.PostingCache.side_by_side; long lists keep
their positions in the segment's arrays, arrays.py). Whoosh's phrase matcher decoded each
candidate's positions from its block, 29 ms at p50 for a phrase at 158k papers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from whoosh import query as wq

from .analysis import FIELD_WEIGHTS, SHORT_FIELDS, PaperBM25F
from .collect import shown_papers
from .postings import cached_postings
from .query import Plan, widening
from .ranking import Ranked

_BM25 = PaperBM25F()
K1, B = _BM25.K1, _BM25.B


class Leaf(NamedTuple):
    """Words a paper must all have in one field: one, a hyphenated word's ("fine-tuning"
    is title:fine title:tuning, side by side or not: side by side adds a bonus), or a
    quoted phrase's (``adjacent``: side by side, in order)."""

    fieldname: str
    words: tuple[str, ...]
    adjacent: bool = False


class Clauses(NamedTuple):
    """Each clause any of its leaves; ``need``: how many clauses a match has (None: plain
    words, widening from all of them to any)."""

    clauses: list[list[Leaf]]
    need: int | None


def clauses_of(plan: Plan) -> Clauses | None:
    """The plan as clauses of leaves; None for what only Whoosh's matchers search (NOT,
    ranges, boosts, phrases with slop)."""
    if plan.parsed is None:
        clauses = [_leaves(clause, phrases=True) for clause in plan.words]
        return None if None in clauses else Clauses(clauses, None)
    parts = plan.parsed.subqueries if isinstance(plan.parsed, wq.And) else [plan.parsed]
    clauses = [_leaves(part, phrases=False) for part in parts]
    return None if None in clauses or not clauses else Clauses(clauses, len(clauses))


def _leaves(q: wq.Query, phrases: bool) -> list[Leaf] | None:
    leaves = []
    for leaf in q.subqueries if isinstance(q, wq.Or) else [q]:
        if type(leaf) is wq.Term and leaf.boost == 1.0:
            leaves.append(Leaf(leaf.fieldname, (leaf.text,)))
        elif type(leaf) is wq.Phrase and phrases and leaf.words:
            leaves.append(Leaf(leaf.fieldname, tuple(leaf.words)))
        elif type(leaf) is wq.Phrase and not phrases and leaf.words and leaf.slop == 1 and leaf.boost == 1.0:
            leaves.append(Leaf(leaf.fieldname, tuple(leaf.words), adjacent=True))
        else:
            return None
    return leaves


def word_phrases(plan: Plan) -> list[wq.Phrase]:
    """The phrases inside plain word clauses (hyphenated words): where their words are
    side by side, a paper gets their score once more, as Whoosh gives it to those papers
    and not to others."""
    return [leaf for clause in plan.words for leaf in (clause.subqueries if isinstance(clause, wq.Or) else [clause])
            if type(leaf) is wq.Phrase]


class _Segment:
    """One segment's arrays for a plan: the whole query's score per paper, how many of its
    clauses each paper has (anywhere, and in the short fields), which papers may be shown."""

    def __init__(self, searcher, subsearcher, offset: int, clauses: list[list[Leaf]], memo: dict, years, columns,
                 lengths):
        self.reader = reader = subsearcher.reader()
        self.offset = offset
        count = reader.doc_count_all()
        self.score = np.zeros(count, dtype=np.float32)
        self.words = np.zeros(count, dtype=np.int16)  # a query has up to MAX_QUERY_WORDS
        self.short_words = np.zeros(count, dtype=np.int16)
        for leaves in clauses:
            anywhere = np.zeros(count, dtype=bool)
            short = np.zeros(count, dtype=bool)
            for leaf in leaves:
                ids, scores = self._scores(searcher, leaf, memo, lengths)
                self.score[ids] += scores
                anywhere[ids] = True
                if leaf.fieldname in SHORT_FIELDS:
                    short[ids] = True
            self.words += anywhere
            self.short_words += short
        self.valid = shown_papers(subsearcher, years, columns)
        self.years = np.frombuffer(columns.of(subsearcher), dtype=np.uint16)
        self.seen = np.zeros(count, dtype=bool)

    def _scores(self, searcher, leaf: Leaf, memo: dict, lengths) -> tuple[np.ndarray, np.ndarray]:
        """The papers having all the leaf's words in its field, and the BM25F sum of them."""
        cache = cached_postings(memo)
        lists = [cache.get(self.reader, leaf.fieldname, word) for word in leaf.words]
        ids = lists[0].ids
        for other in lists[1:]:
            ids = np.intersect1d(ids, other.ids, assume_unique=True)
        if leaf.adjacent:
            ids = cache.side_by_side(self.reader, leaf.fieldname, leaf.words, ids)
        scores = np.zeros(len(ids), dtype=np.float32)
        if not len(ids):
            return ids, scores
        norms = _norms(searcher, self.reader, leaf.fieldname, memo, lengths)[ids]
        for word, postings in zip(leaf.words, lists, strict=True):
            tf = postings.tf[np.searchsorted(postings.ids, ids)] if len(lists) > 1 else postings.tf
            scores += _weight(searcher, leaf.fieldname, word, memo) * tf / (tf + norms)
        return ids, scores

    def best(self, need: int, short: bool, candidates: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, document numbers) of the best papers not yet found with at least
        ``need`` clauses (in the short fields)."""
        words = self.short_words if short else self.words
        local = np.flatnonzero(self.valid & ~self.seen & (words >= need))
        if len(local) > candidates:
            local = local[np.argpartition(-self.score[local], candidates - 1)[:candidates]]
        return self.score[local], local + self.offset

    def side_by_side(self, phrase: wq.Phrase, docnums: list[int], cache) -> list[int]:
        """Those of these papers (of this segment) holding the phrase's words side by side."""
        local = np.array(sorted(docnum - self.offset for docnum in docnums), dtype=np.int32)
        for word in phrase.words:
            local = local[np.isin(local, cache.get(self.reader, phrase.fieldname, word).ids, assume_unique=True)]
        return [int(found) + self.offset for found in cache.side_by_side(self.reader, phrase.fieldname, phrase.words, local)]

    def matching(self, need: int) -> np.ndarray:
        return self.valid & (self.words >= need)


def _weight(searcher, fieldname: str, term: str, memo: dict) -> float:
    """The term's BM25F weight in the field: the field's weight, idf and K1 + 1."""
    found = memo.setdefault("weights", {})
    key = (fieldname, term)
    if key not in found:
        found[key] = FIELD_WEIGHTS.get(fieldname, 1.0) * _BM25.idf(searcher, fieldname, term) * (K1 + 1)
    return found[key]


def _norms(searcher, reader, fieldname: str, memo: dict, lengths) -> np.ndarray:
    """BM25's length normalisation of each paper's field, K1 included (per snapshot)."""
    norms = memo.setdefault("norms", {})
    key = (id(reader), fieldname)
    if key not in norms:
        average = searcher.avg_field_length(fieldname) or 1.0
        norms[key] = K1 * ((1 - B) + B * lengths.of(reader, fieldname) / average)
    return norms[key]


def rank(searcher, plan: Plan, clauses: Clauses, wanted: int, candidates: int, short_first: bool,
         with_facets: bool, years, columns, lengths, memo: dict) -> Ranked:
    """The plan's hits. Plain words widen step by step until ``wanted`` are found, each
    step ranking its best ``candidates`` (not yet found) by the whole query plus the
    phrase bonuses; the query language's clauses are found in the short fields first."""
    segments = [_Segment(searcher, subsearcher, offset, clauses.clauses, memo, years, columns, lengths)
                for subsearcher, offset in searcher.leaf_searchers()]
    ranked = Ranked()
    need = clauses.need or len(clauses.clauses)
    phrases = plan.phrases + word_phrases(plan)
    widened = widening(need, short_first) if clauses.need is None else [
        (need, short) for _, short in widening(1, short_first)]
    for need, short in widened:
        found = _best(segments, need, short, candidates)
        if phrases:
            bonus = _phrase_bonus(searcher, segments, phrases, [docnum for _, docnum in found], memo, lengths)
            found = sorted(((score + bonus.get(docnum, 0.0), docnum) for score, docnum in found), key=_best_first)
        _mark_seen(segments, [docnum for _, docnum in found])
        ranked.hits += found
        if len(ranked.hits) >= wanted:
            break
    matching = [segment.matching(need) for segment in segments]
    ranked.total = sum(int(np.count_nonzero(m)) for m in matching)
    if with_facets:
        ranked.facets = _year_counts(segments, matching)
    return ranked


def _best(segments: list[_Segment], need: int, short: bool, candidates: int) -> list[tuple[float, int]]:
    found = [(float(score), int(docnum)) for segment in segments
             for score, docnum in zip(*segment.best(need, short, candidates), strict=True)]
    return sorted(found, key=_best_first)[:candidates]


def _mark_seen(segments: list[_Segment], docnums: list[int]) -> None:
    for docnum in docnums:
        segment = _segment_of(segments, docnum)
        segment.seen[docnum - segment.offset] = True


def _year_counts(segments: list[_Segment], matching: list[np.ndarray]) -> dict[str, dict[int, int]]:
    counts = sum(np.bincount(s.years[m], minlength=65536) for s, m in zip(segments, matching, strict=True))
    return {"year": {int(year): int(counts[year]) for year in np.flatnonzero(counts)[::-1] if year}}


def _phrase_bonus(searcher, segments, phrases: list[wq.Phrase], docnums: list[int], memo: dict,
                  lengths) -> dict[int, float]:
    """What the phrases add to these papers' scores where their words are side by side (as
    Whoosh scores a phrase: its boost times its words' scores)."""
    cache = cached_postings(memo)
    bonus: dict[int, float] = {}
    for segment in segments:
        mine = [docnum for docnum in docnums if _segment_of(segments, docnum) is segment]
        for phrase in phrases if mine else []:
            for docnum in segment.side_by_side(phrase, mine, cache):
                local = docnum - segment.offset
                norm = _norms(searcher, segment.reader, phrase.fieldname, memo, lengths)[local]
                for word in phrase.words:
                    postings = cache.get(segment.reader, phrase.fieldname, word)
                    tf = postings.tf[np.searchsorted(postings.ids, local)]
                    bonus[docnum] = bonus.get(docnum, 0.0) + phrase.boost * _weight(
                        searcher, phrase.fieldname, word, memo) * float(tf / (tf + norm))
    return bonus


def _segment_of(segments: list[_Segment], docnum: int) -> _Segment:
    return next(segment for segment in reversed(segments) if segment.offset <= docnum)


def _best_first(hit: tuple[float, int]) -> tuple[float, int]:
    return -hit[0], hit[1]
