"""The registered sources, watched: each is synced about two seconds after it changes.

watchfiles reports file-system events, in a daemon thread, for the sources' folders (a .bib file's folder, a
folder source, Zotero's data directory) and for the index folder, whose sources.json
changes when a source is added or removed (then the set of folders is read again). A file
being written is not read half-way: a sync waits until the source's files have kept the
same size and modification time for ``SETTLE`` seconds (Better BibTeX and JabRef rewrite
in place; Zotero writes through its log). A sync that fails keeps the last good papers,
as the registry does; the watcher goes on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from ..sources.registry import REGISTRY, files_of

SETTLE = 0.5        # seconds a source's files must stay unchanged before it is read
DEBOUNCE_MS = 300   # events closer than this come as one batch


class SourceWatcher:
    def __init__(self, folder_of, index_of, log: logging.Logger | None = None):
        """``index_of()``: the server's index (opened on first use), whose list of sources
        is in ``folder_of()``: it is opened here only once a source is registered there."""
        self.folder_of = folder_of
        self.index_of = index_of
        self.log = log or logging.getLogger("jupyter_papers")
        self.synced = asyncio.Event()   # set after each sync: tests and the REST API wait on it
        self._stop = asyncio.Event()
        self._round = threading.Event()  # set: the watching thread ends (stopped, or the sources changed)

    def stop(self) -> None:
        self._stop.set()
        self._round.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            if not (Path(self.folder_of()) / REGISTRY).exists():  # no source yet: a stat every second
                await self._sleep(1)
                continue
            try:
                index = self.index_of()
                states = await asyncio.to_thread(index.sources.list)
            except Exception as error:  # noqa: BLE001 - no index yet, or a broken one: try again
                self.log.warning("jupyter_papers: sources not watched (%s); trying again", error)
                await self._sleep(5)
                continue
            self._round = threading.Event()
            batches: asyncio.Queue = asyncio.Queue()
            threading.Thread(target=_watch, args=(_folders(index.path, states), self._round, loop, batches),
                             name="jupyter-papers-watcher", daemon=True).start()
            for state in states:  # what changed while the folders were not watched (a stat each when nothing did)
                await self._sync(index, state, settle=False)
            while (changes := await batches.get()) is not None:
                if isinstance(changes, Exception):  # a watched folder went away: read the sources again
                    self._round.set()
                    await self._sleep(1)
                    continue
                changed = {Path(path) for _, path in changes}
                if any(path.name == REGISTRY and path.parent == Path(index.path) for path in changed) and (
                        _watched(await asyncio.to_thread(index.sources.list)) != _watched(states)):
                    self._round.set()  # a source was added or removed: watch the new set of folders
                for state in states:
                    if any(_belongs(path, state) for path in changed):
                        await self._sync(index, state)

    async def _sync(self, index, state, settle: bool = True) -> None:
        if settle:
            await _settled(state)
        try:
            reports = await asyncio.to_thread(index.sources.sync, state.name)
            for report in reports:
                self.log.info("jupyter_papers: synced %s", report)
        except Exception as error:  # noqa: BLE001 - said, and the watcher goes on
            self.log.warning("jupyter_papers: sync of %s failed: %s", state.name, error)
        self.synced.set()
        self.synced = asyncio.Event()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass


def _watch(folders: list[str], done: threading.Event, loop, batches: asyncio.Queue) -> None:
    """In a daemon thread (which never keeps a stopping server alive): watchfiles' events
    for ``folders`` until ``done`` is set, each batch handed to the event loop; then None."""
    from watchfiles import watch

    def hand(item) -> None:
        try:
            loop.call_soon_threadsafe(batches.put_nowait, item)
        except RuntimeError:  # the event loop has closed: the server is gone
            done.set()

    try:
        for changes in watch(*folders, stop_event=done, debounce=DEBOUNCE_MS, step=50, recursive=True):
            hand(changes)
    except FileNotFoundError as error:
        hand(error)
    finally:
        hand(None)


def _watched(states) -> list[tuple[str, str, str]]:
    return sorted((state.name, state.kind, state.path) for state in states)


def _folders(index_path, states) -> list[str]:
    folders = {str(Path(index_path))}
    for state in states:
        path = Path(state.path)
        folder = path if state.kind in ("folder", "zotero") else path.parent
        if folder.is_dir():
            folders.add(str(folder))
    return sorted(folders)


def _belongs(path: Path, state) -> bool:
    source = Path(state.path)
    if state.kind == "zotero":
        return path.parent == source and path.name.startswith(("zotero.sqlite", "better-bibtex.sqlite"))
    if state.kind == "folder":
        return source in path.parents and not path.name.startswith(".")
    return path == source


async def _settled(state) -> None:
    """Wait until the source's files stop changing (at most 10 s)."""
    def look():
        seen = []
        for file in files_of(state.kind, Path(state.path)):  # the files a sync reads
            try:
                info = file.stat()
            except FileNotFoundError:  # replaced as we looked: look again next time
                continue
            seen.append((str(file), info.st_size, info.st_mtime_ns))
        return seen

    last, waited = look(), 0.0
    while waited < 10:
        await asyncio.sleep(SETTLE)
        waited += SETTLE
        now = look()
        if now == last:
            return
        last = now
