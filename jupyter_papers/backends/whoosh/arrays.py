"""Long posting lists written a second time, beside the segment, as flat arrays.

A search box's last word stands for its completions in four fields, and each of them is
scored over its whole posting list (wordsearch.py). Whoosh stores a block of 128 postings
as one pickle, positions and all, so reading a list costs about a microsecond a posting:
fine at 158k papers, a second for one common word at a million. The segment's writer
also writes each long list of the searched fields here, as document numbers (int32),
frequencies (uint8 when whole and small, else float32) and every posting's positions one
after another (uint16, or uint32 for a field past 65,535 words), so a quoted phrase is
checked in all its candidates at once (postings.PostingCache.side_by_side); a reader maps
the file and slices it. Short lists, the fields not searched, and segments written before
this file existed are read from Whoosh's blocks as before.
"""

from __future__ import annotations

import itertools
import mmap
import os
import pickle
import struct
import weakref
from array import array

import numpy as np
from whoosh.codec.base import FieldWriter
from whoosh.system import _INT_SIZE

from .analysis import FIELD_WEIGHTS
from .pool import Pooled

EXTENSION = ".arr"
LISTED_FIELDS = frozenset(FIELD_WEIGHTS) | {"text"}  # the fields a query scores; "text": a PDF's page (pages.py)
LISTED_POSTINGS = 128  # a list of a block or less decodes as fast as it is sliced
_FOOTER = struct.Struct("<Q8s")  # where the directory starts, magic
_MAGIC = b"jparr001"
_PROTOCOL_2, _STOP = b"\x80\x02", ord(".")  # how Whoosh's Positions format pickles


class ArrayWriter(FieldWriter):
    """A segment's field writer that also writes its long lists of the listed fields as
    arrays, and takes a TermPool's postings a term at a time. Wraps Whoosh's (W3) field
    writer; the posting file it writes is unchanged."""

    def __init__(self, inner, storage, segment):
        self._inner = inner
        self._file = segment.create_file(storage, EXTENSION)
        # (field, term) -> (offset, postings, frequencies' dtype, positions' dtype or "", positions)
        self._directory: dict[tuple[str, bytes], tuple[int, int, str, str, int]] = {}
        self._written = 0
        self._listing = False
        self._with_positions = False
        self._fieldname = ""
        self._term = b""
        self._ids = array("i")
        self._weights = array("f")
        self._values: list[bytes] = []  # encoded positions, decoded only for a long list

    @property
    def is_closed(self) -> bool:
        return self._inner.is_closed

    def start_field(self, fieldname, fieldobj):
        self._inner.start_field(fieldname, fieldobj)
        self._fieldname = fieldname
        self._listing = fieldname in LISTED_FIELDS
        self._with_positions = self._listing and fieldobj.format.supports("positions")

    def start_term(self, btext):
        self._inner.start_term(btext)
        self._term = btext
        if self._listing:
            self._ids, self._weights, self._values = array("i"), array("f"), []

    def add(self, docnum, weight, vbytes, length):
        self._inner.add(docnum, weight, vbytes, length)
        if self._listing:
            self._ids.append(docnum)
            self._weights.append(weight)
            self._values.append(vbytes)

    def add_postings(self, schema, lengths, items):
        """The segment's postings from a TermPool, a term at a time: each term's blocks
        filled at once (_fill_blocks) rather than posting by posting through Whoosh's
        loop, the larger part of writing a segment. Other sources go through that loop."""
        if not (isinstance(items, Pooled) and hasattr(lengths, "lengths_of")):
            return super().add_postings(schema, lengths, items)
        fieldname, field_lengths = None, None
        for field, term, documents, weights, values in items.groups:
            if field != fieldname:
                if fieldname is not None:
                    self.finish_field()
                fieldname, field_lengths = field, lengths.lengths_of(field)
                self.start_field(field, schema[field])
            self.start_term(term)
            ids = np.frombuffer(documents, dtype=np.int32)
            tf = np.frombuffer(weights, dtype=np.float64)
            _fill_blocks(self._inner._postwriter, ids, tf, values, field_lengths[ids])
            if self._listing:
                self._ids, self._weights, self._values = array("i", documents), array("f", tf.astype(np.float32).tobytes()), values
            self.finish_term()
        if fieldname is not None:
            self.finish_field()

    def finish_term(self):
        self._inner.finish_term()
        if self._listing and len(self._ids) >= LISTED_POSTINGS:
            weights = np.frombuffer(self._weights, dtype=np.float32)
            whole = bool(np.all((weights == np.floor(weights)) & (weights >= 0) & (weights <= 255)))
            weights = weights.astype(np.uint8) if whole else weights
            positions = self._positions(weights)
            self._directory[self._fieldname, self._term] = (
                self._written, len(self._ids), weights.dtype.str, positions.dtype.str if positions is not None else "",
                len(positions) if positions is not None else 0)
            for part in (np.frombuffer(self._ids, dtype=np.int32), weights, positions):
                if part is not None:
                    self._file.write(part.tobytes())
                    self._written += part.nbytes

    def _positions(self, weights: np.ndarray) -> np.ndarray | None:
        """The term's positions, posting after posting; None where a posting's frequency is
        not its count of positions (a boosted field: the reader could not split them)."""
        if not self._with_positions:
            return None
        listed = _decoded_positions(self._values)
        counts = np.fromiter(map(len, listed), dtype=np.int64, count=len(listed))
        if not np.array_equal(counts, weights) or not np.all(counts):
            return None
        gaps = np.fromiter(itertools.chain.from_iterable(listed), dtype=np.int64, count=int(counts.sum()))
        running = np.cumsum(gaps)
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        positions = running - np.repeat(running[firsts] - gaps[firsts], counts)
        return positions.astype(np.uint16 if positions.max() < 2**16 else np.uint32)

    def finish_field(self):
        self._inner.finish_field()
        self._listing = False

    def close(self):
        self._inner.close()
        directory = pickle.dumps(self._directory, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(directory)
        self._file.write(_FOOTER.pack(self._written, _MAGIC))
        self._file.close()


def _decoded_positions(values: list[bytes]) -> list[list[int]]:
    """Each posting's gaps between positions, in one unpickling for the term rather than
    one a posting: Whoosh's Positions format is a count, then the gaps pickled with
    protocol 2 (a value read back from a segment may have lost the pickle's final ".");
    the pickles' bodies, joined, are the body of one list of lists."""
    start = _INT_SIZE + len(_PROTOCOL_2)
    bodies = b"".join(value[start:-1] if value[-1] == _STOP else value[start:] for value in values)
    return pickle.loads(_PROTOCOL_2 + b"](" + bodies + b"e.")


def _fill_blocks(postwriter, ids: np.ndarray, weights: np.ndarray, values: list[bytes], lengths: np.ndarray) -> None:
    """A term's postings into Whoosh 3's postings writer (whoosh-reloaded is pinned) as
    whole blocks: each block's buffers and statistics set as its add_posting() would have
    left them, every full block written, the last left for finish_postings()."""
    limit = postwriter._blocklimit
    for start in range(0, len(ids), limit):
        if start:
            postwriter._write_block()
        end = start + limit
        block_weights, block_lengths = weights[start:end], lengths[start:end]
        postwriter._ids = array("I", ids[start:end].astype(np.uint32).tobytes())
        postwriter._weights = array("f", block_weights.astype(np.float32).tobytes())
        postwriter._values = [value for value in values[start:end] if value]
        heaviest = float(block_weights.max())
        postwriter._maxweight = heaviest if heaviest > 0 else 0
        counted = block_lengths[block_lengths > 0]
        postwriter._minlength = int(counted.min()) if counted.size else None
        postwriter._maxlength = int(counted.max()) if counted.size else 0


def list_long_postings(writer) -> None:
    """Make a Whoosh segment writer that has written no postings yet write arrays too."""
    if not isinstance(writer.fieldwriter, ArrayWriter):
        writer.fieldwriter = ArrayWriter(writer.fieldwriter, writer.storage, writer.newsegment)


class SegmentArrays:
    """The arrays of one segment's long lists, mapped (the OS pages them in and out)."""

    def __init__(self, path: str):
        with open(path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        start, magic = _FOOTER.unpack(self._map[-_FOOTER.size:])
        if magic != _MAGIC:
            raise ValueError(f"{path} is not a posting array file")
        self._directory = pickle.loads(self._map[start:-_FOOTER.size])

    def get(self, fieldname: str, term: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """(document numbers, frequencies as float32, positions or None) of a long list;
        None for a list not here."""
        found = self._directory.get((fieldname, term))
        if found is None:
            return None
        offset, count, weights, positions, places = found
        ids = np.frombuffer(self._map, dtype=np.int32, count=count, offset=offset)
        tf = np.frombuffer(self._map, dtype=weights, count=count, offset=offset + ids.nbytes)
        where = offset + ids.nbytes + tf.nbytes
        return ids, tf.astype(np.float32, copy=False), (
            np.frombuffer(self._map, dtype=positions, count=places, offset=where) if positions else None)


_OPENED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def arrays_of(reader) -> SegmentArrays | None:
    """The segment's arrays, if its writer wrote them (a segment reader of Whoosh 3)."""
    if reader not in _OPENED:
        _OPENED[reader] = _open(reader)
    return _OPENED[reader]


def _open(reader) -> SegmentArrays | None:
    """None where the segment has no arrays, or a damaged file: the posting file holds the
    same postings, so searches read those instead."""
    segment, folder = getattr(reader, "_segment", None), getattr(getattr(reader, "_storage", None), "folder", None)
    if segment is None or folder is None:
        return None
    path = os.path.join(folder, segment.make_filename(EXTENSION))
    try:
        return SegmentArrays(path)
    except (OSError, ValueError, struct.error, pickle.UnpicklingError, EOFError):
        return None
