"""JSON Lines: one paper per line, in our own field names, in the arXiv snapshot's, or CSL-JSON's."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..cslitem import checked_variables
from ..paper import Name, Paper, names, normalize_arxiv_id, normalize_doi
from . import Problem, Report, Source, clean


def _names(value) -> list[Name]:
    """Names as a string ("A and B"), a list of strings, or CSL name objects (what
    ``Paper.to_dict`` writes)."""
    if isinstance(value, str):
        return names([clean(a) for a in value.replace(" AND ", " and ").split(" and ")])
    return names(value)


def _words(value) -> list[str]:
    if isinstance(value, str):
        return [clean(w) for w in value.replace(";", ",").split(",") if clean(w)]
    return [clean(w) for w in value if clean(w)] if isinstance(value, list) else []


def _strings(value) -> dict:
    return {str(k): str(v) for k, v in value.items() if isinstance(v, (str, int, float))} if isinstance(
        value, dict) else {}


def paper_from_record(record: dict) -> Paper:
    """A Paper from a record in our own field names (what ``Paper.to_dict`` writes too).
    Its id is the arXiv id or DOI it holds (when they are valid), else the id it gives."""
    given_id = clean(record.get("id"))
    arxiv_id = clean(record.get("arxiv_id")) or normalize_arxiv_id(given_id) or ""
    doi = clean(record.get("doi"))
    return Paper.from_dict(dict(
        id="" if normalize_arxiv_id(arxiv_id) or normalize_doi(doi) else given_id,
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
        editors=_names(record.get("editors")),
        csl=checked_variables(record["csl"])[0] if isinstance(record.get("csl"), dict) else {},
        extra=_strings(record.get("extra")),
        **({"type": clean(record.get("type"))} if "type" in record else {"entry_type": clean(record.get("entry_type"))}),
    ))


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
            report(Problem(origin, number, f"not valid JSON ({error.args[0].split(':')[0]}); line skipped", broken=True))
            continue
        except RecursionError:
            report(Problem(origin, number, "JSON nested too deeply to read; line skipped"))
            continue
        if not isinstance(record, dict):
            report(Problem(origin, number, "not a JSON object; line skipped"))
            continue
        try:
            paper = paper_from_any(record)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as error:
            report(Problem(origin, number, f"a field of an unexpected kind ({type(error).__name__}: {error}); "
                                           "line skipped"))
            continue
        if not (paper.title or paper.arxiv_id or paper.doi):
            report(Problem(origin, number, "no title, arXiv id or DOI; line skipped"))
            continue
        yield paper
