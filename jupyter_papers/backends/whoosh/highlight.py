"""A hit's title, authors and abstract snippet as escaped HTML, matched words in <mark>.

Whoosh's highlighter runs its whole analyzer chain (tokenizer, folding, stop words,
stemming: a generator per filter) over every word of every abstract shown: about 1 ms a
hit, ten hits a query, one query per key press. Here a distinct word is analysed once and
remembered, so a hit costs one regular-expression pass over its text.
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

from whoosh.support.charset import accent_map

from .analysis import HYPHENS, TOKEN_PATTERN, has_hyphen

SNIPPET_CHARS = 300   # an abstract snippet's length at most ...
SURROUND = 80         # ... with this much context around its matches
SNIPPETS = 2          # the best fragments shown, in text order
BETWEEN = " … "
KNOWN_WORDS = 200_000  # words remembered per field before starting afresh

_TOKEN = re.compile(TOKEN_PATTERN)
# words joined by hyphens, from a word's start, never backtracking into a word (a text's
# every word is tried: an abstract is read in microseconds)
_COMPOUND = re.compile(rf"(?<!\w)(?>{TOKEN_PATTERN})(?:[{HYPHENS}](?>{TOKEN_PATTERN}))+")
LONG_TEXT = 2000  # characters past which a text is searched for its candidate words first



class _Match(NamedTuple):
    start: int
    end: int
    term: str


class Highlighter:
    """Marks the words of a text that an index field would have turned into given terms."""

    def __init__(self, schema, fields=("title", "abstract", "authors")):
        self._analyzers = {name: schema[name].analyzer for name in fields}
        self._terms: dict[str, dict[str, str | None]] = {name: {} for name in fields}
        self._prefixes: dict[frozenset, re.Pattern] = {}

    def whole(self, text: str, terms: set[str] | None, fieldname: str) -> str:
        """All of the text, marked; "" when nothing in it matches."""
        matches = self._matches(text, terms, fieldname)
        return _marked(text, 0, len(text), matches) if matches else ""

    def snippet(self, text: str, terms: set[str] | None, fieldname: str) -> str:
        """The passages richest in distinct matched words, in text order; "" when none."""
        matches = self._matches(text, terms, fieldname)
        if not matches:
            return ""
        fragments = _fragments(text, matches)
        best = sorted(sorted(fragments, key=lambda f: -len({m.term for m in f[2]}))[:SNIPPETS])
        parts, previous_end = [], None
        for start, end, inside in best:
            if previous_end is not None:  # fragments that touch read on; others have a gap
                gap = text[previous_end:start]
                parts.append(escape(gap) if not gap.strip() else BETWEEN)
            parts.append(_marked(text, start, end, inside))
            previous_end = end
        before = "…" if text[:best[0][0]].strip() else ""
        after = "…" if text[best[-1][1]:].strip() else ""
        return before + "".join(parts) + after

    def _matches(self, text: str, terms: set[str] | None, fieldname: str) -> list[_Match]:
        if not text or not terms:
            return []
        known = self._terms[fieldname]
        matches = []
        for token in self._candidates(text, terms):
            word = token.group()
            term = known.get(word, "")
            if term == "":
                term = known[word] = self._term(fieldname, word)
                if len(known) > KNOWN_WORDS:
                    known.clear()
            if term in terms:
                matches.append(_Match(token.start(), token.end(), term))
        if len({m.term for m in matches}) < len(terms) and has_hyphen(text):  # a term may be a joined word
            matches = self._with_compounds(text, terms, fieldname, matches)
        return matches

    def _with_compounds(self, text: str, terms: set[str], fieldname: str, matches: list[_Match]) -> list[_Match]:
        """The matches with each word written with hyphens whose joined form is a term
        ("pre-training" for "pretraining") marked whole, in place of its parts."""
        known = self._terms[fieldname]
        whole = []
        for compound in _COMPOUND.finditer(text):
            joined = "".join(_TOKEN.findall(compound.group()))
            term = known.get(joined, "")
            if term == "":
                term = known[joined] = self._term(fieldname, joined)
            if term in terms:
                whole.append(_Match(compound.start(), compound.end(), term))
        if not whole:
            return matches
        inside = lambda m: any(w.start <= m.start < w.end for w in whole)  # noqa: E731
        return sorted([m for m in matches if not inside(m)] + whole)

    def _candidates(self, text: str, terms: set[str]):
        """The words of the text that may stand for the terms. A long text (a PDF's page)
        is first searched, in one regular expression, for words beginning as a term does
        (a stem keeps all but its last letters from the word; accents folded first): a page's hundreds of words are not each looked up."""
        if len(text) < LONG_TEXT:
            return _TOKEN.finditer(text)
        key = frozenset(terms)
        pattern = self._prefixes.get(key)
        if pattern is None:
            if len(self._prefixes) > 64:
                self._prefixes.clear()
            starts = sorted({term[:max(2, len(term) - 2)] for term in terms}, key=len, reverse=True)
            pattern = self._prefixes[key] = re.compile(r"(?<!\w)(?<!\w[.'’])(?:%s)" % "|".join(map(re.escape, starts)),
                                                          re.I)
        folded = text.translate(accent_map)  # one character for one: offsets stay
        return (token for token in (_TOKEN.match(text, found.start()) for found in pattern.finditer(folded)) if token)

    def _term(self, fieldname: str, word: str) -> str | None:
        """The index term of one word (None for a stop word)."""
        for token in self._analyzers[fieldname](word):
            return token.text
        return None


def _fragments(text: str, matches: list[_Match]) -> list[tuple[int, int, list[_Match]]]:
    """Windows of at most SNIPPET_CHARS around runs of matches, cut at spaces."""
    fragments = []
    i = previous_end = 0
    while i < len(matches):
        first = matches[i]
        start = max(previous_end, first.start - SURROUND)
        j = i + 1
        while j < len(matches) and matches[j].end + SURROUND - start <= SNIPPET_CHARS:
            j += 1
        last = matches[j - 1]
        limit = matches[j].start if j < len(matches) else len(text)  # no unmarked match inside
        end = min(limit, max(last.end + SURROUND, start + SNIPPET_CHARS))
        if start > 0:
            space = text.find(" ", start, first.start)
            start = space + 1 if space != -1 else first.start
        if end < len(text):
            space = text.rfind(" ", last.end, end)
            end = space if space != -1 else last.end
        fragments.append((start, end, matches[i:j]))
        i, previous_end = j, end
    return fragments


def _marked(text: str, start: int, end: int, matches: list[_Match]) -> str:
    out, position = [], start
    for match in matches:
        out.append(escape(text[position:match.start]))
        out.append(f"<mark>{escape(text[match.start:match.end])}</mark>")
        position = match.end
    out.append(escape(text[position:end]))
    return "".join(out)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def plain(title: str, abstract: str, authors: str) -> dict[str, str]:
    """What a hit shows without query matches: the texts escaped, the abstract shortened."""
    if len(abstract) > SNIPPET_CHARS:
        abstract = abstract[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return {"title": escape(title), "abstract": escape(abstract), "authors": escape(authors)}
