"""CSL-JSON variables held to the shapes the CSL-JSON schema (csl-data.json) gives them.

A paper's ``csl`` variables come from files we do not control. A value of the wrong shape
(``"issued": [1]``, ``"genre": ["x"]``, ``"date-parts": [5]``) passed through reading and
indexing and broke every later citation of the notebook that cited it. Values are checked
when a record is read, repaired where the intent is clear (a year as a bare number, a
date-parts list missing its inner list), else dropped with a message; what is written
out for the CSL engine is checked again, so that an index made before this holds no
paper that stops the others' citations.
"""

from __future__ import annotations

import re

DATE_VARIABLES = frozenset("accessed available-date event-date issued original-date submitted".split())
NAME_VARIABLES = frozenset("""author chair collection-editor compiler composer container-author contributor
    curator director editor editorial-director executive-producer guest host illustrator interviewer narrator
    organizer original-author performer producer recipient reviewed-author script-writer series-creator
    translator""".split())
_NAME_PARTS = frozenset("family given dropping-particle non-dropping-particle suffix literal".split())
_DATE_PARTS = frozenset("date-parts season circa literal raw".split())
_DIGITS = re.compile(r"-?\d{1,5}")


def _date_part(value) -> int | None:
    """A year, month or day as a whole number of at most five digits (CSL engines read
    them as machine integers: pandoc fails on 10**19)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**5:
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value)
    return None


def checked_date(value) -> dict | None:
    """A CSL date object: ``date-parts`` as one or two lists of up to three whole numbers
    (a bare year and a flat list repaired), or a literal/raw text; None if nothing is left."""
    if _date_part(value) is not None:
        return {"date-parts": [[_date_part(value)]]}
    if not isinstance(value, dict):
        return None
    date = {k: v for k, v in value.items() if k in ("season", "literal", "raw") and isinstance(v, (str, int))
            and not isinstance(v, bool)}
    if isinstance(value.get("circa"), (bool, int, str)):
        date["circa"] = value["circa"]
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and not isinstance(parts[0], list):
        parts = [parts]  # [2020, 5] for [[2020, 5]]
    ranges = []
    for part in parts if isinstance(parts, list) else []:
        numbers = [_date_part(p) for p in part[:3]] if isinstance(part, list) else []
        if numbers and all(n is not None for n in numbers):
            ranges.append(numbers)
    if ranges:
        date["date-parts"] = ranges[:2]
    return date or None


def checked_names(value) -> list[dict] | None:
    """A CSL name list: objects whose parts are text; anything else left out."""
    if not isinstance(value, list):
        return None
    names = [{k: v for k, v in name.items() if k in _NAME_PARTS and isinstance(v, str) and v.strip()}
             for name in value if isinstance(name, dict)]
    return [name for name in names if name] or None


def checked_variables(variables: dict) -> tuple[dict, list[str]]:
    """The variables held to their shapes, and a line for each value dropped."""
    kept, dropped = {}, []
    for name, value in variables.items():
        if not isinstance(name, str):
            continue
        if name in DATE_VARIABLES:
            fixed = checked_date(value)
        elif name in NAME_VARIABLES:
            fixed = checked_names(value)
        elif name == "custom" and isinstance(value, dict):
            fixed = value  # CSL-JSON's free-form object, never given to the engine's formatting
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            fixed = value
        else:
            fixed = None
        if fixed is None:
            dropped.append(f"{name}: {type(value).__name__} is not a CSL {_kind(name)}; left out")
        else:
            kept[name] = fixed
    return kept, dropped


def _kind(name: str) -> str:
    return "date" if name in DATE_VARIABLES else "name list" if name in NAME_VARIABLES else "text or number"
