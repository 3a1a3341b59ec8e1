"""arXiv's two public shapes: the metadata snapshot (JSON Lines) and the API's Atom feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from ..paper import Name, Paper, normalize_arxiv_id
from . import Problem, Report, Source, clean

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"


def is_snapshot_record(record: dict) -> bool:
    return "authors_parsed" in record or "versions" in record or "journal-ref" in record or (
        "submitter" in record)


def _year_of(record: dict) -> int | None:
    versions = record.get("versions")
    for version in versions if isinstance(versions, list) else []:
        match = re.search(r"\b(19|20)\d\d\b", str(version.get("created", "") if isinstance(version, dict) else ""))
        if match:
            return int(match.group())
    match = re.match(r"(\d{4})", str(record.get("update_date", "")))
    if match:
        return int(match.group(1))
    match = re.match(r"(\d\d)(\d\d)\.", str(record.get("id", "")))
    return 2000 + int(match.group(1)) if match else None


def _snapshot_authors(record: dict) -> list[Name]:
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        people = []
        for parts in parsed:
            last, first, suffix = ([clean(p) for p in parts] + ["", "", ""])[:3] if isinstance(parts, list) else ("",) * 3
            people.append(Name(family=last, given=first, suffix=suffix))
        return [n for n in people if n]
    authors = clean(record.get("authors"))
    return [Name(clean(a)) for a in re.split(r",\s*|\s+and\s+", authors) if clean(a)]


def paper_from_snapshot(record: dict) -> Paper:
    categories = clean(record.get("categories")).split()
    return Paper(
        title=clean(record.get("title")),
        abstract=clean(record.get("abstract")),
        authors=_snapshot_authors(record),
        year=_year_of(record),
        venue=clean(record.get("journal-ref")),
        doi=clean(record.get("doi")).split()[0] if clean(record.get("doi")) else "",
        arxiv_id=clean(record.get("id")),
        keywords=categories,
        extra={"primaryclass": categories[0]} if categories else {},
    )


def _text(entry: ET.Element, tag: str) -> str:
    node = entry.find(tag)
    return clean(node.text) if node is not None and node.text else ""


def read_atom(source: Source, report: Report) -> Iterator[Paper]:
    origin = source.origin
    try:
        root = ET.fromstring(source.text.encode("utf-8"))
    except ET.ParseError as error:
        report(Problem(origin, error.position[0], f"not well-formed XML: {error}"))
        return
    for number, entry in enumerate(root.iter(f"{ATOM}entry"), 1):
        arxiv_id = normalize_arxiv_id(_text(entry, f"{ATOM}id"))
        title = _text(entry, f"{ATOM}title")
        if not (arxiv_id or title):
            report(Problem(origin, None, f"entry {number} has no arXiv id or title; skipped"))
            continue
        primary = entry.find(f"{ARXIV}primary_category")
        categories = [c.get("term", "") for c in entry.findall(f"{ATOM}category") if c.get("term")]
        journal = _text(entry, f"{ARXIV}journal_ref")
        yield Paper(
            title=title,
            abstract=_text(entry, f"{ATOM}summary"),
            authors=[_text(a, f"{ATOM}name") for a in entry.findall(f"{ATOM}author") if _text(a, f"{ATOM}name")],
            year=_text(entry, f"{ATOM}published")[:4] or None,
            venue=journal,
            doi=_text(entry, f"{ARXIV}doi"),
            arxiv_id=arxiv_id or "",
            keywords=categories,
            extra={"primaryclass": primary.get("term", "")} if primary is not None else {},
        )
