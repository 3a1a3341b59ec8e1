"""How paper text becomes index terms: the Whoosh schema and its analyzers.

Titles keep stop words (so "attention is all you need" matches as a phrase); abstracts drop
them (smaller postings, faster queries). Everything is case- and accent-folded, so
"schrodinger" finds "Schrödinger". Tokens keep a trailing "++" or "#" ("PFGM++", "C#") and
split on hyphens, so "GLM-130B" and "GLM 130B" give the same terms.
"""

from __future__ import annotations

import math
import re

from whoosh import scoring
from whoosh.analysis import StemFilter, StopFilter, Token, Tokenizer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence
from whoosh.support.charset import accent_map

SCHEMA_VERSION = "5"
TOKEN_PATTERN = r"\w+(?:[.'’]\w+)*(?:\+\+|#)?"
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
    filter (a quarter of the analysis, most of an import's time)."""

    def __init__(self):
        self.expression = re.compile(TOKEN_PATTERN)

    def __call__(self, value: str, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        matches = self.expression.finditer(value) if tokenize else [re.match(r".*", value, re.S)]
        for position, match in enumerate(matches, start_pos):
            written = match.group()
            token.text = written.lower().translate(accent_map)
            token.boost, token.stopped = 1.0, False
            if keeporiginal or not tokenize:  # as Whoosh's tokenizer keeps it
                token.original = written
            if positions:
                token.pos = position
            if chars:
                token.startchar, token.endchar = start_char + match.start(), start_char + match.end()
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
        chain = chain | StopFilter(minsize=1)
    return chain | StemFilter(cachesize=-1)


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
        title=TEXT(analyzer=stemming_analyzer(False)),
        abstract=TEXT(analyzer=stemming_analyzer(True)),
        # Title and abstract words as written: the vocabulary for completions and spelling
        # corrections, with true document frequencies. (Whoosh's own spelling=True adds a
        # posting per word occurrence, all on document 0: useless frequencies, and an import
        # of 158k papers peaked at 20 GB merging them.)
        # scorable only so Whoosh keeps its (never read) length column: without one, indexing
        # asked the file system whether the column exists for each posting (a third of the time)
        words=FieldType(Existence(), folding_analyzer(), scorable=True),
        authors=TEXT(analyzer=folding_analyzer()),
        venue=TEXT(analyzer=folding_analyzer()),
        keywords=TEXT(analyzer=stemming_analyzer(False)),
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
