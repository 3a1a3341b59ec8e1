"""What a person typed, read as every backend reads it: the years (``year:2020..2023``),
the scope (``in:fulltext``), Zotero collections (``collection:Thesis``), whether it uses
the query language or is plain words, whether it is a sentence (a claim, a passage), and
the words themselves. The backends turn a Question into their own queries."""

from __future__ import annotations

import re
from dataclasses import dataclass

YEAR_RANGE = re.compile(
    r"\byear:\s*(?:\[\s*(\d{4})?\s*(?:TO|to)\s*(\d{4})?\s*\]|(>=|<=|>|<)?\s*(\d{4})(?:\s*(?:\.\.|-|–)\s*(\d{4}))?)"
)
ADVANCED = re.compile(
    r'"|\b(?:title|abstract|authors?|venue|keywords?|id):|\b(?:AND|OR|NOT)\b|[()*?]'
)
# Prefixes that make compounds papers write joined, hyphenated or spaced ("pretraining",
# "pre-training", "pre training"): a search finds the other spellings. Longest first.
COMPOUND_PREFIXES = ("pseudo", "hyper", "inter", "intra", "macro", "micro", "multi", "quasi", "cross", "under",
                     "anti", "auto", "meta", "mono", "poly", "post", "self", "semi", "over", "pre", "non", "sub", "co")
STRIP = ".,;:!?()[]{}\"'“”‘’`"

MAX_YEAR = 65535  # the Whoosh year column is 16 bits
MAX_QUERY_WORDS = 200  # past this a query is cut: Whoosh's parser recurses once per word


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
    return YEAR_RANGE.sub(" ", text), *_year_bounds(year_from, year_to)


SCOPES = ("all", "fulltext", "metadata")
_SCOPE = re.compile(r"(?<!\S)in:(fulltext|full-text|text|pdf|metadata|meta|abstract)(?!\S)", re.I)


def extract_scope(text: str, scope: str | None) -> tuple[str, str]:
    """Take ``in:fulltext`` (the PDFs' pages only) or ``in:metadata`` (titles, abstracts,
    authors only) out of the text; otherwise the scope given, "all" by default."""
    scope = scope if scope in SCOPES else "all"
    for match in _SCOPE.finditer(text):
        scope = "metadata" if match.group(1).lower() in ("metadata", "meta", "abstract") else "fulltext"
    return _SCOPE.sub(" ", text), scope


def _year_bounds(year_from: int | None, year_to: int | None) -> tuple[int | None, int | None]:
    """Years the index can hold (0 to 65535), in order: a reversed range is meant the other way round."""
    clamp = lambda year: None if year is None else min(max(int(year), 0), MAX_YEAR)  # noqa: E731
    year_from, year_to = clamp(year_from), clamp(year_to)
    if year_from is not None and year_to is not None and year_from > year_to:
        year_from, year_to = year_to, year_from
    return year_from, year_to


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


_COLLECTION = re.compile(r'\bcollection:(?:"([^"]+)"|(\S+))', re.I)


def in_collection(text: str) -> str:
    """``collection:Thesis`` (or ``collection:"Thesis/Chapter 2"``) as a filter: the phrase
    a Zotero paper's keywords hold for it ("collection: Thesis/Chapter 2"), required
    beside the rest of the query."""
    names = collections_in(text)
    if not names:
        return text
    required = " AND ".join(f'keywords:"collection {name}"' for name in names)
    rest = without_collections(text)
    return f"{required} AND ({rest})" if rest else required


def has_collection(text: str) -> bool:
    return bool(_COLLECTION.search(text))


def collections_in(text: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in _COLLECTION.finditer(text)]


def compound_parts(word: str) -> list[str]:
    """A word that begins with a prefix of compounds ("pretraining", "nonconvex") as its
    two parts side by side ("pre training"), for each such prefix (longest first) that
    leaves a word of four letters or more."""
    lowered = word.lower()
    return [f"{prefix} {lowered[len(prefix):]}" for prefix in COMPOUND_PREFIXES
            if lowered.startswith(prefix) and len(lowered) - len(prefix) >= 4 and lowered[len(prefix):].isalpha()]


def without_collections(text: str) -> str:
    return " ".join(_COLLECTION.sub(" ", text).split())


def is_plain(text: str) -> bool:
    """Words only: no fields, phrases, operators, wildcards or collections."""
    return not ADVANCED.search(text) and not has_collection(text)


def plain_words(text: str) -> str:
    """The words of a query without its syntax (fields, operators, collections, quotes):
    what the PDFs' pages are searched for."""
    text = _COLLECTION.sub(" ", text)
    text = re.sub(r"\b(?:title|abstract|authors?|venue|keywords?|id):|\b(?:AND|OR|NOT)\b|[\"()*?]", " ", text)
    return " ".join(text.split())



SENTENCE_WORDS = 6  # plain words from which a query is read as a sentence
WRITTEN_SENTENCE_WORDS = 4  # ... or fewer, ended as a written sentence is ("Deleting Raptor reduces G-CSF levels.")
PROSE = re.compile(r"[()]|\?(?=\s|$)")


def is_sentence(text: str) -> bool:
    """Many words and no query syntax; in a sentence, brackets "(DCs)" and a question's
    "?" are prose, not grouping and wildcards."""
    words = len(words_of(text))
    ended = text.rstrip().endswith((".", "?", "!"))
    prose = PROSE.sub(" ", text)
    return (words >= SENTENCE_WORDS or (ended and words >= WRITTEN_SENTENCE_WORDS)) and not ADVANCED.search(prose)


@dataclass
class Question:
    """A query as typed (``query``), and what is searched for once years and scope are
    taken out of it (``text``, at most MAX_QUERY_WORDS words)."""

    query: str
    text: str
    year_from: int | None
    year_to: int | None
    scope: str
    prefix: bool
    sentence: bool

    @property
    def years(self) -> tuple[int | None, int | None] | None:
        return None if self.year_from is None and self.year_to is None else (self.year_from, self.year_to)


def read_question(query: str | None, year_from: int | None = None, year_to: int | None = None,
                  prefix: bool | None = None, sentence: bool | None = None, scope: str | None = None) -> Question:
    """``prefix`` by default when the query does not end in a space (its last word is
    being typed); ``sentence`` by default when the text is one (is_sentence)."""
    query = query or ""
    text, year_from, year_to = extract_years(query, year_from, year_to)
    text, scope = extract_scope(text, scope)
    words = text.split()
    if len(words) > MAX_QUERY_WORDS:
        text = " ".join(words[:MAX_QUERY_WORDS])
    if prefix is None:
        prefix = not query.endswith((" ", "\t", "\n"))
    sentence = is_sentence(text) if sentence is None else sentence
    return Question(query, text, year_from, year_to, scope, prefix, sentence)
