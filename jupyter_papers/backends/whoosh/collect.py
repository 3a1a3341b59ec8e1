"""The collector every search runs through: a time limit and a year range, checked per match.

Whoosh's TimeLimitCollector starts a timer thread per search (a cost paid on every key
press) and bypasses Whoosh's FilterCollector, so a year range had to go into the query as
``Require(q, NumericRange("year"))``, which reads the postings of every paper in the range:
about 75 ms at 158k papers, even when the words match one paper. Here the years come from
the index's year column, loaded once per segment, and each match is checked against them.
"""

from __future__ import annotations

import time
import weakref
from array import array

import numpy as np
from whoosh.collectors import WrappingCollector
from whoosh.searching import TimeLimit

from .postings import column_array

CHECK_CLOCK_EVERY = 256  # matches between looks at the clock


class YearColumns:
    """Each segment's year column as an array, loaded on first use and kept while the
    segment's reader lives (deletions and new segments come with new readers)."""

    def __init__(self):
        self._years: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def of(self, subsearcher) -> array:
        reader = subsearcher.reader()
        years = self._years.get(reader)
        if years is None:
            if reader.has_column("year"):
                column = column_array(reader.column_reader("year", translate=False), reader.doc_count_all())
                years = array("H", column.astype("H").tobytes())
            else:
                years = array("H", bytes(2 * reader.doc_count_all()))
            self._years[reader] = years
        return years


def shown_papers(subsearcher, years: tuple[int | None, int | None] | None, columns: YearColumns) -> np.ndarray:
    """Which papers of a segment a search may show: not deleted, and in ``years`` (a (from,
    to) pair, either end None, or None); a paper without a year (0) is outside every range,
    as BoundedCollector has it."""
    reader = subsearcher.reader()
    shown = np.ones(reader.doc_count_all(), dtype=bool)
    if reader.has_deletions():
        shown[np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
    if years is not None:
        low, high = years
        column = np.frombuffer(columns.of(subsearcher), dtype=np.uint16)
        shown &= column >= (1 if low is None else low)
        if high is not None:
            shown &= column <= high
    return shown


class BoundedCollector(WrappingCollector):
    """Collects what ``child`` would, skipping papers outside ``years`` (a (from, to)
    pair, either end None) and raising TimeLimit once ``seconds`` have passed; the child
    keeps what it found so far."""

    def __init__(self, child, seconds: float, years: tuple[int | None, int | None] | None,
                 columns: YearColumns):
        super().__init__(child)
        self.seconds = seconds
        self.years = years
        self.columns = columns
        self._deadline = 0.0
        self._column: array | None = None

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        self._deadline = time.monotonic() + self.seconds

    def set_subsearcher(self, subsearcher, offset):
        super().set_subsearcher(subsearcher, offset)
        self._column = self.columns.of(subsearcher) if self.years else None

    def collect_matches(self):
        child, column, deadline = self.child, self._column, self._deadline
        low, high = self.years or (None, None)
        low = 1 if low is None else low  # 0: no year, outside every range
        high = 65535 if high is None else high
        for seen, sub_docnum in enumerate(child.matches()):
            if not seen % CHECK_CLOCK_EVERY and time.monotonic() > deadline:
                raise TimeLimit
            if column is None or low <= column[sub_docnum] <= high:
                child.collect(sub_docnum)
