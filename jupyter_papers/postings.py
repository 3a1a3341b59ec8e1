"""Whoosh's posting-list reader, made to skip inside a block by binary search.

Intersections (every word of a query, phrases) move each posting list to the next
candidate with ``skip_to``. Whoosh's W3 reader finds the right block of 128 postings from
its header, then steps through the block one posting at a time, three method calls per
step: a quarter of the time of a two-word query at 158k papers. Same results, found by
bisecting the block's (sorted) document numbers instead. Whoosh-reloaded is pinned, so the
reader this replaces a method of is known.
"""

from __future__ import annotations

from bisect import bisect_left

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ReadTooFar


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
