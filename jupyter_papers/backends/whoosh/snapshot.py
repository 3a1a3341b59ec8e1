"""One searcher kept open across searches, and what searches worked out about it.

Opening a searcher per query costs several times the query itself, so it is kept, and
replaced only when another writer (a kernel, the server) has committed: a new searcher,
not refresh(), since refresh fails on an empty index's reader and keeps reusing a segment
reader whose deletions changed. ``memo`` (posting lists, idfs, remembered results) lives
exactly as long as the searcher it describes.
"""

from __future__ import annotations

from collections.abc import Callable


class Snapshot:
    def __init__(self, open_searcher: Callable):
        self._open = open_searcher
        self._searcher = None
        self.memo: dict = {}

    def current(self):
        """The searcher of the index as it is now."""
        if self._searcher is not None and not self._searcher.up_to_date():
            self.close()
        if self._searcher is None:
            self._searcher = self._open()
            self.memo = {}
        return self._searcher

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self.memo = {}
