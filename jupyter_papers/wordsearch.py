"""A plan of plain words, searched a posting list at a time with numpy.

Whoosh finds a plan's matches through a tree of matchers, one call per posting per word
and field, and the last word of a search box stands for up to eight completions in four
fields: three title words took 255 ms at p95 over 158k papers, 3.5x SQLite FTS5. Here
each term's posting list is read once per index snapshot (postings.PostingCache), and
its BM25F scores are added into one array per segment: the cost is a few numpy
operations per term, whatever the words' frequencies. Scores are Whoosh's own
(analysis.PaperBM25F), so the ranking is the one Whoosh's path gives; the widening steps
are Plan.steps' (every word in the short fields, every word anywhere, two of three, any).
"""

from __future__ import annotations

import numpy as np
from whoosh import query as wq

from .analysis import FIELD_WEIGHTS, SHORT_FIELDS, PaperBM25F
from .postings import cached_postings
from .query import TITLE_LIKE_WORDS, Plan
from .ranking import Ranked, phrase_scores

_BM25 = PaperBM25F()
K1, B = _BM25.K1, _BM25.B


def clause_terms(plan: Plan) -> list[list[tuple[str, list[str]]]] | None:
    """Each word clause as (field, words a paper must all have there) pairs; None for a
    clause that is not made of terms and phrases. A phrase (a hyphenated word:
    "fine-tuning" is title:fine title:tuning) is searched as its words, side by side or
    not; side by side adds a bonus, positions read for the candidates only (word_phrases).
    Whoosh's path took 0.2-0.4 s for "Data-Free Backdoor Removal" over 158k papers."""
    clauses = []
    for clause in plan.words:
        leaves = clause.subqueries if isinstance(clause, wq.Or) else [clause]
        if not all(type(leaf) in (wq.Term, wq.Phrase) for leaf in leaves):
            return None
        clauses.append([(leaf.fieldname, [leaf.text] if type(leaf) is wq.Term else list(leaf.words))
                        for leaf in leaves])
    return clauses


def word_phrases(plan: Plan) -> list[wq.Phrase]:
    """The phrases inside the word clauses: where their words are side by side, a paper
    gets their score once more, as Whoosh would give it to those papers and not others."""
    return [leaf for clause in plan.words for leaf in (clause.subqueries if isinstance(clause, wq.Or) else [clause])
            if type(leaf) is wq.Phrase]


def steps(words: int, short_first: bool) -> list[tuple[int, bool]]:
    """(words a paper must have, only in the short fields?) for each widening step."""
    needed = [words] + ([2] if words == 3 else []) + ([1] if words > 1 else [])
    widening = []
    for number, need in enumerate(needed):
        if short_first and (number == 0 or words <= TITLE_LIKE_WORDS):
            widening.append((need, True))
        widening.append((need, False))
    return widening


class _Segment:
    """One segment's arrays for a plan: the whole query's score per paper, how many of its
    words each paper has (anywhere, and in the short fields), which papers may be shown."""

    def __init__(self, searcher, leaf, offset: int, clauses, memo: dict, years, columns, lengths):
        self.reader = reader = leaf.reader()
        self.offset = offset
        count = reader.doc_count_all()
        self.score = np.zeros(count, dtype=np.float32)
        self.words = np.zeros(count, dtype=np.int8)
        self.short_words = np.zeros(count, dtype=np.int8)
        for leaves in clauses:
            anywhere = np.zeros(count, dtype=bool)
            short = np.zeros(count, dtype=bool)
            for fieldname, words in leaves:
                ids = self._add(searcher, reader, fieldname, words, memo, lengths)
                anywhere[ids] = True
                if fieldname in SHORT_FIELDS:
                    short[ids] = True
            self.words += anywhere
            self.short_words += short
        self.valid = np.ones(count, dtype=bool)  # not deleted, in the years asked for
        if reader.has_deletions():
            self.valid[np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
        self.years = np.frombuffer(columns.of(leaf), dtype=np.uint16)
        if years is not None:
            low, high = years
            self.valid &= self.years >= (1 if low is None else low)  # 0: no year, outside every range
            if high is not None:
                self.valid &= self.years <= high
        self.seen = np.zeros(count, dtype=bool)

    def _add(self, searcher, reader, fieldname: str, words: list[str], memo: dict, lengths) -> np.ndarray:
        """Adds the words' BM25F scores in the field to the papers having all of them there;
        returns those papers."""
        cache = cached_postings(memo)
        lists = [cache.get(reader, fieldname, word) for word in words]
        ids = lists[0][0]
        for other, _ in lists[1:]:
            ids = np.intersect1d(ids, other, assume_unique=True)
        if not len(ids):
            return ids
        norms = _norms(searcher, reader, fieldname, memo, lengths)[ids]
        for word, (word_ids, tf) in zip(words, lists, strict=True):
            if len(lists) > 1:
                tf = tf[np.searchsorted(word_ids, ids)]
            weight = FIELD_WEIGHTS.get(fieldname, 1.0) * _idf(searcher, fieldname, word, memo) * (K1 + 1)
            self.score[ids] += weight * tf / (tf + norms)
        return ids

    def best(self, need: int, short: bool, candidates: int) -> list[tuple[float, int]]:
        """The best papers not yet found with at least ``need`` words (in the short fields)."""
        words = self.short_words if short else self.words
        local = np.flatnonzero(self.valid & ~self.seen & (words >= need))
        if len(local) > candidates:
            local = local[np.argpartition(-self.score[local], candidates - 1)[:candidates]]
        return [(float(self.score[d]), int(d) + self.offset) for d in local]

    def has(self, phrase: wq.Phrase, docnum: int, cache) -> bool:
        """Whether the paper has every word of the phrase in the phrase's field."""
        local = docnum - self.offset
        for word in phrase.words:
            ids, _ = cache.get(self.reader, phrase.fieldname, word)
            at = int(np.searchsorted(ids, local))
            if at == len(ids) or ids[at] != local:
                return False
        return True

    def matching(self, need: int) -> np.ndarray:
        return self.valid & (self.words >= need)


def _idf(searcher, fieldname: str, term: str, memo: dict) -> float:
    found = memo.setdefault("idf", {})
    key = (fieldname, term)
    if key not in found:
        found[key] = _BM25.idf(searcher, fieldname, term)
    return found[key]


def _norms(searcher, reader, fieldname: str, memo: dict, lengths) -> np.ndarray:
    """BM25's length normalisation of each paper's field, K1 included (per snapshot)."""
    norms = memo.setdefault("norms", {})
    key = (id(reader), fieldname)
    if key not in norms:
        average = searcher.avg_field_length(fieldname) or 1.0
        norms[key] = K1 * ((1 - B) + B * lengths.of(reader, fieldname) / average)
    return norms[key]


def rank_words(searcher, plan: Plan, clauses, wanted: int, candidates: int, short_first: bool,
               with_facets: bool, years, columns, lengths, memo: dict) -> Ranked:
    """The plan's hits, widening step by step until ``wanted`` are found. Each step ranks
    its best ``candidates`` (not yet found) by the whole query plus the phrase bonuses."""
    segments = [_Segment(searcher, leaf, offset, clauses, memo, years, columns, lengths)
                for leaf, offset in searcher.leaf_searchers()]
    ranked = Ranked()
    need = len(clauses)
    phrases = plan.phrases + word_phrases(plan)
    for need, short in steps(len(clauses), short_first):
        found = sorted((hit for segment in segments for hit in segment.best(need, short, candidates)),
                       key=_best_first)[:candidates]
        if phrases:
            bonus = _phrase_bonus(searcher, segments, phrases, [docnum for _, docnum in found], memo)
            found = sorted(((score + bonus.get(docnum, 0.0), docnum) for score, docnum in found), key=_best_first)
        for _, docnum in found:
            segment = _segment_of(segments, docnum)
            segment.seen[docnum - segment.offset] = True
        ranked.hits += found
        if len(ranked.hits) >= wanted:
            break
    matching = [segment.matching(need) for segment in segments]
    ranked.total = sum(int(np.count_nonzero(m)) for m in matching)
    if with_facets:
        counts = sum(np.bincount(s.years[m], minlength=65536) for s, m in zip(segments, matching, strict=True))
        ranked.facets = {"year": {int(year): int(counts[year]) for year in np.flatnonzero(counts)[::-1] if year}}
    return ranked


def _phrase_bonus(searcher, segments, phrases: list[wq.Phrase], docnums: list[int], memo: dict) -> dict[int, float]:
    """ranking.phrase_scores, asked only about the papers that have all of a phrase's words
    in its field (the cached postings tell at once): reading positions costs a posting
    block decoded per word and paper, 15 ms of a three-word query at 158k papers."""
    cache = cached_postings(memo)
    bonus: dict[int, float] = {}
    for phrase in phrases:
        possible = [docnum for docnum in docnums if _segment_of(segments, docnum).has(phrase, docnum, cache)]
        for docnum, score in phrase_scores(searcher, [phrase], possible).items():
            bonus[docnum] = bonus.get(docnum, 0.0) + score
    return bonus


def _segment_of(segments: list[_Segment], docnum: int) -> _Segment:
    return next(segment for segment in reversed(segments) if segment.offset <= docnum)


def _best_first(hit: tuple[float, int]) -> tuple[float, int]:
    return -hit[0], hit[1]
