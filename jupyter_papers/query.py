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

import itertools
import re
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.qparser import FieldAliasPlugin, MultifieldParser, OrGroup
from whoosh.support.levenshtein import damerau_levenshtein

from .analysis import TEXT_FIELDS

YEAR_RANGE = re.compile(
    r"\byear:\s*(?:\[\s*(\d{4})?\s*(?:TO|to)\s*(\d{4})?\s*\]|(>=|<=|>|<)?\s*(\d{4})(?:\s*(?:\.\.|-|–)\s*(\d{4}))?)"
)
ADVANCED = re.compile(
    r'"|\b(?:title|abstract|authors?|venue|keywords?|id):|\b(?:AND|OR|NOT)\b|[()*?]'
)
STRIP = ".,;:!?()[]{}\"'“”‘’`"
VOCABULARY_FIELDS = ("words", "authors")
COMPLETIONS_PER_FIELD = 8
COMPLETION_SCAN_LIMIT = 4000
COORDINATION = 0.9
PHRASE_BOOSTS = {"title": 2.0, "abstract": 2.0}


@dataclass
class Plan:
    """A query worked out against one index snapshot."""

    words: list[wq.Query] = field(default_factory=list)
    boosts: list[wq.Query] = field(default_factory=list)
    parsed: wq.Query | None = None
    corrections: dict[str, str] = field(default_factory=dict)
    suggestion: str | None = None

    @property
    def empty(self) -> bool:
        return not self.words and self.parsed is None

    def strict(self) -> wq.Query:
        """Every word must match (what a user expects first)."""
        if self.parsed is not None:
            return self.parsed
        core = wq.And(self.words) if len(self.words) > 1 else self.words[0]
        return wq.AndMaybe(core, wq.Or(self.boosts)) if self.boosts else core

    def loose(self) -> wq.Query | None:
        """Any word may match, more matching words rank higher; None if no looser query exists."""
        if self.parsed is not None or len(self.words) < 2:
            return None
        return wq.Or(self.words + self.boosts, scale=COORDINATION)


def extract_years(text: str, year_from: int | None, year_to: int | None) -> tuple[str, int | None, int | None]:
    """Take ``year:2020..2023``, ``year:>=2021``, ``year:[2019 TO 2021]`` out of the text."""
    for match in YEAR_RANGE.finditer(text):
        lo_bracket, hi_bracket, op, single, upper = match.groups()
        if lo_bracket or hi_bracket:
            lo, hi = lo_bracket, hi_bracket
        elif upper:
            lo, hi = single, upper
        elif op in (">=", ">"):
            lo, hi = str(int(single) + (op == ">")), None
        elif op in ("<=", "<"):
            lo, hi = None, str(int(single) - (op == "<"))
        else:
            lo = hi = single
        year_from = int(lo) if lo else year_from
        year_to = int(hi) if hi else year_to
    return YEAR_RANGE.sub(" ", text), year_from, year_to


def parse_year_range(text: str | None) -> tuple[int | None, int | None]:
    """``2023``, ``2020..2023``, ``2020-2023``, ``2020..`` or ``..2023`` as (from, to)."""
    if not text:
        return None, None
    match = re.fullmatch(r"\s*(\d{4})?\s*(\.\.|-)?\s*(\d{4})?\s*", text)
    if not match or not (match.group(1) or match.group(3)):
        raise ValueError(f"a year range is YEAR, FROM..TO, FROM.. or ..TO, not {text!r}")
    low, separator, high = match.groups()
    if not separator:
        if low and high:
            raise ValueError(f"a year range is YEAR, FROM..TO, FROM.. or ..TO, not {text!r}")
        high = low
    return (int(low) if low else None), (int(high) if high else None)


def words_of(text: str) -> list[str]:
    words = (w.strip(STRIP) for w in re.sub(r"[()\\\[\]{}*?]|:(?!//)", " ", text).split())
    return [w for w in words if w]


def make_parser(schema) -> MultifieldParser:
    """The query-language parser (built once per index: building one costs as much as a query)."""
    parser = MultifieldParser(list(TEXT_FIELDS), schema, group=OrGroup.factory(COORDINATION))
    parser.add_plugin(FieldAliasPlugin({"authors": ["author"], "keywords": ["keyword"]}))
    return parser


class QueryBuilder:
    """Builds Plans against one searcher (its vocabulary decides completions and corrections)."""

    def __init__(self, searcher, schema, parser: MultifieldParser):
        self.reader = searcher.reader()
        self.schema = schema
        self._parser = parser

    def build(self, text: str, prefix: bool, as_words: bool = False) -> Plan:
        if not as_words and ADVANCED.search(text):
            parsed = self._parse(text)
            if parsed is not None:
                return Plan(parsed=parsed)
        words = words_of(text)
        plan = Plan()
        for position, word in enumerate(words):
            last = prefix and position == len(words) - 1
            clause = self._word(word, last, plan)
            if clause is not None:
                plan.words.append(clause)
        if not plan.words:  # only stop words: search them in titles
            plan.words = [q for q in (self._field_query("title", w) for w in words) if q is not None]
        if len(words) > 1:  # the words side by side rank higher
            for fieldname, boost in PHRASE_BOOSTS.items():
                phrase = self._field_query(fieldname, " ".join(words))
                if phrase is not None:
                    phrase.boost = boost
                    plan.boosts.append(phrase)
        if plan.corrections:
            plan.suggestion = " ".join(plan.corrections.get(w, w) for w in words)
        return plan

    def _parse(self, text: str) -> wq.Query | None:
        try:
            parsed = self._parser.parse(text)
        except Exception:  # Whoosh's parser raises assorted errors on malformed input: use words
            return None
        return None if parsed is wq.NullQuery else parsed

    def _field_query(self, fieldname: str, text: str) -> wq.Query | None:
        tokens = [t.text for t in self.schema[fieldname].analyzer(text, mode="query")]
        if not tokens:
            return None
        if len(tokens) == 1:
            return wq.Term(fieldname, tokens[0])
        if self.schema[fieldname].format.supports("positions"):
            return wq.Phrase(fieldname, tokens)
        return wq.And([wq.Term(fieldname, t) for t in tokens])

    def _word_clause(self, word: str) -> tuple[wq.Query | None, bool]:
        """The word in every text field, and whether the index has it anywhere."""
        clauses = [q for q in (self._field_query(f, word) for f in TEXT_FIELDS) if q is not None]
        if not clauses:
            return None, True
        known = any(self._exists(q) for q in clauses)
        return (clauses[0] if len(clauses) == 1 else wq.Or(clauses)), known

    def _exists(self, q: wq.Query) -> bool:
        return all(self.reader.doc_frequency(field, text) > 0 for field, text in q.iter_all_terms())

    def _word(self, word: str, last: bool, plan: Plan) -> wq.Query | None:
        clause, known = self._word_clause(word)
        if clause is None:
            return None
        alternatives = [clause]
        if last:
            alternatives += [c for c in (self._word_clause(w)[0] for w in self.completions(word)) if c is not None]
        if not known and len(alternatives) == 1:
            correction = self.correction(word)
            if correction:
                plan.corrections[word] = correction
                alternatives.append(self._word_clause(correction)[0])
        alternatives = [a for a in alternatives if a is not None]
        return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)

    def _folded_word(self, text: str) -> str | None:
        """The text as one vocabulary word (folded, unstemmed), or None if it is several."""
        tokens = [t.text for t in self.schema["words"].analyzer(text)]
        return tokens[0] if len(tokens) == 1 else None

    def completions(self, prefix: str) -> list[str]:
        """The most frequent indexed words that start with ``prefix`` (bounded: a search box
        sends a query per key press, and a one-letter prefix has thousands of completions)."""
        stem = self._folded_word(prefix)
        if stem is None or len(stem) < 2:
            return []
        found: dict[str, int] = {}
        for fieldname in VOCABULARY_FIELDS:
            scanned = itertools.islice(self.reader.iter_prefix(fieldname, stem), COMPLETION_SCAN_LIMIT)
            ranked = sorted(((info.doc_frequency(), text) for text, info in scanned), reverse=True)
            for df, text in ranked[:COMPLETIONS_PER_FIELD]:
                word = text.decode("utf-8") if isinstance(text, bytes) else text
                if word != stem:
                    found[word] = found.get(word, 0) + df
        return sorted(found, key=found.get, reverse=True)[: COMPLETIONS_PER_FIELD * 2]

    def correction(self, word: str) -> str | None:
        """The indexed word nearest to a word the index lacks: fewest edits, then most documents."""
        token = self._folded_word(word)
        if token is None or len(token) < 3 or not token.isalpha():
            return None
        maxdist = 1 if len(token) <= 4 else 2
        best: tuple[int, int, str] | None = None
        for fieldname in VOCABULARY_FIELDS:
            for candidate in self.reader.terms_within(fieldname, token, maxdist, prefix=1):
                if candidate == token:
                    continue
                distance = damerau_levenshtein(token, candidate)
                rank = (distance, -self.reader.doc_frequency(fieldname, candidate), candidate)
                if best is None or rank < best:
                    best = rank
        return best[2] if best else None

