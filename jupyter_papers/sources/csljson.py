"""CSL-JSON, what Zotero and Better BibTeX export: a JSON array of items, kept as given."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from ..cslitem import checked_date, checked_variables
from ..paper import CSL_TYPES, Paper, names
from . import NOTHING_TO_CITE, Problem, Report, Source, clean

# Variables the Paper holds in fields of its own; every other CSL variable is kept verbatim.
_OWN = {"id", "type", "title", "abstract", "author", "editor", "container-title", "DOI", "URL", "keyword",
        "citation-key", "arxiv"}


# What Zotero writes as an item's id when it has no citation key: its item URI, or the web
# API's library/item pair (12047273/KC6WFG78)
_ZOTERO_ITEM = re.compile(r"^(?:https?://zotero\.org/(?:users|groups)/(?:[^/]+/)+items/|\d+/)[A-Z0-9]{8}$")
# Types Zotero and Better BibTeX write that CSL 1.0.2 names otherwise
_TYPE_ALIASES = {"video": "motion_picture"}


def is_csl_record(record: dict) -> bool:
    return "issued" in record or "container-title" in record or (
        isinstance(record.get("author"), list) and "type" in record)


def _year(issued) -> int | None:
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] and (
                str(parts[0][0]).strip().lstrip("-").isdigit()):
            return int(parts[0][0])
        raw = issued.get("raw") or issued.get("literal") or ""
        match = re.search(r"\d{4}", str(raw))
        return int(match.group()) if match else None
    return None


def _kept(value) -> bool:
    """A CSL value worth keeping: text, a number, or a name list or date object."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip() or (
        isinstance(value, (list, dict)) and bool(value))


def paper_from_csl(item: dict, dropped: list[str] | None = None) -> Paper:
    """The paper of a CSL-JSON item; values of the wrong shape are repaired or left out,
    each said in ``dropped``."""
    key = item.get("citation-key") or item.get("id")
    if isinstance(key, str) and _ZOTERO_ITEM.match(key):  # Zotero's item, not a key a writer cites: make one
        key = ""
    csl, left_out = checked_variables({k: v for k, v in item.items() if k not in _OWN and _kept(v)})
    if dropped is not None:
        dropped += left_out
    keywords = item.get("keyword") or ""
    kind = item.get("type")
    kind = _TYPE_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    arxiv = item.get("arxiv") if isinstance(item.get("arxiv"), str) else ""
    if not arxiv and clean(item.get("publisher")).lower() == "arxiv":
        arxiv = clean(item.get("number"))
    return Paper(
        title=clean(item.get("title")),
        abstract=clean(item.get("abstract")),
        authors=names(item.get("author")),
        editors=names(item.get("editor")),
        year=_year(checked_date(item.get("issued"))),
        venue=clean(item.get("container-title")),
        doi=clean(item.get("DOI")),
        arxiv_id=arxiv,
        url=clean(item.get("URL")),
        keywords=[clean(k) for k in re.split(r"[,;]", keywords) if clean(k)] if isinstance(keywords, str) else [],
        key=str(key) if isinstance(key, (str, int)) and not isinstance(key, bool) else "",
        type=kind if isinstance(kind, str) and kind in CSL_TYPES else "article",
        csl=csl,
    )


def read(source: Source, report: Report) -> Iterator[Paper]:
    origin = source.origin
    try:
        data = json.loads(source.text)
    except ValueError as error:
        report(Problem(origin, getattr(error, "lineno", None), f"not valid JSON: {error.msg}", broken=True))
        return
    except RecursionError:
        report(Problem(origin, None, "JSON nested too deeply to read", broken=True))
        return
    items = data.get("items", [data]) if isinstance(data, dict) else data
    if not isinstance(items, list):
        report(Problem(origin, None, "expected a JSON array of CSL items", broken=True))
        return
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            report(Problem(origin, None, f"item {number} is not an object; skipped"))
            continue
        dropped: list[str] = []
        try:
            paper = paper_from_csl(item, dropped)
        except (TypeError, ValueError, AttributeError) as error:
            report(Problem(origin, None, f"item {number} skipped: {error}"))
            continue
        for line in dropped:
            report(Problem(origin, None, f"item {number}: {line}"))
        if not paper.citable:
            report(Problem(origin, None, f"item {number} {NOTHING_TO_CITE}; skipped"))
            continue
        yield paper
