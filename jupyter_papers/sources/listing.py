"""The "trending papers" listing: two header lines, then title and abstract lines alternating.

A ``*-metadata.jsonl`` file beside the listing (same order) adds arXiv ids, authors and years.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ..paper import Paper, fold
from . import Problem, Report, Source, clean

HEADER_LINES = 2
GLUED_PREFIX = "Subscribe"


def metadata_path(listing: Path) -> Path:
    return listing.with_name(listing.stem.replace("listing", "metadata") + ".jsonl")


def _metadata(listing: Path | None, origin: str, report: Report) -> dict[int, dict]:
    if listing is None or not metadata_path(listing).is_file():
        return {}
    records = {}
    path = metadata_path(listing)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            record = json.loads(line)
            records[int(record["index"])] = record
        except (ValueError, KeyError, TypeError) as error:
            report(Problem(path.name, number, f"metadata line skipped: {error}"))
    return records


def read(source: Source, report: Report) -> Iterator[Paper]:
    origin, path = source.origin, source.path
    lines = [line.strip() for line in source.text.splitlines()[HEADER_LINES:]]
    lines = [line for line in lines if line]
    if lines and lines[0].startswith(GLUED_PREFIX):
        lines[0] = lines[0][len(GLUED_PREFIX):].strip()
    if len(lines) % 2:
        report(Problem(origin, None, f"last title {lines[-1][:60]!r} has no abstract; skipped"))
    metadata = _metadata(path, origin, report)
    for index in range(len(lines) // 2):
        title, abstract = clean(lines[2 * index]), clean(lines[2 * index + 1])
        meta = metadata.get(index, {})
        if meta and fold(clean(meta.get("title", ""))) != fold(title):
            report(Problem(origin, HEADER_LINES + 2 * index + 1,
                           f"metadata {index} is for another title; not used"))
            meta = {}
        yield Paper(
            title=title,
            abstract=abstract,
            authors=[clean(a) for a in meta.get("authors") or []],
            year=meta.get("year"),
            venue=clean(meta.get("venue")),
            doi=meta.get("doi") or "",
            arxiv_id=meta.get("arxiv_id") or "",
            extra={"code": meta["code_url"]} if meta.get("code_url") else {},
        )
