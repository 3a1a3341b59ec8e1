"""From what a person types to a Whoosh query.

A search box is not a query language: most input is a few words, the last one still being
typed, some misspelt. Plain words become one clause per word (every word preferred, none
required: the index runs the AND first and widens to OR when it finds too few); the last
word also matches its most frequent completions; a word the index has never seen is
replaced by its nearest spellings from the index's own vocabulary. Input that uses the
query language ("phrases", field:term, AND/OR/NOT, wildcards) goes to Whoosh's parser,
and falls back to plain words when it cannot be parsed.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from whoosh import query as wq
from whoosh.qparser import FieldAliasPlugin, MultifieldParser, OrGroup
from whoosh.support.levenshtein import damerau_levenshtein

from ...question import ADVANCED, compound_parts, in_collection, words_of
from .analysis import SHORT_FIELDS, TEXT_FIELDS, has_hyphen

VOCABULARY_FIELDS = ("words", "authors")
COMPLETIONS_PER_FIELD = 8
COMPLETIONS = 8
SHORT_PREFIX = 4  # a last word shorter than this completes in the short fields only
COMPLETION_SCAN_LIMIT = 20_000  # words per segment looked at for one prefix
REMEMBERED_PREFIXES = 5_000
TYPED_SHARE = 0.25  # see QueryBuilder._most_frequent
COORDINATION = 0.9
PHRASE_BOOSTS = {"title": 2.0, "abstract": 2.0}
TITLE_LIKE_WORDS = 3  # up to this many words are looked for in titles first even if not all match
RARE_DOCUMENTS = 3            # a known word this rare may be a typo ...
RARE_NEIGHBOUR_DOCUMENTS = 50  # ... of a neighbour at least this common
JOINED_SHARE = 0.05  # two words are also looked for joined when that is this common (see _joined_neighbours)


class Step(NamedTuple):
    """One search of a Plan: ``finding`` picks the candidates, ``ranking`` (None: the same
    query) orders them; ``counts_all`` is False when the step looks at some fields only."""

    finding: wq.Query
    ranking: wq.Query | None
    counts_all: bool = True


@dataclass
class Plan:
    """A query worked out against one index snapshot. ``phrases`` (the words side by side,
    boosted) only rank candidates: checking positions in every match costs more than
    finding the words (PaperIndex._run adds them to each step's best)."""

    words: list[wq.Query] = field(default_factory=list)
    phrases: list[wq.Phrase] = field(default_factory=list)
    parsed: wq.Query | None = None
    corrections: dict[str, str] = field(default_factory=dict)
    suggestion: str | None = None

    @property
    def empty(self) -> bool:
        return not self.words and self.parsed is None

    def key(self) -> tuple:
        """Equal for plans that search and mark the same (Whoosh queries compare by value)."""
        return tuple(self.words), tuple(self.phrases), self.parsed, self.suggestion

    def steps(self, short_first: bool) -> list[Step]:
        """Whoosh's queries for the widening steps (see widening); a parsed query is one
        step, in the short fields first. (Two of three words is a union of intersections,
        cheaper than the union of the words when one is common: "DeepShape Deep Learned"
        looked at 33k titles holding "learn" to fill its page.)"""
        steps = []
        for need, short in widening(1 if self.parsed is not None else len(self.words), short_first):
            finding = self.parsed if self.parsed is not None else self._needing(need)
            if not short:
                steps.append(Step(finding, None))
                continue
            restricted = restrict(finding, SHORT_FIELDS)
            if restricted is not None and restricted != finding:
                steps.append(Step(restricted, finding, counts_all=False))
        return steps

    def _needing(self, need: int) -> wq.Query:
        """Papers with at least ``need`` of the words (every one, two of three, or any)."""
        if need == len(self.words):
            return wq.And(self.words) if need > 1 else self.words[0]
        if need == 2:
            return wq.Or([wq.And(pair) for pair in itertools.combinations(self.words, 2)])
        return wq.Or(self.words, scale=COORDINATION)


def widening(words: int, short_first: bool) -> list[tuple[int, bool]]:
    """(words a paper must have, only in the short fields?) for each step of a search that
    widens while its page is not full: every word in the short fields, then anywhere; for
    three words, two of them; any word in the short fields (for a few words, a title's:
    any word of a long description is looked for anywhere, its abstract answers it), then
    anywhere. More matching words rank higher in the any-word steps."""
    needed = [words] + ([2] if words == 3 else []) + ([1] if words > 1 else [])
    steps = []
    for number, need in enumerate(needed):
        if short_first and (number == 0 or words <= TITLE_LIKE_WORDS):
            steps.append((need, True))
        steps.append((need, False))
    return steps


MAX_EXPANSION = 50  # words a wildcard, prefix or range of the query language stands for
MAX_CANDIDATES = 20_000  # matching words looked at to choose them


def make_parser(schema) -> MultifieldParser:
    """The query-language parser (built once per index: building one costs as much as a query)."""
    parser = MultifieldParser(list(TEXT_FIELDS), schema, group=OrGroup.factory(COORDINATION))
    parser.add_plugin(FieldAliasPlugin({"authors": ["author"], "keywords": ["keyword"]}))
    return parser


class QueryBuilder:
    """Builds Plans against one searcher (its vocabulary decides completions and corrections)."""

    def __init__(self, searcher, schema, parser: MultifieldParser, memo: dict):
        """``memo`` keeps what was worked out for this searcher's snapshot (completions, the
        vocabulary) for the next queries: a search box sends one per key press."""
        self.reader = searcher.reader()
        self.schema = schema
        self._parser = parser
        self._memo = memo

    def build(self, text: str, prefix: bool, as_words: bool = False) -> Plan:
        text = in_collection(text)
        if not as_words and ADVANCED.search(text):
            parsed = self._parse(text)
            if parsed is not None:
                return Plan(parsed=parsed)
        words = words_of(text)
        plan = Plan()
        typed = self._still_typing(words) if prefix else words
        joined = self._joined_neighbours(typed)
        for position, word in enumerate(typed):
            last = prefix and position == len(typed) - 1
            clause = self._word(word, last, plan, joined[position])
            if clause is not None and clause not in plan.words:  # a word said twice weighs once
                plan.words.append(clause)
        if not plan.words:  # only stop words: search them in titles
            plan.words = [q for q in (self._field_query("title", w) for w in words) if q is not None]
        if len(words) > 1:  # the words side by side rank higher
            for fieldname, boost in PHRASE_BOOSTS.items():
                found = self._field_query(fieldname, " ".join(words))
                for phrase in found.subqueries if isinstance(found, wq.Or) else [found]:  # hyphens: two spellings
                    if isinstance(phrase, wq.Phrase):
                        phrase.boost = boost
                        plan.phrases.append(phrase)
        if plan.corrections:
            plan.suggestion = " ".join(plan.corrections.get(w, w) for w in words)
        return plan

    def _still_typing(self, words: list[str]) -> list[str]:
        """The words with the last one completable: "few-s" is "few" and "s", and a last
        word of one letter waits for the next key press (it would match nothing yet)."""
        if not words:
            return words
        *done, last = words
        tokens = self._vocabulary_tokens(last) or [last]
        if len(tokens) > 1:
            done, last = done + tokens[:-1], tokens[-1]
        return done if done and len(last) < 2 else done + [last]

    def _parse(self, text: str) -> wq.Query | None:
        try:
            parsed = self._parser.parse(text)
        except Exception:  # Whoosh's parser raises assorted errors on malformed input: use words
            return None
        bounded = self._bounded(parsed).normalize() if parsed is not wq.NullQuery else wq.NullQuery
        return None if bounded is wq.NullQuery else bounded

    def _bounded(self, q: wq.Query) -> wq.Query:
        """The query with each wildcard, prefix and range replaced by its most common
        matches (at most MAX_EXPANSION): "*e*" or "abstract:[a TO z]" would otherwise OR
        every word of the index (7 to 17 s at 20k papers, past any time limit); a pattern
        matching everything is every paper."""
        if isinstance(q, wq.PatternQuery) and not q.text.strip("*"):
            return wq.Every()
        if isinstance(q, (wq.PatternQuery, wq.TermRange)):
            fieldname = q.fieldname
            candidates = itertools.islice(q._btexts(self.reader), MAX_CANDIDATES)
            ranked = sorted(candidates, key=lambda term: -self.reader.doc_frequency(fieldname, term))
            terms = [wq.Term(fieldname, term.decode("utf-8") if isinstance(term, bytes) else term)
                     for term in ranked[:MAX_EXPANSION]]
            return wq.Or(terms, boost=q.boost) if terms else wq.NullQuery
        if isinstance(q, wq.Every):
            return wq.Every()
        if q.is_leaf():
            return q
        return q.apply(self._bounded)

    def _field_query(self, fieldname: str, text: str) -> wq.Query | None:
        """The text's words side by side in the field; a word written with hyphens also as
        the one word it joins into, where the index has that word ("pre-training" finds
        "pretraining")."""
        analyzer = self.schema[fieldname].analyzer
        parts = self._side_by_side(fieldname, [t.text for t in analyzer(text, mode="query")])
        if parts is None or not has_hyphen(text):
            return parts
        joined, covered = [], -1
        for token in analyzer(text, chars=True):  # as indexed: a joined word before its parts
            if token.startchar >= covered:
                joined.append(token.text)
                covered = token.endchar
        alternative = self._side_by_side(fieldname, joined)
        if alternative is None or alternative == parts or not self._exists(alternative):
            return parts
        return wq.Or([parts, alternative])

    def _side_by_side(self, fieldname: str, tokens: list[str]) -> wq.Query | None:
        if not tokens:
            return None
        if len(tokens) == 1:
            return wq.Term(fieldname, tokens[0])
        if self.schema[fieldname].format.supports("positions"):
            return wq.Phrase(fieldname, tokens)
        return wq.And([wq.Term(fieldname, t) for t in tokens])

    def _words_clause(self, words: list[str], completions: list[str] = ()) -> wq.Query | None:
        """Any of the words in any text field, each distinct term once (completions often
        share a stem: learning, learned, learns are all title:learn) and only where the
        index has it: every clause costs a lookup in every segment at every search step.
        Completions of a word of two or three letters are looked for in the short fields
        only: they are guesses, and their abstract postings, a tenth of the papers each for
        "re" (representation, reinforcement...), cost the most of a key press's search."""
        short = len(words[0]) < SHORT_PREFIX if completions else False
        clauses: list[wq.Query] = []
        for fieldname in TEXT_FIELDS:
            for word in [*words, *(completions if fieldname in SHORT_FIELDS or not short else ())]:
                q = self._field_query(fieldname, word)
                # one flat union of words and phrases: what wordsearch scores with arrays
                for leaf in q.subqueries if isinstance(q, wq.Or) else [] if q is None else [q]:
                    if leaf not in clauses:
                        clauses.append(leaf)
        found = [q for q in clauses if self._exists(q)] or clauses[:1]  # none: a clause matching nothing
        if not found:
            return None
        return found[0] if len(found) == 1 else wq.Or(found)

    def _exists(self, q: wq.Query) -> bool:
        return all((field, text) in self.reader for field, text in q.iter_all_terms())

    def _known(self, word: str) -> bool:
        return any(self._exists(q) for q in (self._field_query(f, word) for f in TEXT_FIELDS) if q is not None)

    def _word(self, word: str, last: bool, plan: Plan, joined: list[str]) -> wq.Query | None:
        completions = self.completions(word) if last else []
        alternatives = [word]
        if not completions:
            correction = self._respelling(word)
            if correction:
                plan.corrections[word] = correction
                alternatives.append(correction)
        return self._words_clause(alternatives + joined + self._split(word), completions)

    def _split(self, word: str) -> list[str]:
        """A word that begins with a prefix of compounds ("pretraining", "nonconvex") also
        as its two parts side by side ("pre training"), when the rest is a word the index
        has: papers write such words joined, hyphenated and spaced."""
        return next(([parts] for parts in compound_parts(word) if self._documents(parts.split()[1])), [])

    def _joined_neighbours(self, words: list[str]) -> list[list[str]]:
        """For each word, the words it makes with a neighbour written together, where the
        index has them in enough papers: "pre training" is also "pretraining", "data set"
        "dataset". Each of the two words takes the joined word as an alternative, so a
        paper that writes it joined holds both. A joined word much rarer than its parts is
        a slip ("deeplearning" in a handful of papers), not the way the field writes it."""
        joined: list[list[str]] = [[] for _ in words]
        for i, (first, second) in enumerate(itertools.pairwise(words)):
            if not (first.isalpha() and second.isalpha()):
                continue
            together = (first + second).lower()
            documents = self._documents(together)
            if documents and documents >= JOINED_SHARE * min(self._documents(first), self._documents(second)):
                joined[i].append(together)
                joined[i + 1].append(together)
        return joined

    def _documents(self, word: str) -> int:
        """Papers holding the word as written (folded, not stemmed)."""
        token = self._folded_word(word)
        return self.reader.doc_frequency("words", token) if token else 0

    def _respelling(self, word: str) -> str | None:
        """A correction for a word the index lacks, or for one it has in a few documents
        only while a one-edit neighbour is in a hundred times as many: a typo that also
        occurs in the corpus ("atention" is in some abstracts)."""
        if not self._known(word):
            return self.correction(word)
        token = self._folded_word(word)
        if token is None:
            return None
        rarity = sum(self.reader.doc_frequency(fieldname, token) for fieldname in VOCABULARY_FIELDS)
        neighbour = max(RARE_NEIGHBOUR_DOCUMENTS, 100 * rarity)
        if rarity > RARE_DOCUMENTS or self.reader.doc_count() < neighbour:
            return None
        return self.correction(word, maxdist=1, min_documents=neighbour)

    def _vocabulary_tokens(self, text: str) -> list[str]:
        """The text as vocabulary words: folded, unstemmed."""
        return [t.text for t in self.schema["words"].analyzer(text, mode="query")]

    def _folded_word(self, text: str) -> str | None:
        """The text as one vocabulary word, or None if it is several."""
        tokens = self._vocabulary_tokens(text)
        return tokens[0] if len(tokens) == 1 else None

    def completions(self, prefix: str) -> list[str]:
        """The most frequent indexed words that start with ``prefix``. A search box sends a
        query per key press, so each prefix is worked out once per index snapshot."""
        typed = self._folded_word(prefix)
        if typed is None or len(typed) < 2:
            return []
        completed = self._memo.setdefault("completions", {})
        found = completed.get(typed)
        if found is None:
            if len(completed) >= REMEMBERED_PREFIXES:
                completed.clear()
            found = completed[typed] = self._most_frequent(typed)
        return found

    def _most_frequent(self, typed: str) -> list[str]:
        """Read segment by segment: Whoosh's multi-segment reader looks each word up again
        in every segment (0.3 s for the 4,000 words after "co" at 158k papers). A typed word
        at least a quarter as common as its most common completion is taken as typed
        ("simple" is not "simpler" being typed): completions of common words cost the most
        and change the results least."""
        found: dict[str, int] = {}
        for fieldname in VOCABULARY_FIELDS:
            counts: dict[str, int] = {}
            for leaf, _ in self.reader.leaf_readers():
                for text, info in itertools.islice(leaf.iter_prefix(fieldname, typed), COMPLETION_SCAN_LIMIT):
                    word = text.decode("utf-8") if isinstance(text, bytes) else text
                    counts[word] = counts.get(word, 0) + info.doc_frequency()
            for word, documents in heapq.nlargest(COMPLETIONS_PER_FIELD + 1, counts.items(), key=itemgetter(1)):
                found[word] = found.get(word, 0) + documents
        as_typed = found.pop(typed, 0)
        ranked = sorted(found, key=found.get, reverse=True)[:COMPLETIONS]
        if ranked and as_typed >= TYPED_SHARE * found[ranked[0]]:
            return []
        return ranked

    def _terms_within(self, fieldname: str, token: str, maxdist: int) -> list[str]:
        """Words of the field within ``maxdist`` edits (Levenshtein) that share the first
        letter: RapidFuzz's distance over the vocabulary's words of that letter and of a
        length within reach. (Whoosh walks a Levenshtein automaton over the on-disk
        dictionary, a binary search of the file per step: about 0.1 s per typo at 158k
        papers; walked over the vocabulary in memory it was still a quarter of the time of
        a query of rare words, each of which is checked for being a typo.)"""
        lengths = self._vocabulary(fieldname).get(token[:1], {})
        candidates = [word for length in range(len(token) - maxdist, len(token) + maxdist + 1)
                      for word in lengths.get(length, ())]
        return [word for word, _, _ in process.extract(token, candidates, scorer=Levenshtein.distance,
                                                        score_cutoff=maxdist, limit=None)]

    def _vocabulary(self, fieldname: str) -> dict[str, dict[int, list[str]]]:
        """The field's words of every segment, by first letter and length; read once per
        index snapshot."""
        vocabularies = self._memo.setdefault("vocabulary", {})
        if fieldname not in vocabularies:
            words: set[bytes] = set()
            for leaf, _ in self.reader.leaf_readers():
                words.update(leaf.lexicon(fieldname))
            grouped: dict[str, dict[int, list[str]]] = {}
            for word in map(bytes.decode, words):
                grouped.setdefault(word[:1], {}).setdefault(len(word), []).append(word)
            vocabularies[fieldname] = grouped
        return vocabularies[fieldname]

    def correction(self, word: str, maxdist: int | None = None, min_documents: int = 1) -> str | None:
        """The indexed word nearest to ``word``: fewest edits, then most documents."""
        token = self._folded_word(word)
        if token is None or len(token) < 3 or not token.isalpha():
            return None
        maxdist = maxdist or (1 if len(token) <= 4 else 2)
        best: tuple[int, int, str] | None = None
        for fieldname in VOCABULARY_FIELDS:
            for candidate in self._terms_within(fieldname, token, maxdist):
                documents = self.reader.doc_frequency(fieldname, candidate)
                if candidate == token or documents < min_documents:
                    continue
                rank = (damerau_levenshtein(token, candidate), -documents, candidate)
                if best is None or rank < best:
                    best = rank
        return best[2] if best else None


_LEAVES = (wq.Term, wq.Phrase, wq.MultiTerm)


def restrict(query: wq.Query, fields: frozenset[str]) -> wq.Query | None:
    """The part of ``query`` that looks only at ``fields``: it matches a subset of what the
    whole query matches (None when that subset is empty, or when the query has a NOT or a
    construct whose restriction would match more)."""
    if isinstance(query, _LEAVES):
        return query if query.field() in fields else None
    if isinstance(query, wq.And):
        parts = [restrict(child, fields) for child in query.subqueries]
        return None if any(p is None for p in parts) else wq.And(parts, boost=query.boost)
    if isinstance(query, (wq.Or, wq.DisjunctionMax)):
        parts = [p for p in (restrict(child, fields) for child in query.subqueries) if p is not None]
        if len(parts) <= 1:
            return parts[0] if parts else None
        return wq.Or(parts, boost=query.boost, scale=getattr(query, "scale", None))
    if isinstance(query, wq.AndMaybe):
        required, optional = restrict(query.a, fields), restrict(query.b, fields)
        if required is None or optional is None:
            return required
        return wq.AndMaybe(required, optional)
    return None
