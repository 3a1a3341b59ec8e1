"""How paper text becomes index terms: the Whoosh schema and its analyzers.

Titles keep stop words (so "attention is all you need" matches as a phrase); abstracts drop
them (smaller postings, faster queries). Everything is case- and accent-folded, so
"schrodinger" finds "Schrödinger". Tokens keep a trailing "++" or "#" ("PFGM++", "C#") and
split on hyphens, so "GLM-130B" and "GLM 130B" give the same terms; a word written with
hyphens is also indexed joined, at its first part's position ("pre-training" gives "pre",
"training" and "pretraining"), so that "pretraining" finds it (query.py joins the other way).
"""

from __future__ import annotations

import functools
import json
import math
import re

from whoosh import scoring
from whoosh.analysis import STOP_WORDS, StemFilter, StopFilter, Token, Tokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence
from whoosh.lang.porter import stem
from whoosh.support.charset import accent_map

from ...paper import Paper

SCHEMA_VERSION = "5"
CACHED_WORDS = 400_000  # word forms an indexing process keeps the terms of, per way of analysing
TOKEN_PATTERN = r"\w+(?:[.'’]\w+)*(?:\+\+|#)?"
HYPHENS = "-\u2010\u2011"  # hyphen-minus, hyphen, non-breaking hyphen
# A word, and the hyphen that joins it to the next word when there is one
_WORD_AND_HYPHEN = re.compile(rf"({TOKEN_PATTERN})([{HYPHENS}](?=\w))?")
_HAS_HYPHEN = re.compile(rf"[{HYPHENS}](?=\w)")
_TOKENS = re.compile(TOKEN_PATTERN)
# Where a typed word is looked for. Not the venue (asked for as venue:...): "learning",
# "vision", "conference" are in the venue of most papers of a machine-learning corpus, so
# they ranked papers by venue and made those words cost tens of thousands of postings.
TEXT_FIELDS = ("title", "abstract", "authors", "keywords")
# Searched first (see PaperIndex.search): a tenth of the postings, and where a person's words
# usually are.
SHORT_FIELDS = frozenset({"title", "authors", "keywords"})
# Each field's BM25 score is multiplied by its weight (PaperBM25F). Whoosh's index-time
# field_boost multiplies term frequencies instead, which BM25 then saturates; a boost on the
# query's terms would wrap every posting list in one more matcher. Titles are short, so BM25
# already scores a title match far above the same word in an abstract: a title weight of
# 0.5 was best on SciFact's train split (nDCG@10 0.676; 1.0: 0.657; 3.0: 0.565). Short
# queries still find titles first: the search looks in the short fields before abstracts.
FIELD_WEIGHTS = {"title": 0.5, "abstract": 1.0, "authors": 2.0, "venue": 0.5, "keywords": 1.5}


class FoldingTokenizer(Tokenizer):
    """Words as written, lower-cased and accent-folded, in one step: the tokens of Whoosh's
    RegexTokenizer | LowercaseFilter | CharsetFilter(accent_map), a generator less per
    filter (a quarter of the analysis, most of an import's time). When indexing, a word
    written with hyphens comes first joined, at the position of its first part (see
    PositionKeepingStopFilter); a query's analysis gives the parts only (query.py decides
    where the joined word is an alternative)."""

    def __call__(self, value: str, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            pieces = [(value, 0, len(value), start_pos)]
        elif mode == "query" or not has_hyphen(value):  # most texts: their words as they come
            pieces = ((m.group(), m.start(), m.end(), n) for n, m in enumerate(_TOKENS.finditer(value), start_pos))
        else:
            pieces = word_pieces(value, start_pos)
        for written, start, end, position in pieces:
            token.text = written.lower().translate(accent_map)
            token.boost, token.stopped = 1.0, False
            if keeporiginal or not tokenize:  # as Whoosh's tokenizer keeps it
                token.original = written
            if positions:
                token.pos = position
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


def word_pieces(value: str, start_pos: int = 0):
    """(word as written, start, end, position) of each word of the text, a word written
    with hyphens coming first as one word spanning its parts, at its first part's position."""
    matches = list(_WORD_AND_HYPHEN.finditer(value))
    in_run = False  # inside a run of words joined by hyphens
    for index, match in enumerate(matches):
        if match.group(2) and not in_run:
            end = index
            while matches[end].group(2):
                end += 1
            run = matches[index:end + 1]
            yield "".join(m.group(1) for m in run), match.start(), run[-1].end(1), start_pos + index
        in_run = bool(match.group(2))
        yield match.group(1), match.start(), match.end(1), start_pos + index


def has_hyphen(value: str) -> bool:
    """Whether the text has a word written with hyphens."""
    return _HAS_HYPHEN.search(value) is not None


def words_and_joined(value: str) -> tuple[list[str], dict[int, str]]:
    """The text's words as written, and each word written with hyphens, joined, by the
    index of its first part among the words: the terms an index adds for them."""
    if not has_hyphen(value):
        return _TOKENS.findall(value), {}
    pairs = _WORD_AND_HYPHEN.findall(value)
    joined, start = {}, None
    for index, (word, hyphen) in enumerate(pairs):
        if hyphen and start is None:
            start = index
        elif not hyphen and start is not None:
            joined[start] = "".join(w for w, _ in pairs[start:index + 1])
            start = None
    return [word for word, _ in pairs], joined


def _in_order(words: list[str], joined: dict[int, str]):
    """(position, word) for the words, each joined word just before its first part."""
    if not joined:
        yield from enumerate(words)
        return
    for offset, written in enumerate(words):
        if offset in joined:
            yield offset, joined[offset]
        yield offset, written


class PositionKeepingStopFilter(StopFilter):
    """Whoosh's StopFilter, renumbering the words kept so that a phrase steps over a stop
    word, but leaving a word kept at the same position as the word kept before it (a
    hyphenated word and its first part, see FoldingTokenizer) at that same position."""

    def __call__(self, tokens):
        position = kept_at = None
        for token in tokens:
            if token.text not in self.stops and len(token.text) >= self.min:
                if token.positions:
                    if position is None:
                        position = token.pos
                    elif token.pos != kept_at:
                        position += 1
                    kept_at, token.pos = token.pos, position
                token.stopped = False
                yield token
            elif not token.removestops:
                token.stopped = True
                yield token


def folding_analyzer():
    """Words as written, lower-cased and accent-folded: names, venues, spelling vocabulary."""
    return FoldingTokenizer()


def stemming_analyzer(stop_words: bool):
    """Folded words, stemmed. Each word's stem is worked out once per process (the
    vocabulary of 158k papers' abstracts is a few hundred thousand words; Whoosh's bounded
    cache cost more than the stemming it saved)."""
    chain = folding_analyzer()
    if stop_words:
        chain = chain | PositionKeepingStopFilter(minsize=1)
    return chain | StemFilter(cachesize=-1)


class _IndexTerms(dict):
    """Each word as written -> its index term in UTF-8 (None for a stop word), worked out
    once per process for one way of analysing: most of an abstract's words were seen
    before. Holds up to CACHED_WORDS (79k papers of the 158k corpus: 195k forms, 55 MB
    for all three)."""

    def __init__(self, stop_words: bool, stemmed: bool):
        super().__init__()
        self.stops = STOP_WORDS if stop_words else frozenset()
        self.stemmed = stemmed

    def __missing__(self, written: str) -> bytes | None:
        folded = written.lower().translate(accent_map)
        term = None if folded in self.stops else (stem(folded) if self.stemmed else folded).encode("utf-8")
        if len(self) < CACHED_WORDS:
            self[written] = term
        return term


_index_terms = functools.cache(_IndexTerms)  # one per way of analysing, for the process


@functools.cache
def _one_position(encode, position: int) -> bytes:
    """A word's positions when it occurs once, encoded once per process: most postings."""
    return encode([position])


class PaperText(TEXT):
    """A text field (positions kept) analysed by folding_analyzer, with stop words out and
    stems if asked. At import, a paper's terms come from one pass over the regular
    expression's words and a dictionary of the words seen before, not through the
    analyzer's generators, a Token each: the same postings (tests/test_writing.py), and
    analysis was the larger part of an import's time."""

    def __init__(self, stop_words: bool = False, stemmed: bool = False):
        super().__init__(analyzer=stemming_analyzer(stop_words) if stemmed else folding_analyzer())
        self.stop_words, self.stemmed = stop_words, stemmed

    def index(self, value, **kwargs):
        if not isinstance(value, str) or kwargs:  # a list of terms, or options: Whoosh's way
            yield from super().index(value, **kwargs)
            return
        terms = _index_terms(self.stop_words, self.stemmed)
        places: dict[bytes, list[int]] = {}
        position = kept_at = -1
        for offset, written in _in_order(*words_and_joined(value)):
            term = terms[written]
            if term is None:
                continue
            # as PositionKeepingStopFilter: the words after the first kept one numbered
            # without the stop words between, a joined word beside its first part
            if position < 0:
                position = offset
            elif offset != kept_at:
                position += 1
            kept_at = offset
            if term in places:
                places[term].append(position)
            else:
                places[term] = [position]
        boost, encode = self.format.field_boost, self.format.encode
        for term, positions in places.items():
            value = _one_position(encode, positions[0]) if len(positions) == 1 else encode(positions)
            yield term, len(positions), len(positions) * boost, value


class WordsField(FieldType):
    """Whether a paper holds a word, as written (folded): the vocabulary of completions and
    spelling corrections. Indexed from the distinct words of a paper, folded once per
    process (see PaperText)."""

    def __init__(self):
        # scorable only so Whoosh keeps its (never read) length column: without one, indexing
        # asked the file system whether the column exists for each posting (a third of the time)
        super().__init__(Existence(), folding_analyzer(), scorable=True)

    def index(self, value, **kwargs):
        if not isinstance(value, str) or kwargs:
            return super().index(value, **kwargs)
        folded = _index_terms(False, False)
        boost = self.format.field_boost
        words, joined = words_and_joined(value)
        return ((word, 1, boost, b"") for word in {folded[w] for w in {*words, *joined.values()}})


class PaperBM25F(scoring.BM25F):
    """BM25 per field, times the field's weight (FIELD_WEIGHTS), with the Robertson/Sparck
    Jones idf. Whoosh's own idf, log(N/(n+1)) + 1, gives a word found in every paper ("the",
    "of": titles keep them) a weight of 1, so a long query ranked papers by its stop words.
    K1 = 0.9 was tuned on SciFact's train split."""

    def __init__(self):
        super().__init__(B=0.75, K1=0.9)

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        documents, found = parent.doc_count_all(), parent.doc_frequency(fieldname, text)
        return math.log(1 + (documents - found + 0.5) / (found + 0.5))

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return super().scorer(searcher, fieldname, text, qf)
        B = self._field_B.get(fieldname, self.B)  # BM25F's per-field B, as its own scorer() honours
        return _WeightedScorer(searcher, fieldname, text, B, self.K1, qf, FIELD_WEIGHTS.get(fieldname, 1.0))


class _WeightedScorer(scoring.BM25FScorer):
    def __init__(self, searcher, fieldname, text, B, K1, qf, field_weight: float):
        self.field_weight = field_weight  # before the base class computes the best possible score
        super().__init__(searcher, fieldname, text, B, K1, qf)

    def _score(self, weight, length):
        return self.field_weight * super()._score(weight, length)


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        ids=KEYWORD(lowercase=True),
        key=ID(stored=True),
        title=PaperText(stemmed=True),
        abstract=PaperText(stop_words=True, stemmed=True),
        # Title and abstract words as written: the vocabulary for completions and spelling
        # corrections, with true document frequencies. (Whoosh's own spelling=True adds a
        # posting per word occurrence, all on document 0: useless frequencies, and an import
        # of 158k papers peaked at 20 GB merging them.)
        words=WordsField(),
        authors=PaperText(),
        venue=PaperText(),
        keywords=PaperText(stemmed=True),
        year=NUMERIC(int, bits=16, stored=True, sortable=True, signed=False, default=0),
        data=STORED,
    )


_ACRONYM = re.compile(r"\(([A-Za-z][\w-]*?[A-Z][\w-]*?)s?\)")
_WORDS_BEFORE = re.compile(r"((?:[\w-]+\s+){1,8})$")


def acronym_expansions(title: str, abstract: str) -> list[str]:
    """Long forms of the acronyms a title uses, as the abstract defines them: a title with
    "RoPE" then also matches "rotary position embedding"."""
    title_words = set(re.findall(r"[\w-]+", title))
    expansions = []
    for match in _ACRONYM.finditer(abstract):  # "(RoPE)" first: rare, so the words before are looked at seldom
        acronym = match.group(1)
        if acronym not in title_words:
            continue
        before = _WORDS_BEFORE.search(abstract, max(0, match.start() - 200), match.start())
        capitals = [c.lower() for c in acronym if c.isupper()]
        long_form = before.group(1).split()[-len(capitals):] if before else []
        if len(long_form) == len(capitals) and all(w[0].lower() == c for w, c in zip(long_form, capitals, strict=True)):
            expansions.append(" ".join(long_form))
    return expansions


def stored_paper(fields: dict) -> Paper:
    """A paper as the index stored it: its whole record, JSON in the schema's ``data``."""
    return Paper.from_dict(json.loads(fields["data"]))
