"""Each paper's meaning as a vector, stored beside the index one file set per segment.

Whoosh never changes a segment once written (a removal only marks its papers deleted), so
vectors kept per segment, in document order, stay right for as long as the segment
lives: adds make new segments, to be embedded; removals need nothing; a merge or a
rebuild makes segments whose papers were mostly embedded already, and their vectors are
taken over by the text's hash instead of being computed again. Files of segments the
index no longer has are deleted after each embedding run.

Per segment ``meaning/<segment>.json`` says which model made the vectors and how many
rows are done (the rows are filled in order, so a segment can be partly embedded, and an
embedding killed midway resumes); ``.i8`` holds the rows as int8, scaled per row by
``.scale`` (float32; SciFact test nDCG@10 as with float32 vectors), ``.keys`` each row's
text hash. 1,000 papers take 396 kB.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FOLDER = "meaning"
BLOCK = 16384  # rows turned to float32 at once by a scan of every vector (6 MB)


def folder(index_path: Path) -> Path:
    return Path(index_path) / FOLDER


def text_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def quantized(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and the scale of each (a row of zeros: scale 0)."""
    peak = np.abs(vectors).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 0.0).astype(np.float32)
    rows = np.round(vectors / np.where(scale > 0, scale, 1.0)[:, None]).astype(np.int8)
    return rows, scale


@dataclass
class SegmentVectors:
    """One segment's files, mapped; rows below ``done`` are the vectors of its papers."""

    name: str
    papers: int
    done: int
    rows: np.ndarray
    scale: np.ndarray
    keys: np.ndarray

    @classmethod
    def open(cls, base: Path, name: str, model: str, writable: bool = False) -> SegmentVectors | None:
        """The segment's vectors made by ``model``, or None if there are none."""
        state = segment_state(base, name, model)
        if state is None:
            return None
        mode = "r+" if writable else "r"
        papers = int(state["papers"])
        try:
            return cls(name, papers, min(int(state.get("done", 0)), papers),
                       np.memmap(base / f"{name}.i8", np.int8, mode, shape=(papers, _dimensions(base, name, papers))),
                       np.memmap(base / f"{name}.scale", np.float32, mode, shape=(papers,)),
                       np.memmap(base / f"{name}.keys", np.uint64, mode, shape=(papers,)))
        except (OSError, ValueError):  # a file cut short: embedded again
            return None

    @classmethod
    def create(cls, base: Path, name: str, model: str, papers: int, dimensions: int) -> SegmentVectors:
        base.mkdir(parents=True, exist_ok=True)
        made = cls(name, papers, 0,
                   np.memmap(base / f"{name}.i8", np.int8, "w+", shape=(papers, dimensions)),
                   np.memmap(base / f"{name}.scale", np.float32, "w+", shape=(papers,)),
                   np.memmap(base / f"{name}.keys", np.uint64, "w+", shape=(papers,)))
        made.commit(base, model)
        return made

    def fill(self, vectors: np.ndarray, keys: np.ndarray) -> None:
        """The next rows, in document order."""
        end = self.done + len(vectors)
        self.rows[self.done:end], self.scale[self.done:end] = quantized(vectors)
        self.keys[self.done:end] = keys
        self.done = end

    def commit(self, base: Path, model: str) -> None:
        """The rows filled are on disk before the count that says so."""
        for array in (self.rows, self.scale, self.keys):
            array.flush()
        state = base / f"{self.name}.json"
        temporary = state.with_suffix(".json.tmp")
        temporary.write_text(json.dumps({"model": model, "papers": self.papers, "done": self.done}))
        os.replace(temporary, state)

    def vectors(self, rows) -> np.ndarray:
        return self.rows[rows].astype(np.float32) * self.scale[rows, None]


def segment_state(base: Path, name: str, model: str) -> dict | None:
    """What ``<segment>.json`` says ({"model", "papers", "done"}), if its vectors are ``model``'s."""
    try:
        state = json.loads((base / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None
    return state if state.get("model") == model and state.get("papers") else None


def _dimensions(base: Path, name: str, papers: int) -> int:
    return (base / f"{name}.i8").stat().st_size // papers


def _deleted(reader) -> list[int]:
    return list(reader.segment().deleted_docs()) if reader.has_deletions() else []


def remove_other_segments(base: Path, keep: set[str]) -> None:
    """Delete the files of segments not in ``keep`` (readers that mapped them keep their
    pages until they let go)."""
    for path in base.glob("*.json"):
        if path.stem not in keep:
            for suffix in (".json", ".i8", ".scale", ".keys"):
                path.with_suffix(suffix).unlink(missing_ok=True)


class IndexVectors:
    """The vectors of one index snapshot's segments, as searches read them: docnums are
    the snapshot's (a segment's offset plus its own document number)."""

    def __init__(self, index_path: Path, searcher, model: str):
        self._base = folder(index_path)
        self._model = model
        self._leaves = []  # (offset, leaf reader, segment name)
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            self._leaves.append((offset, reader, reader.segment().segment_id()))
        self._mapped: dict[str, SegmentVectors] = {}

    def _segment(self, name: str) -> SegmentVectors | None:
        """The segment's vectors as far as they are done now: an embedding may be adding rows
        while this snapshot lives, so the count is read again (the files are mapped once)."""
        known = self._mapped.get(name)
        state = segment_state(self._base, name, self._model)
        if state is None:
            return None
        if known is None or known.papers != state["papers"]:
            known = SegmentVectors.open(self._base, name, self._model)
            if known is None:
                return None
            self._mapped[name] = known
        known.done = min(int(state.get("done", 0)), known.papers)
        return known

    def now(self) -> VectorsNow:
        """The segments' vectors as far as they are done at this moment, each segment's
        count read once for everything a search then asks."""
        return VectorsNow([(offset, reader, self._segment(name)) for offset, reader, name in self._leaves])


@dataclass
class VectorsNow:
    leaves: list  # (offset, leaf reader, SegmentVectors or None)

    def progress(self) -> tuple[int, int]:
        """(papers embedded, papers) among the papers the snapshot holds."""
        embedded = total = 0
        for _, reader, segment in self.leaves:
            total += reader.doc_count()
            if segment is not None:
                embedded += segment.done - sum(1 for d in _deleted(reader) if d < segment.done)
        return embedded, total

    def of(self, docnums: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The vectors of these documents, and which of them have one yet."""
        vectors = np.zeros((len(docnums), 0), dtype=np.float32)
        have = np.zeros(len(docnums), dtype=bool)
        for offset, reader, segment in self.leaves:
            if segment is None:
                continue
            positions = [i for i, d in enumerate(docnums) if offset <= d < offset + segment.done]
            if not positions:
                continue
            if vectors.shape[1] == 0:
                vectors = np.zeros((len(docnums), segment.rows.shape[1]), dtype=np.float32)
            vectors[positions] = segment.vectors([docnums[i] - offset for i in positions])
            have[positions] = True
        return vectors, have

    def nearest(self, query: np.ndarray, wanted: int) -> list[tuple[float, int]]:
        """The ``wanted`` papers whose vectors are closest to ``query`` (cosine), exactly:
        every done row scanned (158k papers: see benchmarks/meaning.py)."""
        best: list[tuple[float, int]] = []
        for offset, reader, segment in self.leaves:
            if segment is None or not segment.done:
                continue
            scores = similarities(segment, query)
            scores[[d for d in _deleted(reader) if d < segment.done]] = -np.inf
            take = min(wanted, len(scores))
            top = np.argpartition(-scores, take - 1)[:take]
            best += [(float(scores[d]), int(d) + offset) for d in top if np.isfinite(scores[d])]
        best.sort(key=lambda pair: (-pair[0], pair[1]))
        return best[:wanted]


def similarities(segment: SegmentVectors, query: np.ndarray) -> np.ndarray:
    """The cosine of ``query`` with each done row, int8 rows turned to float32 a block at a time."""
    scores = np.empty(segment.done, dtype=np.float32)
    for start in range(0, segment.done, BLOCK):
        end = min(start + BLOCK, segment.done)
        scores[start:end] = (segment.rows[start:end].astype(np.float32) @ query) * segment.scale[start:end]
    return scores
