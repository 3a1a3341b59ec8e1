"""How paper text becomes index terms: the Whoosh schema and its analyzers.

Titles keep stop words (so "attention is all you need" matches as a phrase); abstracts drop
them (smaller postings, faster queries). Everything is case- and accent-folded, so
"schrodinger" finds "Schrödinger". Tokens keep a trailing "++" or "#" ("PFGM++", "C#") and
split on hyphens, so "GLM-130B" and "GLM 130B" give the same terms.
"""

from __future__ import annotations

import re

from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence
from whoosh.support.charset import accent_map

SCHEMA_VERSION = "2"
TOKEN_PATTERN = r"\w+(?:[.'’]\w+)*(?:\+\+|#)?"
TEXT_FIELDS = ("title", "abstract", "authors", "venue", "keywords")
# Searched first (see PaperIndex.search): a tenth of the postings, and where a person's words
# usually are. Not venue: "learning" is in the venue of half of a machine-learning corpus.
SHORT_FIELDS = frozenset({"title", "authors", "keywords"})
FIELD_BOOSTS = {"title": 3.0, "abstract": 1.0, "authors": 2.0, "venue": 0.5, "keywords": 1.5}


def folding_analyzer():
    """Words as written, lower-cased and accent-folded: names, venues, spelling vocabulary."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


def stemming_analyzer(stop_words: bool):
    chain = folding_analyzer()
    if stop_words:
        chain = chain | StopFilter(minsize=1)
    return chain | StemFilter(cachesize=100_000)


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        ids=KEYWORD(lowercase=True),
        key=ID(stored=True),
        title=TEXT(analyzer=stemming_analyzer(False), field_boost=FIELD_BOOSTS["title"]),
        abstract=TEXT(analyzer=stemming_analyzer(True)),
        # Title and abstract words as written: the vocabulary for completions and spelling
        # corrections, with true document frequencies. (Whoosh's own spelling=True adds a
        # posting per word occurrence, all on document 0: useless frequencies, and an import
        # of 158k papers peaked at 20 GB merging them.)
        words=FieldType(Existence(), folding_analyzer(), scorable=False),
        authors=TEXT(analyzer=folding_analyzer(), field_boost=FIELD_BOOSTS["authors"]),
        venue=TEXT(analyzer=folding_analyzer(), field_boost=FIELD_BOOSTS["venue"]),
        keywords=TEXT(analyzer=stemming_analyzer(False), field_boost=FIELD_BOOSTS["keywords"]),
        year=NUMERIC(int, bits=16, stored=True, sortable=True, signed=False, default=0),
        data=STORED,
    )


_DEFINITION = re.compile(r"((?:[\w-]+\s+){1,8}?)\(([A-Za-z][\w-]*[A-Z][\w-]*?)s?\)")


def acronym_expansions(title: str, abstract: str) -> list[str]:
    """Long forms of the acronyms a title uses, as the abstract defines them: a title with
    "RoPE" then also matches "rotary position embedding"."""
    title_words = set(re.findall(r"[\w-]+", title))
    expansions = []
    for match in _DEFINITION.finditer(abstract):
        words, acronym = match.group(1).split(), match.group(2)
        if acronym not in title_words:
            continue
        capitals = [c.lower() for c in acronym if c.isupper()]
        long_form = words[-len(capitals):]
        if len(long_form) == len(capitals) and all(w[0].lower() == c for w, c in zip(long_form, capitals, strict=True)):
            expansions.append(" ".join(long_form))
    return expansions
