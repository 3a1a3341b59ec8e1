"""Rebuilding an index without ever losing what it holds.

A rebuild reads every paper the old index still holds (segment by segment, whatever its
schema version, skipping only what is damaged), builds a complete new index beside it,
and swaps the two folders in one step. Writers wait for it (it holds the index's write
lock throughout); readers keep reading the old files until their next search. Killed at
any moment, it leaves the old index in place, or the new one complete.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.index import TOC
from whoosh.reading import SegmentReader

from .analysis import make_schema, stored_paper
from .pages import PAGES_NAME, PageIndex
from ...paper import Paper
from .storage import MappedStorage
from . import vectors

INDEX_NAME = "papers"
LOCK_TIMEOUT = 120.0
# Files of the papers' index, rebuilt; the pages' index is copied before (PageIndex.copy_to).
_INDEX_FILES = (f"{INDEX_NAME}_", f"_{INDEX_NAME}_", f"{PAGES_NAME}_", f"_{PAGES_NAME}_")


@dataclass
class RebuildReport:
    papers: int = 0
    problems: list[str] = field(default_factory=list)
    kept_old: Path | None = None   # the old folder, kept when part of it could not be read

    def __str__(self) -> str:
        return f"{self.papers} papers"


def _generations(storage) -> list[int]:
    pattern = TOC._pattern(INDEX_NAME)
    return sorted((int(m.group(1)) for m in map(pattern.match, storage) if m), reverse=True)


def salvage(path: Path) -> tuple[list[Paper], list[str]]:
    """Every paper the index at ``path`` still holds, and what could not be read. The
    newest table of contents that can be read names the segments; each segment is read
    on its own, so one damaged file costs only its own papers."""
    problems: list[str] = []
    if not path.is_dir():
        return [], problems
    storage = MappedStorage(str(path))
    toc = None
    for generation in _generations(storage):
        try:
            toc = TOC.read(storage, INDEX_NAME, generation, schema=make_schema())
            break
        except Exception as error:  # a damaged table of contents: try the one before it
            problems.append(f"table of contents {generation}: {error}")
    papers: dict[str, Paper] = {}
    for segment in toc.segments if toc else []:
        try:
            reader = SegmentReader(storage, toc.schema, segment)
        except Exception as error:
            problems.append(f"segment {segment.segment_id()}: {error}")
            continue
        lost = 0
        for docnum in range(reader.doc_count_all()):
            try:
                if reader.is_deleted(docnum):
                    continue
                paper = stored_paper(reader.stored_fields(docnum))
            except Exception:  # a damaged record: the others are still worth keeping
                lost += 1
                continue
            papers[paper.id] = paper
        if lost:
            problems.append(f"segment {segment.segment_id()}: {lost} papers could not be read")
        reader.close()
    return list(papers.values()), problems


def _swapped_atomically(first: Path, second: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 with RENAME_EXCHANGE), if the system
    and the file system can."""
    try:
        exchange = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_cwd, rename_exchange = -100, 2
    return exchange(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), rename_exchange) == 0


def _aside(path: Path) -> Path:
    return path.with_name(f".{path.name}.old-{os.getpid()}")


def _exchange(first: Path, second: Path) -> None:
    """Swap two folders: in one step where the system can; elsewhere by three renames,
    after the first of which ``second`` is missing for a moment. A process killed right
    then leaves the old index aside, where the next open puts it back (restore_aside)."""
    if _swapped_atomically(first, second):
        return
    aside = _aside(second)
    os.rename(second, aside)
    os.rename(first, second)
    os.rename(aside, first)


def restore_aside(path: Path) -> None:
    """Put back an index that a rebuild killed in its swap left aside, if ``path`` holds no
    index: no path through a rebuild may leave none in place."""
    if _generations_at(path):
        return
    for aside in sorted(path.parent.glob(f".{path.name}.old-*"), key=lambda p: p.stat().st_mtime, reverse=True):
        if _generations_at(aside):
            if path.is_dir():
                shutil.rmtree(path)
            os.rename(aside, path)
            return


def _generations_at(path: Path) -> list[int]:
    return _generations(MappedStorage(str(path))) if path.is_dir() else []


def _newer_than(path: Path, generation: int) -> None:
    """Number the new index's table of contents after the old one's, so that a reader of
    the old index sees a newer generation and reopens."""
    storage = MappedStorage(str(path))
    current = _generations(storage)[0]
    if current > generation:
        return
    toc = TOC.read(storage, INDEX_NAME, current, schema=make_schema())
    toc.generation = generation + 1
    toc.write(storage, INDEX_NAME)
    storage.delete_file(TOC._filename(INDEX_NAME, current))


def _carry_over(old: Path, fresh: Path) -> None:
    """What else the folder holds (the list of sources, ...) goes with the new index: a
    rebuild remakes the index, not the user's settings."""
    for file in old.iterdir():
        if file.is_file() and not file.name.startswith(_INDEX_FILES) and not (fresh / file.name).exists():
            shutil.copy2(file, fresh / file.name)


def rebuild_index(path: str | Path, fallback: Iterable[Paper] | None = None) -> RebuildReport:
    """Re-create the index at ``path`` from the papers it holds (``fallback``'s papers when
    it holds none that can be read). The old folder is deleted once the new one is in
    place, unless part of it could not be read: then it is kept beside, and named."""
    from ...index import PaperIndex, holding_write_lock

    path = Path(path).expanduser().absolute()
    restore_aside(path)
    path.mkdir(parents=True, exist_ok=True)
    report = RebuildReport()
    with holding_write_lock(path, LOCK_TIMEOUT):
        # only the holder of the lock may clean up: another rebuild's folder is in use until then
        for stale in (*path.parent.glob(f".{path.name}.rebuild-*"), *path.parent.glob(f".{path.name}.old-*")):
            shutil.rmtree(stale, ignore_errors=True)  # left by a rebuild that was killed
        papers, report.problems = salvage(path)
        if not papers and fallback is not None:
            papers = list(fallback)
        old_generations = _generations(MappedStorage(str(path)))
        fresh = path.with_name(f".{path.name}.rebuild-{os.getpid()}")
        PageIndex(path).copy_to(fresh)
        if vectors.folder(path).is_dir():  # the papers' vectors are taken over by their texts' hashes
            shutil.copytree(vectors.folder(path), vectors.folder(fresh), ignore=shutil.ignore_patterns("embed.*"))
        index = PaperIndex(fresh)
        index._meaning.background = False  # it embeds after the swap, in the folder's final place
        try:
            index.add(papers)
            report.papers = len(index)
        finally:
            index.close()
        if old_generations:
            _newer_than(fresh, old_generations[0])
        # The lock is a file in the folder: after the swap the one at ``path`` is the new
        # folder's, so that one is held too until the old folder is dealt with.
        with holding_write_lock(fresh, LOCK_TIMEOUT):
            _carry_over(path, fresh)
            _exchange(fresh, path)
            if report.problems:
                report.kept_old = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
                os.rename(fresh, report.kept_old)
            else:
                shutil.rmtree(fresh, ignore_errors=True)
    return report
