"""Where an indexing writer keeps its postings until it writes the segment.

Whoosh's pool holds each posting as a (field, term, document, weight, value) tuple, sorts
them by tuple when memory fills, pickles them to a run file one at a time, and merges the
runs back with a heap, one posting at a time. This pool groups postings by term as they
arrive (papers come in document order), a term's documents and weights in typed arrays,
writes a run as marshalled chunks of term groups, and merges runs a term at a time; the
segment it gives Whoosh is the same, posting for posting. A segment writer that knows
groups (arrays.ArrayWriter) takes them a term at a time; to others the pool gives posting
tuples. 10,000 papers in 2 processes: 17-19 s with Whoosh's pool, 11-13 s with tuples
per term, 158k papers' run files written and read back: 17% of an indexing process's time
with tuples.
"""

from __future__ import annotations

import heapq
import marshal
import struct
from array import array
from collections.abc import Iterable, Iterator

import numpy as np
from whoosh.writing import PostingPool

CHUNK_POSTINGS = 5_000  # postings per marshalled chunk of a run file
POSTING_BYTES = 20      # memory of one held posting: document (int32), weight (float64), its value's list slot
VALUE_BYTES = 33        # ... and of a value that is not empty, beyond its length: the bytes object
TERM_BYTES = 400        # memory of one term's key and arrays
_LENGTH = struct.Struct("<I")

# (fieldname, term bytes, documents as int32 bytes, weights as float64 bytes, [value bytes, ...])
Group = tuple


class Pooled:
    """Postings in (field, term, document) order: iterated, the posting tuples Whoosh's
    pools give; ``groups``, a term's postings at a time."""

    def __init__(self, groups: Iterator[Group]):
        self.groups = groups

    def __iter__(self) -> Iterator[tuple]:
        for fieldname, term, documents, weights, values in self.groups:
            for document, weight, value in zip(array("i", documents), array("d", weights), values, strict=True):
                yield fieldname, term, document, weight, value


class TermPool(PostingPool):
    """A drop-in PostingPool (same memory limit, same run files in the index's temporary
    storage, same sorted postings out) that works a term at a time."""

    def __init__(self, tempstore, segment, limitmb: int = 128):
        super().__init__(tempstore, segment, limitmb=limitmb)
        self.current: dict[tuple[str, bytes], tuple[array, array, list]] = {}

    def add(self, item) -> None:
        fieldname, term, document, weight, value = item
        held = self.current.get((fieldname, term))
        if held is None:
            self.fieldnames.add(fieldname)
            self.currentsize += TERM_BYTES + len(term)
            self.current[(fieldname, term)] = held = (array("i"), array("d"), [])
        held[0].append(document)
        held[1].append(weight)
        held[2].append(value)
        self.currentsize += POSTING_BYTES + (VALUE_BYTES + len(value) if value else 0)
        if self.currentsize > self.limit:
            self.save()

    def save(self) -> None:
        if self.current:
            path, file = self._new_run()
            self._write_groups(file, self._held_groups())
            self._add_run(path)
            self.current = {}
        self.currentsize = 0

    def items(self, maxfiles: int = 128) -> Pooled:
        if not self.runs:
            return Pooled(self._held_groups())
        return super().items(maxfiles)

    def _held_groups(self) -> Iterator[Group]:
        held = self.current
        for fieldname, term in sorted(held):
            documents, weights, values = held[fieldname, term]
            yield fieldname, term, documents.tobytes(), weights.tobytes(), values

    @staticmethod
    def _write_groups(file, groups: Iterable[Group]) -> None:
        """Chunks of groups, each marshalled and written after its length (marshal.load
        reading a file itself was ten times slower than loads of the chunk's bytes)."""
        chunk, size = [], 0
        for group in groups:
            chunk.append(group)
            size += len(group[4])
            if size >= CHUNK_POSTINGS:
                _write_chunk(file, chunk)
                chunk, size = [], 0
        if chunk:
            _write_chunk(file, chunk)
        file.close()

    def _read_groups(self, path) -> Iterator[Group]:
        file = self._open_run(path)
        try:
            while header := file.read(_LENGTH.size):
                yield from marshal.loads(file.read(_LENGTH.unpack(header)[0]))
        finally:
            file.close()
            self._remove_run(path)

    # The three methods Whoosh's SortingPool reads and writes runs with (reduce_to, the
    # multiprocessing writer's sub-segments)
    def _write_run(self, file, items: Pooled) -> None:
        self._write_groups(file, items.groups)

    def _read_run(self, path) -> Pooled:
        return Pooled(self._read_groups(path))

    def _merge_runs(self, paths) -> Pooled:
        return Pooled(_merged(self._read_groups(path) for path in paths))


def _write_chunk(file, chunk: list[Group]) -> None:
    data = marshal.dumps(chunk)
    file.write(_LENGTH.pack(len(data)))
    file.write(data)


def _merged(runs: Iterable[Iterator[Group]]) -> Iterator[Group]:
    """Term groups of sorted runs merged into one sorted stream, a term's postings joined
    in document order (runs are usually in document order; Whoosh's reduce_to reverses some)."""
    parts: list[Group] = []
    for group in heapq.merge(*runs, key=lambda g: (g[0], g[1])):
        if parts and (parts[0][0], parts[0][1]) != (group[0], group[1]):
            yield _joined(parts)
            parts = []
        parts.append(group)
    if parts:
        yield _joined(parts)


def _joined(parts: list[Group]) -> Group:
    if len(parts) == 1:
        return parts[0]
    fieldname, term = parts[0][0], parts[0][1]
    documents = np.concatenate([np.frombuffer(part[2], dtype=np.int32) for part in parts])
    weights = np.concatenate([np.frombuffer(part[3], dtype=np.float64) for part in parts])
    values = [value for part in parts for value in part[4]]
    if np.any(documents[1:] < documents[:-1]):
        order = np.argsort(documents, kind="stable")
        documents, weights, values = documents[order], weights[order], [values[i] for i in order]
    return fieldname, term, documents.tobytes(), weights.tobytes(), values

