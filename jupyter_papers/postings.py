"""Reading Whoosh's posting lists fast: skipping inside a block by binary search; whole
lists a block at a time as numpy arrays, kept per index snapshot (PostingCache), with the
positions of one document read from its block; numeric columns (years, each segment's
field lengths) read whole.

Intersections (every word of a query, phrases) move each posting list to the next
candidate with ``skip_to``. Whoosh's W3 reader finds the right block of 128 postings from
its header, then steps through the block one posting at a time, three method calls per
step: a quarter of the time of a two-word query at 158k papers. Same results, found by
bisecting the block's (sorted) document numbers instead. Whoosh-reloaded is pinned, so the
reader this replaces a method of is known.
"""

from __future__ import annotations

import pickle
import weakref
import zlib
from bisect import bisect_left
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.columns import NumericColumn
from whoosh.matching import ReadTooFar
from whoosh.util.numeric import byte_to_length

_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


def _skip_to(self, targetid):
    if not self.is_active():
        raise ReadTooFar
    if targetid <= self.id():
        return
    if targetid > self._maxid:
        self._skip_to_block(lambda: targetid > self._maxid)
        if not self.is_active():
            return
        if self._ids is None:
            self._read_ids()
    # the block's last id is >= targetid, so the position found is inside the block
    self._i = bisect_left(self._ids, targetid, self._i)


def install() -> None:
    W3LeafMatcher.skip_to = _skip_to


def column_array(column, documents: int) -> np.ndarray:
    """A segment's numeric column (Whoosh 3's NumericColumn: fixed-size big-endian values
    one after another, the documents past its end at the default) read at once: Whoosh's
    load() unpacks a value per document, 0.2 s for a column of 158k papers, most of the
    first search's time."""
    if not isinstance(column, NumericColumn.Reader):
        return np.asarray(column.load())
    raw = column._dbfile.get(column._basepos, column._count * column._fixedlen)
    values = np.frombuffer(raw, dtype=">" + column._typecode).astype(column._typecode)
    missing = documents - len(values)
    return np.concatenate([values, np.full(missing, column._default, dtype=values.dtype)]) if missing > 0 else values


class FieldLengths:
    """Each segment's title and abstract lengths as arrays, loaded once per reader."""

    def __init__(self):
        self._lengths: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def of(self, reader, fieldname: str) -> np.ndarray:
        per_field = self._lengths.setdefault(reader, {})
        if fieldname not in per_field:
            column, perdoc = _lenfield(fieldname), reader._perdoc  # Whoosh 3's length column: a byte a paper
            if perdoc.has_column(column):
                raw = column_array(perdoc.column_reader(column, LENGTHS_COLUMN), reader.doc_count_all())
            else:
                raw = np.zeros(reader.doc_count_all(), dtype=np.uint8)
            per_field[fieldname] = _LENGTHS[raw]
        return per_field[fieldname]


def posting_blocks(reader, fieldname: str, term: str):
    """(document numbers, term frequencies, where the block's data is) of a term's
    postings in one segment, a block of up to 128 at a time, without Whoosh's per-posting
    matcher calls. The layout is Whoosh 3's (whoosh-reloaded is pinned): delta-coded ids,
    and weights as None (all 1), one float for the whole block, or one per posting."""
    matcher = reader._terms.matcher(fieldname, term.encode("utf-8"), reader.schema[fieldname].format)
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        ids, weights = matcher._data[0], matcher._data[1]
        ids = np.asarray(ids, dtype=np.int64)
        if not matcher._byteids:
            ids = np.cumsum(ids)
        if weights is None or isinstance(weights, float):
            weights = np.full(len(ids), 1.0 if weights is None else weights, dtype=np.float32)
        else:
            weights = np.asarray(weights, dtype=np.float32)
        yield ids, weights, _Block(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset, matcher._compression)
        matcher._next_block()


class _Block(NamedTuple):
    offset: int
    length: int
    compressed: bool


class Postings(NamedTuple):
    """A term's postings in one segment: document numbers (sorted), frequencies, and where
    each block of them starts (in the lists and in the file), to read positions."""

    ids: np.ndarray
    tf: np.ndarray
    starts: np.ndarray
    blocks: list[_Block]


_NONE = Postings(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64), [])


class PostingCache:
    """Decoded posting lists (document numbers, frequencies) of one index snapshot, the
    most recently used kept up to a memory budget. A search box asks for the same words at
    every key press, and decoding a list block by block costs far more than scoring it.
    Positions are read a block at a time where a phrase needs them: Whoosh's matcher walks
    every block header on its way to a document (half of a phrase bonus's time)."""

    def __init__(self, budget_bytes: int = 96 * 2**20, blocks_kept: int = 1024):
        self.budget = budget_bytes
        self._lists: OrderedDict = OrderedDict()
        self._bytes = 0
        self._values: OrderedDict = OrderedDict()  # a block's encoded positions, per posting
        self._blocks_kept = blocks_kept

    def get(self, reader, fieldname: str, term: str) -> Postings:
        key = (id(reader), fieldname, term)  # the snapshot's readers live as long as this cache
        found = self._lists.get(key)
        if found is not None:
            self._lists.move_to_end(key)
            return found
        blocks = list(posting_blocks(reader, fieldname, term)) if (fieldname, term) in reader else []
        if not blocks:
            return _NONE
        sizes = np.array([len(ids) for ids, _, _ in blocks], dtype=np.int64)
        found = Postings(np.concatenate([ids for ids, _, _ in blocks]).astype(np.int32),
                         np.concatenate([tf for _, tf, _ in blocks]),
                         np.concatenate([[0], np.cumsum(sizes)[:-1]]), [where for _, _, where in blocks])
        self._lists[key] = found
        self._bytes += found.ids.nbytes + found.tf.nbytes
        while self._bytes > self.budget and len(self._lists) > 1:
            _, dropped = self._lists.popitem(last=False)
            self._bytes -= dropped.ids.nbytes + dropped.tf.nbytes
        return found

    def positions(self, reader, fieldname: str, term: str, docnum: int) -> list[int]:
        """Where the term is in the document's field (none if it is not there)."""
        postings = self.get(reader, fieldname, term)
        at = int(np.searchsorted(postings.ids, docnum))
        if at == len(postings.ids) or postings.ids[at] != docnum:
            return []
        number = int(np.searchsorted(postings.starts, at, side="right")) - 1
        key = (id(reader), fieldname, term, number)
        values = self._values.get(key)
        if values is None:
            block = postings.blocks[number]
            data = reader._terms._postfile.get(block.offset, block.length)
            values = self._values[key] = pickle.loads(zlib.decompress(data) if block.compressed else data)[2]
            if len(self._values) > self._blocks_kept:
                self._values.popitem(last=False)
        return reader.schema[fieldname].format.decoder("positions")(values[at - int(postings.starts[number])])


def cached_postings(memo: dict) -> PostingCache:
    """The posting cache of the index snapshot ``memo`` holds what is known about."""
    return memo.setdefault("postings", PostingCache())
