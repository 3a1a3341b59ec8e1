"""JSON Lines: one paper per line, in our own field names, in the arXiv snapshot's, or CSL-JSON's."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..paper import Paper, normalize_arxiv_id
from . import Problem, Report, Source, clean


def _names(value) -> list[str]:
    if isinstance(value, str):
        return [clean(a) for a in value.replace(" AND ", " and ").split(" and ") if clean(a)]
    return [clean(a) for a in value or [] if clean(a)]


def _words(value) -> list[str]:
    if isinstance(value, str):
        return [clean(w) for w in value.replace(";", ",").split(",") if clean(w)]
    return [clean(w) for w in value or [] if clean(w)]


def paper_from_record(record: dict) -> Paper:
    """A Paper from a record in our own field names (what ``Paper.to_dict`` writes too)."""
    given_id = clean(record.get("id"))
    arxiv_id = clean(record.get("arxiv_id")) or normalize_arxiv_id(given_id) or ""
    doi = clean(record.get("doi"))
    return Paper(
        id="" if arxiv_id or doi else given_id,
        title=clean(record.get("title")),
        abstract=clean(record.get("abstract")),
        authors=_names(record.get("authors")),
        year=record.get("year") if isinstance(record.get("year"), (int, str)) else None,
        venue=clean(record.get("venue")),
        doi=doi,
        arxiv_id=arxiv_id,
        url=clean(record.get("url")),
        keywords=_words(record.get("keywords")),
        key=clean(record.get("key")),
        entry_type=clean(record.get("entry_type")),
        extra={k: str(v) for k, v in (record.get("extra") or {}).items()},
    )


def paper_from_any(record: dict) -> Paper:
    """Tell the record's dialect by its keys and convert it."""
    from . import arxiv, csljson

    if arxiv.is_snapshot_record(record):
        return arxiv.paper_from_snapshot(record)
    if csljson.is_csl_record(record):
        return csljson.paper_from_csl(record)
    return paper_from_record(record)


def read(source: Source, report: Report) -> Iterator[Paper]:
    origin = source.origin
    for number, line in enumerate(source.lines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            report(Problem(origin, number, f"not valid JSON ({error.args[0].split(':')[0]}); line skipped"))
            continue
        if not isinstance(record, dict):
            report(Problem(origin, number, "not a JSON object; line skipped"))
            continue
        paper = paper_from_any(record)
        if not (paper.title or paper.arxiv_id or paper.doi):
            report(Problem(origin, number, "no title, arXiv id or DOI; line skipped"))
            continue
        yield paper
