"""CSL-JSON, what Zotero and Better BibTeX export: a JSON array of items."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from ..paper import Paper
from . import Problem, Report, Source, clean

# CSL item type -> BibTeX entry type
CSL_TO_BIBTEX = {
    "article-journal": "article", "article": "article", "article-magazine": "article",
    "article-newspaper": "article", "paper-conference": "inproceedings", "book": "book",
    "chapter": "incollection", "thesis": "phdthesis", "report": "techreport",
    "manuscript": "unpublished", "webpage": "online", "dataset": "misc", "software": "software",
}
_KEY_LIKE = re.compile(r"^[\w:.+-]+$")
_EXTRA_FIELDS = {"volume": "volume", "issue": "number", "page": "pages", "publisher": "publisher",
                 "publisher-place": "address", "ISBN": "isbn", "ISSN": "issn", "note": "note",
                 "edition": "edition", "collection-title": "series"}


def is_csl_record(record: dict) -> bool:
    return "issued" in record or "container-title" in record or (
        isinstance(record.get("author"), list) and "type" in record)


def _person(person: dict) -> str:
    if not isinstance(person, dict):
        return clean(person)
    if person.get("literal"):
        return clean(person["literal"])
    parts = [person.get("given"), person.get("non-dropping-particle"), person.get("family"),
             person.get("suffix")]
    return clean(" ".join(p for p in parts if isinstance(p, str)))


def _year(issued) -> int | None:
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if parts and parts[0] and str(parts[0][0]).strip().lstrip("-").isdigit():
            return int(parts[0][0])
        raw = issued.get("raw") or issued.get("literal") or ""
        match = re.search(r"\d{4}", str(raw))
        return int(match.group()) if match else None
    return None


def paper_from_csl(item: dict) -> Paper:
    key = item.get("citation-key") or item.get("id")
    keywords = item.get("keyword") or ""
    return Paper(
        title=clean(item.get("title")),
        abstract=clean(item.get("abstract")),
        authors=[a for a in map(_person, item.get("author") or []) if a],
        year=_year(item.get("issued")),
        venue=clean(item.get("container-title") or item.get("event-title") or item.get("event")),
        doi=clean(item.get("DOI")),
        arxiv_id=clean(item.get("arxiv") or ""),
        url=clean(item.get("URL")),
        keywords=[clean(k) for k in re.split(r"[,;]", keywords) if clean(k)] if isinstance(keywords, str) else [],
        key=str(key) if isinstance(key, str) and _KEY_LIKE.match(key) else "",
        entry_type=CSL_TO_BIBTEX.get(item.get("type", ""), "misc"),
        extra={bib: clean(str(item[csl])) for csl, bib in _EXTRA_FIELDS.items() if item.get(csl)},
    )


def read(source: Source, report: Report) -> Iterator[Paper]:
    origin = source.origin
    try:
        data = json.loads(source.text)
    except ValueError as error:
        report(Problem(origin, getattr(error, "lineno", None), f"not valid JSON: {error.msg}"))
        return
    items = data.get("items", [data]) if isinstance(data, dict) else data
    if not isinstance(items, list):
        report(Problem(origin, None, "expected a JSON array of CSL items"))
        return
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            report(Problem(origin, None, f"item {number} is not an object; skipped"))
            continue
        paper = paper_from_csl(item)
        if not (paper.title or paper.doi):
            report(Problem(origin, None, f"item {number} has no title or DOI; skipped"))
            continue
        yield paper
