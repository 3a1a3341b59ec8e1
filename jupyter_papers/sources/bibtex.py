"""BibTeX and BibLaTeX through bibtexparser, into CSL-JSON terms the way pandoc's reader
maps them, with what plain bibtexparser leaves undone: ``#`` concatenation, month macros,
crossref inheritance, %-comment lines, names split before their LaTeX is decoded (so
``{World Health Organization}`` stays one organisation), URL and DOI fields kept verbatim.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares.names import split_multiple_persons_names
from bibtexparser.model import DuplicateBlockKeyBlock, Entry

from ..latex import to_text
from ..paper import Name, Paper, normalize_arxiv_id
from . import Problem, Report, Source, clean

MONTHS = {name: str(number) for number, name in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
# Entry type -> CSL item type (and the genre a thesis type implies), as pandoc maps them.
TYPES = {
    "article": "article-journal", "book": "book", "mvbook": "book", "booklet": "pamphlet",
    "inbook": "chapter", "incollection": "chapter", "inproceedings": "paper-conference",
    "conference": "paper-conference", "manual": "book", "mastersthesis": "thesis", "phdthesis": "thesis",
    "thesis": "thesis", "proceedings": "book", "mvproceedings": "book", "techreport": "report",
    "report": "report", "unpublished": "manuscript", "online": "webpage", "www": "webpage",
    "electronic": "webpage", "dataset": "dataset", "software": "software", "patent": "patent",
    "periodical": "periodical", "collection": "book", "mvcollection": "book", "reference": "book",
    "misc": "article",
}
GENRES = {"mastersthesis": "Master’s thesis", "phdthesis": "PhD thesis"}
VERBATIM = frozenset({"url", "doi", "eprint", "file", "pdf", "urlraw", "verba", "verbb", "verbc"})
# Plain text fields -> CSL variables (name lists, dates, titles and numbers are mapped apart).
_TEXT_TO_CSL = {
    "volume": "volume", "edition": "edition", "publisher": "publisher", "address": "publisher-place",
    "location": "publisher-place", "isbn": "ISBN", "issn": "ISSN", "note": "note", "chapter": "chapter-number",
    "eventtitle": "event-title", "version": "version", "pagetotal": "number-of-pages", "addendum": "annote",
}
_VENUES = ("journal", "journaltitle", "booktitle")
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]*(?:preprint\s*)?(?:arxiv[:\s]*)?(\d{4}\.\d{4,5}|[a-z.-]+/\d{7})", re.I)
_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
_CAPITALISED = re.compile(r"^[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]*(?:-[A-ZÀ-ÖØ-Þ]?[a-zß-öø-ÿ]*)*$")


def _blank_comment_lines(text: str) -> str:
    """%-lines are comments to biber and biblatex; blank them and keep line numbers."""
    return re.sub(r"(?m)^[ \t]*%.*$", "", text)


def _split_concatenation(expression: str) -> list[str]:
    parts, depth, quoted, current = [], 0, False, []
    for char in expression:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        if char == "#" and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _resolve(expression: str, strings: dict[str, str]) -> str:
    """Evaluate ``a # "b" # {c}`` with @string and month macros; a macro's value is used
    exactly as defined, blanks included (``" Symposium"``)."""
    pieces = []
    for part in _split_concatenation(expression):
        if len(part) >= 2 and part[0] + part[-1] in ('{}', '""'):
            pieces.append(part[1:-1])
        elif part.lower() in strings:
            pieces.append(strings[part.lower()])
        elif part.lower()[:3] in MONTHS and part.isalpha():
            pieces.append(MONTHS[part.lower()[:3]])
        else:
            pieces.append(part)
    return "".join(pieces)


def _resolve_macros(library: Library, entries: list[Entry]) -> None:
    strings = {s.key.lower(): s.value for s in library.strings if isinstance(s.value, str)}
    for entry in entries:
        for fld in entry.fields:
            if fld.enclosing == "no-enclosing" or (isinstance(fld.value, str) and fld.value.lower() in MONTHS):
                fld.value = _resolve(fld.value, strings)


def _inherit_crossrefs(entries: list[Entry]) -> None:
    """BibTeX's crossref: a child takes the fields it lacks from its parent."""
    by_key = {e.key.lower(): e for e in entries}
    for entry in entries:
        parent = by_key.get(str(entry.fields_dict.get("crossref", "") and entry["crossref"]).lower())
        if parent is None:
            continue
        for fld in parent.fields:
            name = fld.key.lower()
            if name == "title" and "booktitle" not in entry.fields_dict:
                entry["booktitle"] = fld.value
            elif name not in {f.key.lower() for f in entry.fields}:
                entry[name] = fld.value


# --- names ---------------------------------------------------------------------------------
def bibtex_name(raw: str) -> Name:
    """One name by BibTeX's rules, its LaTeX read as text once it is split."""
    return Name.parse(raw, decode=to_text)


def bibtex_names(value: str) -> list[Name]:
    names = [bibtex_name(n) for n in split_multiple_persons_names(value)]
    return [n for n in names if n and n.lower() != "others"]


# --- titles ---------------------------------------------------------------------------------
def _protected_segments(raw: str) -> Iterator[tuple[str, bool]]:
    """The title in pieces, each with whether braces protect its case (``{RoPE}``; not a
    special character such as ``{\\"O}``)."""
    depth, start = 0, 0
    for position, char in enumerate(raw):
        if char == "\\" and position + 1 < len(raw) and raw[position + 1] in "{}":
            continue
        if char == "{" and (position == 0 or raw[position - 1] != "\\"):
            if depth == 0:
                yield raw[start:position], False
                start = position
            depth += 1
        elif char == "}" and (position == 0 or raw[position - 1] != "\\") and depth:
            depth -= 1
            if depth == 0:
                group = raw[start:position + 1]
                yield group, not group.startswith("{\\")
                start = position + 1
    yield raw[start:], False


def sentence_case(raw: str) -> str:
    """A BibTeX title as CSL expects it (as pandoc converts it): words written with a
    capital and then lower case are lowered, except the first word and the first word
    after a colon (which is capitalised) or a full stop; words in braces, acronyms and
    iPhone-like words stay."""
    out, first = [], True
    for segment, protected in _protected_segments(raw):
        text = to_text(segment)
        if protected:
            out.append(text)
            first = False if text.strip() else first
            continue
        words = re.split(r"(\s+)", text)
        for index, word in enumerate(words):
            if not word or word.isspace():
                continue
            if first == ":" and word[:1].islower():
                words[index] = word[:1].upper() + word[1:]
            elif not first and _CAPITALISED.match(word.rstrip(":.,;?!)’'\"")):
                words[index] = word.lower()
            first = word[-1] if word.endswith((":", ".")) else False
        out.append("".join(words))
    return clean("".join(out))


# --- entries --------------------------------------------------------------------------------
def _issued(fields: dict[str, str], get) -> dict | None:
    match = _DATE.match(fields.get("date", "")) or _DATE.match(get("year"))
    if not match:
        return None
    parts = [int(match.group(1))]
    month = match.group(2) or MONTHS.get(get("month").lower()[:3]) or (get("month") if get("month").isdigit() else "")
    if month and 1 <= int(month) <= 12:
        parts.append(int(month))
        if match.group(3):
            parts.append(int(match.group(3)))
    return {"date-parts": [parts]}


def _arxiv_id(get) -> str:
    if get("archiveprefix").lower() == "arxiv" or get("eprinttype").lower() == "arxiv":
        found = normalize_arxiv_id(get("eprint"))
        if found:
            return found
    for name in ("journal", "note", "url", "eprint"):
        match = _ARXIV_IN_TEXT.search(get(name))
        found = normalize_arxiv_id(match.group(1) if match else get(name))
        if found:
            return found
    return ""


def paper_from_entry(entry: Entry) -> Paper:
    raw = {f.key.lower(): f.value for f in entry.fields if isinstance(f.value, str)}

    def get(name: str) -> str:
        value = raw.get(name, "")
        return clean(value.strip("{}") if name in VERBATIM else to_text(value))

    kind = entry.entry_type.lower()
    english = get("langid").lower() in ("", "english", "american", "british", "en", "en-us", "en-gb") and (
        get("language").lower() in ("", "english", "american", "british", "en", "en-us", "en-gb"))
    titled = sentence_case if english else (lambda text: clean(to_text(text)))
    csl: dict = {name: get(bib) for bib, name in _TEXT_TO_CSL.items() if get(bib)}
    for name in ("publisher", "publisher-place"):  # biblatex lists: "A and B" -> "A; B"
        if name in csl:
            csl[name] = "; ".join(part.strip() for part in re.split(r"\s+and\s+", csl[name]))
    csl_type = TYPES.get(kind, "article")
    venue_field = next((n for n in _VENUES if get(n)), "")
    venue = get(venue_field)
    if venue and venue_field == "booktitle":
        csl["container-title"] = titled(raw["booktitle"])
    if english and raw.get("title"):
        csl["title"] = sentence_case(raw["title"])
    if get("series"):
        csl["collection-title"] = titled(raw["series"])
    if get("number"):
        in_series = "collection-number" if csl_type in ("book", "chapter", "paper-conference") else "number"
        csl["issue" if csl_type == "article-journal" else in_series] = get("number")
    if get("issue"):
        csl["issue"] = ", ".join(p for p in (csl.get("issue"), get("issue")) if p)
    if get("pages"):
        csl["page"] = re.sub(r"\s*[-–]+\s*", "-", get("pages"))
    if get("school") or get("institution") or get("organization") and kind in ("manual", "proceedings", "inproceedings"):
        csl["publisher"] = "; ".join(p for p in (get("school") or get("institution") or get("organization"),
                                                 csl.get("publisher")) if p)
    if kind in GENRES or get("type"):
        csl["genre"] = get("type") or GENRES[kind]
    if get("howpublished") and "publisher" not in csl:
        csl["publisher"] = get("howpublished")
    if get("language") or get("langid"):
        csl["language"] = get("language") or get("langid")
    issued = _issued(raw, get)
    if issued and len(issued["date-parts"][0]) > 1:
        csl["issued"] = issued
    if _DATE.match(raw.get("urldate", "")):
        csl["accessed"] = _issued({"date": raw["urldate"]}, lambda name: "")
    arxiv_id = _arxiv_id(get)
    return Paper(
        title=get("title"),
        abstract=get("abstract"),
        authors=bibtex_names(raw.get("author", "")),
        editors=bibtex_names(raw.get("editor", "")),
        year=issued["date-parts"][0][0] if issued else None,
        venue=venue,
        doi=get("doi"),
        arxiv_id=arxiv_id,
        url=get("url"),
        keywords=[clean(k) for k in re.split(r"[,;]", get("keywords") or get("keyword")) if clean(k)],
        key=entry.key,
        type=csl_type,
        csl=csl,
        extra={"primaryclass": get("primaryclass")} if arxiv_id and get("primaryclass") else {},
    )


def read(source: Source, report: Report) -> Iterator[Paper]:
    origin = source.origin
    library = bibtexparser.parse_string(_blank_comment_lines(source.text))
    entries = list(library.entries)
    for block in library.failed_blocks:
        line = block.start_line + 1 if block.start_line is not None else None  # bibtexparser counts from 0
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(block.ignore_error_block, Entry):
            entries.append(block.ignore_error_block)
            report(Problem(origin, line, f"duplicate key {block.key!r}; indexed under a unique key"))
        else:
            start = (block.raw or "").strip().split("\n", 1)[0][:60]
            why = str(block.error) or "syntax error, such as an unclosed brace or quote"
            report(Problem(origin, line, f"entry skipped ({why}): {start}"))
    entries.sort(key=lambda e: e.start_line or 0)
    _resolve_macros(library, entries)
    _inherit_crossrefs(entries)
    seen: set[str] = set()
    for entry in entries:
        paper = paper_from_entry(entry)
        copies = itertools.count(2)
        while paper.key.lower() in seen:  # a duplicate key: keep both entries
            paper = dataclasses.replace(paper, key=f"{entry.key}-{next(copies)}", id="")
        seen.add(paper.key.lower())
        yield paper
