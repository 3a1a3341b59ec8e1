"""Sources: the files, folders and Zotero libraries an index is kept in step with.

The registry lives beside the index (``sources.json``) and remembers, for each source,
which papers it holds (by the id the source gives them, with a fingerprint of each
record and the id the paper has in the index), and how its files looked at the last sync
(size, modification time, content hash). A sync then costs a ``stat`` for an unchanged
source, a hash for a touched but unchanged one, and otherwise adds what is new, updates
what changed and removes what left the source, unless another source still holds it.
A source that cannot be read (missing, half written, a newer Zotero) keeps its papers
and says why. Syncs take a lock beside the registry: two processes syncing at once sync
one after the other, and neither loses or doubles anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import Problem, Reading, UnknownFormatError, decode, extract, read_papers, sha256_of, zotero
from .bibblocks import block_at, blocks_of, needs_whole_file, shared_digest, with_only

REGISTRY = "sources.json"
LOOKED_UP, LOOKED_UP_FILE = "looked-up", "looked-up.jsonl"  # papers looked up online (online.py)
LOCK_TIMEOUT = 300.0
FILE_SUFFIXES = (".bib", ".bibtex", ".biblatex", ".json", ".jsonl", ".ndjson")
FOLDER_SUFFIXES = (*FILE_SUFFIXES, ".pdf")  # a folder source may hold PDFs too, each a paper


class SourceError(ValueError):
    """A source that cannot be added, found or removed; the message says why."""


@dataclass
class SourceState:
    name: str
    kind: str                      # bibtex, csljson, jsonl, folder, zotero
    path: str
    papers: dict[str, list] = field(default_factory=dict)   # source id -> [fingerprint, index id]
    files: dict[str, list] = field(default_factory=dict)    # path -> [size, mtime_ns, sha256]
    last_sync: float | None = None
    problems: list[str] = field(default_factory=list)
    missing: bool = False
    collections: list[str] = field(default_factory=list)   # a Zotero library's collections ("Thesis/Chapter 2")
    blocks: dict[str, dict] = field(default_factory=dict)  # a .bib entry's hash -> its papers' ids, its problems
    shared: str | None = None                               # hash of the .bib's @string and @preamble blocks
    pdfs: dict[str, dict] = field(default_factory=dict)     # a folder's PDF's hash -> the record made for it

    def summary(self) -> dict:
        """What ``sources list`` and the REST API show."""
        return {"name": self.name, "kind": self.kind, "path": self.path, "papers": len(self.papers),
                "last_sync": self.last_sync, "problems": self.problems, "missing": self.missing,
                "collections": self.collections}


@dataclass
class SyncReport:
    name: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: bool = False          # nothing changed on disk: not read at all
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.name}: unchanged"
        text = f"{self.name}: added {self.added}, updated {self.updated}, removed {self.removed}"
        return text + (f", {len(self.problems)} problems" if self.problems else "")


class Sources:
    """The sources of one index (``index.sources``)."""

    def __init__(self, index):
        self.index = index
        self.file = Path(index.path) / REGISTRY

    # the registry ------------------------------------------------------------------------
    def _lock(self):
        from filelock import FileLock

        return FileLock(str(self.file) + ".lock", timeout=LOCK_TIMEOUT)

    def _load(self) -> dict[str, SourceState]:
        if not self.file.exists():
            return {}
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            return {name: SourceState(**state) for name, state in data.items()}
        except (ValueError, TypeError) as error:
            raise SourceError(f"{self.file}: the list of sources cannot be read ({error}); remove the file and "
                              "add the sources again") from None

    def _save(self, states: dict[str, SourceState]) -> None:
        from ..citations.bibfile import write_atomically

        text = json.dumps({name: asdict(state) for name, state in states.items()}, ensure_ascii=False, indent=1)
        write_atomically(self.file, (text + "\n").encode("utf-8"))

    def list(self) -> list[SourceState]:
        return list(self._load().values())

    # adding and removing -----------------------------------------------------------------
    def add(self, path: str | os.PathLike, name: str | None = None) -> SyncReport:
        """Register a .bib / CSL-JSON / JSON Lines file, a folder of them (PDFs too), or a
        Zotero data directory, and sync it."""
        path = Path(path).expanduser().absolute()
        if not path.exists():
            raise SourceError(f"{path}: no such file or folder")
        kind = _kind_of(path)
        with self._lock():
            states = self._load()
            for state in states.values():
                if Path(state.path) == path:
                    raise SourceError(f"{path} is already the source {state.name!r}")
            name = name or _free_name(path, states)
            if name in states:
                raise SourceError(f"a source is already named {name!r}")
            states[name] = SourceState(name=name, kind=kind, path=str(path))
            report = self._sync_one(states, states[name])
            self._save(states)
        return report

    def add_zotero(self, data_dir: str | os.PathLike | None = None, name: str = "zotero") -> SyncReport:
        """Register the Zotero library where Zotero keeps it (or in ``data_dir``)."""
        return self.add(Path(data_dir) if data_dir else zotero.find_data_directory(), name=name)

    def add_looked_up(self, paper) -> SyncReport:
        """Keep a paper looked up online: appended to the "looked-up" source (a JSON Lines
        file beside the index, registered on first use), which is then synced, so the paper
        is kept, listed and removable like any source's. The same paper looked up again is
        not appended twice."""
        from .online import to_jsonl

        file = Path(self.index.path) / LOOKED_UP_FILE
        with self._lock():
            states = self._load()
            held = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()] \
                if file.exists() else []
            same = {record.get("doi", "").lower() for record in held} | {record.get("arxiv_id") for record in held} | {
                record.get("id") for record in held}
            if not ({paper.doi.lower(), paper.arxiv_id, paper.id} - {""}) & same:
                with file.open("a", encoding="utf-8") as out:
                    out.write(to_jsonl(paper) + "\n")
            if LOOKED_UP not in states:
                states[LOOKED_UP] = SourceState(name=LOOKED_UP, kind="jsonl", path=str(file))
            report = self._sync_one(states, states[LOOKED_UP])
            self._save(states)
        return report

    def remove(self, name: str) -> int:
        """Forget a source; its papers leave the index unless another source holds them.
        Returns how many left."""
        with self._lock():
            states = self._load()
            gone = states.pop(_known(states, name).name)
            removed = self._remove_papers(states, [entry[1] for entry in gone.papers.values()])
            self._save(states)
        return removed

    # syncing -----------------------------------------------------------------------------
    def sync(self, name: str | None = None) -> list[SyncReport]:
        """Bring the index in step with one source, or all of them."""
        with self._lock():
            states = self._load()
            if name is not None:
                _known(states, name)
            reports = [self._sync_one(states, state) for state in states.values() if name in (None, state.name)]
            self._save(states)
        return reports

    def _sync_one(self, states: dict[str, SourceState], state: SourceState) -> SyncReport:
        report = SyncReport(state.name)
        path = Path(state.path)
        if not path.exists():
            state.missing = True
            state.problems = [f"{path} is missing: its {len(state.papers)} papers are kept until it is removed"]
            report.problems, report.skipped = list(state.problems), True
            return report
        if state.missing:  # back again (remounted, restored)
            state.missing, state.problems = False, []
        files = files_of(state.kind, path)
        signature = _signature(files, state.files)
        if {f: entry[2] for f, entry in signature.items()} == {f: entry[2] for f, entry in state.files.items()}:
            state.files = signature  # touched, or copied back, but the same bytes: nothing to read
            report.skipped = True
            return report
        try:
            papers, problems, kept = _read(state, path, files)
        except (zotero.ZoteroError, UnknownFormatError, OSError) as error:
            state.problems = [f"{error}; the last good papers are kept"]
            report.problems = list(state.problems)
            return report
        readable = not any(problem.broken for problem in problems)  # a file half written hides entries
        if state.kind == "zotero":
            state.collections = sorted({name for paper in papers
                                        for name in paper.extra.get("collections", "").split("; ") if name})
        fresh: dict[str, list] = {source_id: state.papers[source_id] for source_id in kept if source_id in state.papers}
        report.unchanged = len(fresh)
        changed = []
        for paper in papers:
            fingerprint = _fingerprint(paper)
            before = state.papers.get(paper.id)
            if before and before[0] == fingerprint:
                fresh[paper.id] = before
                report.unchanged += 1
            else:
                changed.append(paper)
                fresh[paper.id] = [fingerprint, None]
        if changed:
            added = self.index.add(changed, edits=True)
            report.added, report.updated = added.added, added.updated
            problems += added.fulltext
            report.unchanged += added.unchanged
            for paper in changed:
                fresh[paper.id][1] = added.held.get(paper.id, paper.id)
        # a PDF rewritten under an unchanged record (annotated, replaced): its pages are read
        # again; an unchanged one costs a stat (fulltext.py)
        changed_ids = {paper.id for paper in changed}
        same = [dataclasses.replace(paper, id=fresh[paper.id][1] or paper.id) for paper in papers
                if paper.extra.get("pdf") and paper.id not in changed_ids]
        if same:
            problems += self.index.index_fulltext(same)
        left = [entry[1] for source_id, entry in state.papers.items() if source_id not in fresh]
        if readable:
            state.papers = fresh
            report.removed = self._remove_papers(states, left)
        else:
            state.papers = {**state.papers, **fresh}
            if left:
                problems.append(Problem(state.path, None, f"{len(left)} papers no longer read from it are kept "
                                                          "until it reads without problems"))
        state.files = signature
        state.problems = [str(problem) for problem in problems]
        state.last_sync = time.time()
        report.problems = list(state.problems)
        return report

    def _remove_papers(self, states: dict[str, SourceState], index_ids: list[str]) -> int:
        """Remove these papers from the index, except those another source still holds."""
        held = {entry[1] for state in states.values() for entry in state.papers.values()}
        removed = 0
        for index_id in index_ids:
            if index_id and index_id not in held and self.index.remove(index_id):
                removed += 1
        return removed


def _known(states: dict[str, SourceState], name: str) -> SourceState:
    if name not in states:
        raise SourceError(f"no source named {name!r}; the sources are: {', '.join(states) or 'none'}")
    return states[name]


def _kind_of(path: Path) -> str:
    if path.is_dir():
        return "zotero" if zotero.is_data_directory(path) else "folder"
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if not suffixes or suffixes[-1] not in FILE_SUFFIXES:
        raise SourceError(f"{path}: a source is a .bib, .json or .jsonl file, a folder of them or of PDFs, or "
                          "Zotero's data directory")
    return {".json": "csljson", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffixes[-1], "bibtex")


def _free_name(path: Path, states: dict) -> str:
    base = path.stem if path.is_file() else path.name or "source"
    name, number = base, 2
    while name in states:
        name, number = f"{base}-{number}", number + 1
    return name


def files_of(kind: str, path: Path) -> list[Path]:
    """The files whose change means the source changed."""
    if kind == "zotero":
        return [f for f in (path / zotero.DATABASE, path / (zotero.DATABASE + "-wal"), path / "better-bibtex.sqlite")
                if f.is_file()]
    if kind == "folder":
        return sorted(f for f in path.rglob("*") if f.is_file() and not f.name.startswith(".") and any(
            f.name.lower().endswith(s) or f.name.lower().endswith(s + ".gz") for s in FOLDER_SUFFIXES))
    return [path]


def _signature(files: list[Path], before: dict[str, list]) -> dict[str, list]:
    """Size and modification time of each file, and its content hash, computed only when
    the other two changed."""
    signature = {}
    for file in files:
        info = file.stat()
        old = before.get(str(file))
        if old and old[0] == info.st_size and old[1] == info.st_mtime_ns:
            signature[str(file)] = old
            continue
        signature[str(file)] = [info.st_size, info.st_mtime_ns, sha256_of(file)]
    return signature


def _read(state: SourceState, path: Path, files: list[Path]):
    """The papers to compare, what went wrong, and the ids of papers known unchanged
    without reading them (the entries of a .bib whose text did not change)."""
    problems: list[Problem] = []
    if state.kind == "zotero":
        return list(zotero.read_library(path, problems.append)), problems, []
    if state.kind == "bibtex":
        return _read_bib(state, path)
    papers = []
    for file in files:
        if file.suffix.lower() == ".pdf":
            continue
        reading = read_papers(file)
        papers += list(reading)
        problems += reading.problems
    pdfs = [file for file in files if file.suffix.lower() == ".pdf"]
    known = dict(state.pdfs)
    papers += extract.papers_of_pdfs(pdfs, problems.append, known)
    state.pdfs = known
    return papers, problems, []


def _read_bib(state: SourceState, path: Path):
    """A .bib source, parsing only the entries whose text changed since the last sync
    (bibblocks.py); the papers and problems of the others are taken from the last sync."""
    text = decode(path.read_bytes())
    blocks = blocks_of(text)
    whole = not state.blocks or needs_whole_file(blocks, state.shared)
    changed = {b.digest for b in blocks} if whole else {b.digest for b in blocks if b.digest not in state.blocks}
    reading = Reading(text if whole else with_only(text, blocks, changed), format="bibtex", file=path)
    papers = list(reading)
    problems = list(reading.problems)
    by_key = {b.key: b for b in blocks}
    found: dict[str, dict] = {digest: {"ids": [], "problems": []} for digest in changed}
    for paper in papers:
        block = by_key.get(paper.key.lower())
        if block is not None and block.digest in found:
            found[block.digest]["ids"].append(paper.id)
    for problem in problems:
        block = block_at(blocks, problem.line)
        if block is not None and block.digest in found:
            found[block.digest]["problems"].append([problem.line, problem.message, problem.broken])
    kept = []
    for block in blocks:
        if block.digest in changed:
            continue
        previous = state.blocks[block.digest]
        kept += previous["ids"]
        shift = block.first - previous.get("first", block.first)
        problems += [Problem(path.name, line + shift, message, broken) for line, message, broken in previous["problems"]]
    for block in blocks:
        if block.digest in found:
            found[block.digest]["first"] = block.first
    broken = any(problem.broken for problem in problems)
    unmapped = {b.digest for b in blocks if b.digest in found and b.kind not in ("string", "preamble", "comment")
                and not found[b.digest]["ids"] and not found[b.digest]["problems"]}
    state.blocks = {} if broken else {**{b.digest: state.blocks[b.digest] for b in blocks if b.digest not in changed},
                                      **{d: v for d, v in found.items() if d not in unmapped}}
    state.shared = None if broken else shared_digest(blocks)
    return papers, sorted(problems, key=lambda p: p.line or 0), kept


def _fingerprint(paper) -> str:
    record = {k: v for k, v in paper.to_dict().items() if k != "source"}
    return hashlib.sha1(json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
