"""Readers: each turns one file format into Papers, reporting what it had to skip.

``read_papers`` picks the reader from the file name and, failing that, from the content.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..paper import Paper

FORMATS = ("bibtex", "csljson", "jsonl", "arxiv-atom", "listing")


@dataclass(frozen=True)
class Problem:
    """Something a reader could not use, with where it was and why."""

    origin: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.origin}:{self.line}" if self.line else self.origin
        return f"{where}: {self.message}"


Report = Callable[[Problem], None]


class UnknownFormatError(ValueError):
    """The input matches none of the formats we read."""


class Reading(Iterable[Paper]):
    """The papers of one input, read lazily; ``problems`` fills up as they are read."""

    def __init__(self, text_or_path: str | os.PathLike, format: str | None = None):
        self.origin, self.path, self.text = _resolve(text_or_path)
        self.format = format or sniff_format(self.text, self.path)
        if self.format not in FORMATS:
            raise UnknownFormatError(f"unknown format {self.format!r}; known: {', '.join(FORMATS)}")
        self.problems: list[Problem] = []

    def __iter__(self) -> Iterator[Paper]:
        reader = _reader(self.format)
        for paper in reader(self.text, self.origin, self.problems.append, self.path):
            if not paper.source:
                paper.source = self.origin
            yield paper


def read_papers(text_or_path: str | os.PathLike, format: str | None = None) -> Reading:
    """Papers from a file path (``.gz`` read transparently) or from the text itself."""
    return Reading(text_or_path, format)


def decode(raw: bytes) -> str:
    """Text of a file whatever its encoding: UTF-8, else Windows-1252, else Latin-1."""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _resolve(text_or_path: str | os.PathLike) -> tuple[str, Path | None, str]:
    if isinstance(text_or_path, os.PathLike) or (
        isinstance(text_or_path, str) and "\n" not in text_or_path and len(text_or_path) < 4096
        and os.path.isfile(text_or_path)
    ):
        path = Path(text_or_path)
        return path.name, path, decode(path.read_bytes())
    if isinstance(text_or_path, bytes):
        return "<text>", None, decode(text_or_path)
    return "<text>", None, str(text_or_path)


_BY_SUFFIX = {
    ".bib": "bibtex", ".bibtex": "bibtex", ".biblatex": "bibtex",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".xml": "arxiv-atom", ".atom": "arxiv-atom",
}


def sniff_format(text: str, path: Path | None = None) -> str:
    """The format of an input, by file name where it says, else by content."""
    if path is not None:
        suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
        if suffixes and suffixes[-1] in _BY_SUFFIX:
            return _BY_SUFFIX[suffixes[-1]]
    head = text.lstrip()[:4096]
    if head.startswith("["):
        return "csljson"
    if head.startswith("{"):
        first_line = head.split("\n", 1)[0].strip()
        try:
            json.loads(first_line)
            return "jsonl"
        except ValueError:
            return "csljson" if head.rstrip().endswith("}") or "\n" in head else "jsonl"
    if head.startswith("<") and re.search(r"<feed\b|<entry\b", head):
        return "arxiv-atom"
    if re.search(r"^\s*@\s*[a-zA-Z]+\s*[{(]", head, re.M):
        return "bibtex"
    if "trending papers" in head.lower() or re.search(r"^Subscribe\S", head, re.M):
        return "listing"
    if path is not None and path.suffix.lower() == ".json":
        return "csljson"
    raise UnknownFormatError(
        "could not tell the format: expected BibTeX, CSL-JSON, JSON Lines, arXiv Atom or a paper listing"
    )


def _reader(format: str):
    from . import arxiv, bibtex, csljson, jsonl, listing

    return {
        "bibtex": bibtex.read,
        "csljson": csljson.read,
        "jsonl": jsonl.read,
        "arxiv-atom": arxiv.read_atom,
        "listing": listing.read,
    }[format]


def clean(text: object) -> str:
    """Collapse runs of white space; anything not a string becomes ''."""
    return " ".join(text.split()) if isinstance(text, str) else ""
