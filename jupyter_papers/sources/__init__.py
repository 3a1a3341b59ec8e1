"""Readers: each turns one file format into Papers, reporting what it had to skip.

``read_papers`` picks the reader from the file name and, failing that, from the content.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..paper import Paper

FORMATS = ("bibtex", "csljson", "jsonl", "arxiv-atom", "listing")
TEXT_ORIGIN = "<text>"  # where papers given as text, not as a file, come from
# why a record is skipped: it fails Paper.citable
NOTHING_TO_CITE = "has nothing to cite (no title, author, editor, venue, identifier, URL or note)"


@dataclass(frozen=True)
class Problem:
    """Something a reader could not use, with where it was and why."""

    origin: str
    line: int | None
    message: str
    broken: bool = False  # the input itself did not parse there (what follows may be missing), not one record


    def __str__(self) -> str:
        where = f"{self.origin}:{self.line}" if self.line else self.origin
        return f"{where}: {self.message}"


Report = Callable[[Problem], None]


class UnknownFormatError(ValueError):
    """The input matches none of the formats we read."""


class Source:
    """One input: a file, read lazily (gzip transparent), or text in memory."""

    def __init__(self, text_or_path: str | bytes | os.PathLike):
        self.path: Path | None = None
        self._text: str | None = None
        if isinstance(text_or_path, os.PathLike) or (
            isinstance(text_or_path, str) and "\n" not in text_or_path and len(text_or_path) < 4096
            and os.path.isfile(text_or_path)
        ):
            self.path = Path(text_or_path)
        elif isinstance(text_or_path, bytes):
            self._text = decode(text_or_path)
        else:
            self._text = str(text_or_path)
        self.origin = self.path.name if self.path else TEXT_ORIGIN
        self.folder = self.path.parent if self.path else None  # what relative paths in it (a PDF) start from

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = decode(self.path.read_bytes())
        return self._text

    def _binary(self):
        handle = self.path.open("rb")
        if handle.read(2) == b"\x1f\x8b":
            handle.close()
            return gzip.open(self.path, "rb")
        handle.seek(0)
        return handle

    def _binary_head(self, size: int = 4) -> bytes:
        with self._binary() as handle:
            return handle.read(size)

    def head(self, size: int = 65536) -> str:
        if self._text is not None:
            return self._text[:size]
        with self._binary() as handle:
            return decode(handle.read(size), partial=True)

    def lines(self) -> Iterator[str]:
        """Line by line, without holding the file in memory; splits on "\\n" only."""
        if self._text is None and unicode_bom(self._binary_head()):
            self._text = self.text  # UTF-16/32 lines do not split on the byte "\\n"
        if self._text is not None:
            yield from self._text.split("\n")
            return
        with self._binary() as handle:
            for raw in handle:
                yield decode(raw)


class Reading(Iterable[Paper]):
    """The papers of one input, read lazily; ``problems`` fills up as they are read."""

    def __init__(self, text_or_path: str | bytes | os.PathLike, format: str | None = None,
                 file: Path | None = None):
        """``file``: the file that text (given as such) was read from."""
        self.source = Source(text_or_path)
        if file is not None:
            self.source.origin, self.source.folder = file.name, file.parent
        self.origin, self.path = self.source.origin, self.source.path
        self.format = format or sniff_format(self.source.head(), self.path)
        if self.format not in FORMATS:
            raise UnknownFormatError(f"unknown format {self.format!r}; known: {', '.join(FORMATS)}")
        self.problems: list[Problem] = []

    def __iter__(self) -> Iterator[Paper]:
        reader = _reader(self.format)
        for paper in reader(self.source, self.problems.append):
            if not paper.source:
                paper.source = self.origin
            yield paper


def read_papers(text_or_path: str | bytes | os.PathLike, format: str | None = None) -> Reading:
    """Papers from a file path (``.gz`` read transparently) or from the text itself."""
    return Reading(text_or_path, format)


# Byte order marks, UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))


def unicode_bom(raw: bytes) -> str | None:
    """The UTF-16 or UTF-32 encoding a byte order mark announces, or None."""
    return next((encoding for bom, encoding in _BOMS if raw.startswith(bom)), None)


def decode(raw: bytes, partial: bool = False) -> str:
    """Text whatever the encoding: UTF-16 or UTF-32 with a byte order mark, UTF-8, else
    Windows-1252, else Latin-1. ``partial``: the bytes may end inside a character."""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return decode_as(raw, partial)[0]


def decode_as(raw: bytes, partial: bool = False) -> tuple[str, str]:
    """The text, and the codec that writes more of it the same way (without a byte order
    mark): what appending to a user's file must keep."""
    wide = unicode_bom(raw)
    if wide:
        bom = len(next(bom for bom, encoding in _BOMS if encoding == wide))
        return codecs.getincrementaldecoder(wide)(errors="replace").decode(raw[bom:], final=not partial), wide
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError as error:
            if partial and encoding == "utf-8-sig" and error.start >= len(raw) - 3:
                return raw[: error.start].decode(encoding), "utf-8"
            continue
    return raw.decode("latin-1"), "latin-1"


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


def sha256_of(path: Path) -> str:
    """The file's content hash, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def clean(text: object) -> str:
    """Collapse runs of white space; anything not a string becomes ''."""
    return " ".join(text.split()) if isinstance(text, str) else ""
