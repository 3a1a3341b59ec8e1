"""BibTeX and BibLaTeX through bibtexparser, with what plain bibtexparser leaves undone:
``#`` concatenation, month macros, crossref inheritance and %-comment lines."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import LatexDecodingMiddleware
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from bibtexparser.model import DuplicateBlockKeyBlock, Entry

from ..paper import Paper, normalize_arxiv_id
from . import Problem, Report, Source, clean

MONTHS = {name: str(number) for number, name in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_EXTRA_FIELDS = ("volume", "number", "pages", "publisher", "address", "editor", "month", "isbn", "issn",
                 "note", "edition", "series", "school", "institution", "organization", "howpublished",
                 "chapter", "booktitle", "journal")
_VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "eventtitle")
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]*(?:preprint\s*)?(?:arxiv[:\s]*)?(\d{4}\.\d{4,5}|[a-z.-]+/\d{7})", re.I)


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


def _resolve(expression: str, strings: dict[str, str], depth: int = 0) -> str:
    """Evaluate ``a # "b" # {c}`` with @string and month macros."""
    pieces = []
    for part in _split_concatenation(expression):
        if len(part) >= 2 and part[0] + part[-1] in ('{}', '""'):
            pieces.append(part[1:-1])
        elif part.lower() in strings and depth < 8:
            pieces.append(_resolve(strings[part.lower()], strings, depth + 1))
        elif part.lower()[:3] in MONTHS and part.isalpha():
            pieces.append(MONTHS[part.lower()[:3]])
        else:
            pieces.append(part)
    return "".join(pieces)


def _resolve_macros(library: Library) -> None:
    strings = {s.key.lower(): s.value for s in library.strings}
    for entry in library.entries:
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


def _person(name: str) -> str:
    name = clean(name.strip("{}"))
    if "=" in name and re.match(r"^\s*\w+\s*=", name):
        parts = dict(p.split("=", 1) for p in name.split(",") if "=" in p)
        parts = {k.strip().lower(): clean(v.strip("{} ")) for k, v in parts.items()}
        return clean(" ".join(parts.get(k, "") for k in ("given", "prefix", "family", "suffix")))
    try:
        parts = parse_single_name_into_parts(name, strict=False)
    except Exception:  # bibtexparser raises several types on odd names; the raw name is still useful
        return name
    return clean(" ".join(parts.first + parts.von + parts.last + parts.jr)).strip("{}") or name


def _authors(value: str) -> list[str]:
    names = [_person(n) for n in split_multiple_persons_names(value)]
    return [n for n in names if n and n.lower() != "others"]


def _plain(value: str) -> str:
    return clean(value.replace("{", "").replace("}", ""))


def paper_from_entry(entry: Entry) -> Paper:
    fields = {f.key.lower(): f.value for f in entry.fields if isinstance(f.value, str)}
    get = lambda name: _plain(fields.get(name, ""))  # noqa: E731
    arxiv_id = ""
    if get("archiveprefix").lower() == "arxiv" or get("eprinttype").lower() == "arxiv":
        arxiv_id = normalize_arxiv_id(get("eprint")) or ""
    if not arxiv_id:
        for name in ("journal", "note", "url", "eprint"):
            match = _ARXIV_IN_TEXT.search(get(name))
            arxiv_id = normalize_arxiv_id(match.group(1) if match else get(name)) or ""
            if arxiv_id:
                break
    return Paper(
        title=get("title"),
        abstract=get("abstract"),
        authors=_authors(fields.get("author", "")),
        year=get("year") or get("date") or None,
        venue=next((get(n) for n in _VENUE_FIELDS if get(n)), ""),
        doi=get("doi"),
        arxiv_id=arxiv_id,
        url=get("url"),
        keywords=[clean(k) for k in re.split(r"[,;]", get("keywords") or get("keyword")) if clean(k)],
        key=entry.key,
        entry_type=entry.entry_type.lower(),
        extra={name: get(name) for name in _EXTRA_FIELDS if get(name)},
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
    _resolve_macros(library)
    decoder = LatexDecodingMiddleware(allow_inplace_modification=True)
    entries = [decoder.transform_entry(entry, library) for entry in entries]
    _inherit_crossrefs(entries)
    seen: set[str] = set()
    for entry in entries:
        paper = paper_from_entry(entry)
        copies = itertools.count(2)
        while paper.key.lower() in seen:  # a duplicate key: keep both entries
            paper = dataclasses.replace(paper, key=f"{entry.key}-{next(copies)}", id="")
        seen.add(paper.key.lower())
        yield paper
