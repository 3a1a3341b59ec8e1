"""Reading Whoosh's posting lists fast: skipping inside a block by binary search; whole
lists as numpy arrays, kept per index snapshot (PostingCache): sliced from the segment's
arrays file where its writer listed them (arrays.py), else decoded a block at a time;
positions of one document read from its block, or of many at once from the arrays (a
phrase's candidates); numeric columns (years, each segment's field lengths) read whole.

Intersections (every word of a query, phrases) move each posting list to the next
candidate with ``skip_to``. Whoosh's W3 reader finds the right block of 128 postings from
its header, then steps through the block one posting at a time, three method calls per
step: a quarter of the time of a two-word query at 158k papers. Same results, found by
bisecting the block's (sorted) document numbers instead (SkippingLeafMatcher, through
SkippingCodec). Whoosh-reloaded is pinned, so the matcher this subclasses is known.
"""

from __future__ import annotations

import pickle
import weakref
import zlib
from bisect import bisect_left
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3LeafMatcher, W3PerDocReader, _lenfield
from whoosh.columns import NumericColumn
from whoosh.matching import ReadTooFar
from whoosh.util.numeric import byte_to_length

from .arrays import arrays_of

_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


class SkippingLeafMatcher(W3LeafMatcher):
    """Whoosh 3's posting list matcher, whose ``skip_to`` bisects inside a block."""

    def skip_to(self, targetid):
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


class ColumnsOpenedReader(W3PerDocReader):
    """A segment's per-document columns (stored fields, field lengths, years) all opened
    with the segment. Whoosh opens each on first use: by then another process's commit may
    have merged the segment away and deleted its files (a search beside two importing
    processes read stored fields as None); a file opened before stays readable."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        prefix, suffix = segment.make_filename("."), W3Codec.COLUMN_EXT
        for name in storage.list():
            if name.startswith(prefix) and name.endswith(suffix):
                column = name[len(prefix):-len(suffix)]
                self._colfiles[column] = self._get_column_file(column)

    def has_column(self, fieldname):
        return fieldname in self._colfiles or super().has_column(fieldname)


class SkippingCodec(W3Codec):
    """Whoosh 3's codec, reading posting lists with SkippingLeafMatcher and opening a
    segment's columns at once (ColumnsOpenedReader). The segments of our indexes are read
    with it (storage.MappedFile); it pickles as Whoosh's own W3Codec, so the files stay
    Whoosh's and no other user of Whoosh in the process is affected."""

    def per_document_reader(self, storage, segment):
        return ColumnsOpenedReader(storage, segment)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return SkippingLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)

    def __reduce__(self):
        return W3Codec, (self._blocklimit, self._compression, self._inlinelimit)


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
    for matcher, block in _walk_blocks(reader, fieldname, term):
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
        yield ids, weights, block


def _walk_blocks(reader, fieldname: str, term: str):
    """(Whoosh's matcher at the block, where the block's data is) for each block of the
    term's postings in one segment, reading only the block headers."""
    matcher = reader._terms.matcher(fieldname, term.encode("utf-8"), reader.schema[fieldname].format)
    while matcher.is_active():
        yield matcher, _Block(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset, matcher._compression)
        matcher._next_block()


class _Block(NamedTuple):
    offset: int
    length: int
    compressed: bool


class Postings(NamedTuple):
    """A term's postings in one segment: document numbers (sorted), frequencies, and where
    each block of them starts (in the lists and in the file), to read positions (None
    until needed, for a list read from the segment's arrays); from the arrays, all the
    positions one posting after another."""

    ids: np.ndarray
    tf: np.ndarray
    starts: np.ndarray | None
    blocks: list[_Block] | None
    positions: np.ndarray | None = None


_NONE = Postings(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64), [],
                 np.zeros(0, dtype=np.uint16))


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
        found = _listed(reader, fieldname, term)
        if found is None:
            found = _decoded(reader, fieldname, term)
        if found is _NONE:
            return found
        self._lists[key] = found
        self._bytes += _held_bytes(found)
        while self._bytes > self.budget and len(self._lists) > 1:
            _, dropped = self._lists.popitem(last=False)
            self._bytes -= _held_bytes(dropped)
        return found

    def positions(self, reader, fieldname: str, term: str, docnum: int) -> list[int]:
        """Where the term is in the document's field (none if it is not there)."""
        postings = self.get(reader, fieldname, term)
        at = int(np.searchsorted(postings.ids, docnum))
        if at == len(postings.ids) or postings.ids[at] != docnum:
            return []
        if postings.blocks is None:  # read from the segment's arrays: find the blocks now
            starts, blocks = _block_map(reader, fieldname, term)
            postings = postings._replace(starts=starts, blocks=blocks)
            if (id(reader), fieldname, term) in self._lists:
                self._lists[id(reader), fieldname, term] = postings
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

    def side_by_side(self, reader, fieldname: str, words, candidates: np.ndarray) -> np.ndarray:
        """The candidates (sorted documents holding every word in the field) where the words
        stand in order, side by side, as Whoosh's phrase matcher finds them."""
        if len(words) < 2 or not len(candidates):
            return candidates
        places = None  # document << 32 | where the phrase would start
        for distance, word in enumerate(words):
            documents, positions = self._places(reader, fieldname, word, candidates)
            keep = positions >= distance
            found = (documents[keep].astype(np.int64) << 32) | (positions[keep].astype(np.int64) - distance)
            places = found if places is None else np.intersect1d(places, found, assume_unique=True)
        return np.unique(places >> 32).astype(np.int32)

    def _places(self, reader, fieldname: str, word: str, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(document, position) of each of the word's positions in the candidates."""
        postings = self.get(reader, fieldname, word)
        if postings.positions is None:  # a short list, or a segment without arrays: per document
            listed = [(document, self.positions(reader, fieldname, word, int(document))) for document in candidates]
            return (np.repeat(candidates, [len(at) for _, at in listed]),
                    np.array([p for _, at in listed for p in at], dtype=np.int64))
        at = np.searchsorted(postings.ids, candidates)
        counts = postings.tf[at].astype(np.int64)  # the arrays hold positions only where these are their counts
        firsts = np.cumsum(postings.tf.astype(np.int64))[at] - counts
        shift = np.repeat(firsts - (np.cumsum(counts) - counts), counts)
        return np.repeat(candidates, counts), postings.positions[np.arange(int(counts.sum())) + shift]


def _listed(reader, fieldname: str, term: str) -> Postings | None:
    """The postings from the segment's arrays (arrays.py), if it lists the term."""
    listed = arrays_of(reader)
    found = listed.get(fieldname, term.encode("utf-8")) if listed is not None else None
    if found is None:
        return None
    ids, tf, positions = found
    return Postings(ids, tf, None, None, positions)


def _decoded(reader, fieldname: str, term: str) -> Postings:
    """The postings decoded from Whoosh's blocks."""
    blocks = list(posting_blocks(reader, fieldname, term)) if (fieldname, term) in reader else []
    if not blocks:
        return _NONE
    sizes = np.array([len(ids) for ids, _, _ in blocks], dtype=np.int64)
    return Postings(np.concatenate([ids for ids, _, _ in blocks]).astype(np.int32),
                    np.concatenate([tf for _, tf, _ in blocks]),
                    np.concatenate([[0], np.cumsum(sizes)[:-1]]), [where for _, _, where in blocks])


def _block_map(reader, fieldname: str, term: str) -> tuple[np.ndarray, list[_Block]]:
    """Where each block of the term's postings starts (in the list, in the file), from
    the block headers alone."""
    starts, blocks, start = [], [], 0
    for matcher, block in _walk_blocks(reader, fieldname, term):
        starts.append(start)
        blocks.append(block)
        start += matcher._blocklength
    return np.array(starts, dtype=np.int64), blocks


def _held_bytes(postings: Postings) -> int:
    """Memory a cached list holds: document numbers mapped from the arrays file are the
    page cache's, not this process's."""
    return postings.tf.nbytes + (postings.ids.nbytes if postings.ids.flags.owndata else 0)


def cached_postings(memo: dict) -> PostingCache:
    """The posting cache of the index snapshot ``memo`` holds what is known about."""
    return memo.setdefault("postings", PostingCache())
