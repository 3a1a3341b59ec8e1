"""Embedding the index's papers: now (``PaperIndex.embed``, ``jupyter-papers embed``) or
in the background after an import commits.

Embedding is slow next to indexing (about 10 papers a CPU-second: 158k papers take hours
on two cores), so it never holds up an import or a search: the index commits, a niced
worker process embeds the new segments, and searches use the vectors done so far. One
embedder works on an index at a time (a file lock); one started while another works
waits, then looks for what is left.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from whoosh.index import TOC
from whoosh.reading import SegmentReader

from ...citations.latex import to_plain
from ...paper import Paper
from .analysis import make_schema, stored_paper
from .storage import MappedStorage
from .rebuild import INDEX_NAME
from .vectors import SegmentVectors, folder, remove_other_segments, segment_state, text_key

CHUNK = 64  # papers encoded, then written and counted as done: the grain of progress and of resuming
EMBED_VARIABLE = "JUPYTER_PAPERS_EMBED"  # "background" (default) or "manual": only embed() and the CLI embed
NICENESS = 10


def paper_text(paper: Paper) -> str:
    """What the model reads of a paper: its title and abstract, LaTeX as text."""
    return f"{to_plain(paper.title)}. {to_plain(paper.abstract)}".strip(". ")


def _segments(path: Path) -> tuple[list, MappedStorage]:
    """The segments of the index's newest table of contents, and its storage."""
    storage = MappedStorage(str(path))
    return list(TOC.read(storage, INDEX_NAME, schema=make_schema()).segments), storage


def _lock_file(path: Path) -> Path:
    return folder(path) / "embed.lock"


@contextmanager
def _embedder_lock(path: Path):
    _lock_file(path).parent.mkdir(parents=True, exist_ok=True)
    with open(_lock_file(path), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def embedding_now(path: Path) -> bool:
    """Whether an embedder holds this index's lock."""
    lock = _lock_file(path)
    if not lock.exists():
        return False
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def embed_index(path: Path, model: str, encoder_of: Callable,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Embed every paper of the index at ``path`` that has no vector of ``model`` yet,
    until none is left (commits made meanwhile included); returns how many were encoded.
    ``encoder_of`` gives the encoder, called only if there is work (loading it costs
    more than finding there is none); ``progress(done, total)``."""
    path = Path(path)
    base = folder(path)
    encoded = 0
    with _embedder_lock(path):
        encoder = None
        while True:
            segments, storage = _segments(path)
            live = [s for s in segments if s.doc_count_all()]
            left = {s.segment_id(): s.doc_count_all() - _done(base, s, model) for s in live}
            if not any(left.values()):
                remove_other_segments(base, set(left))
                return encoded
            encoder = encoder or encoder_of()
            known = _known_vectors(base, model)
            total = sum(s.doc_count_all() for s in live)
            done = total - sum(left.values())
            for segment in live:
                if left[segment.segment_id()]:
                    done, count = _embed_segment(storage, base, segment, model, encoder, known, done, total, progress)
                    encoded += count


def _done(base: Path, segment, model: str) -> int:
    state = segment_state(base, segment.segment_id(), model)
    return min(int(state["done"]), int(state["papers"])) if state else 0


def _known_vectors(base: Path, model: str) -> dict[int, tuple[SegmentVectors, int]]:
    """Every finished row of this model by its text's hash: what a merge or rebuild reuses."""
    known: dict[int, tuple[SegmentVectors, int]] = {}
    for state in base.glob("*.json"):
        vectors = SegmentVectors.open(base, state.stem, model)
        if vectors is not None:
            for row, key in enumerate(vectors.keys[:vectors.done].tolist()):
                if key:
                    known[key] = (vectors, row)
    return known


def _embed_segment(storage, base: Path, segment, model: str, encoder, known, done: int, total: int, progress):
    """Fill one segment's vectors from where they stopped; returns (done, papers encoded)."""
    name, papers = segment.segment_id(), segment.doc_count_all()
    vectors = SegmentVectors.open(base, name, model, writable=True) or SegmentVectors.create(
        base, name, model, papers, encoder.dimensions)
    reader = SegmentReader(storage, make_schema(), segment)
    encoded = 0
    try:
        while vectors.done < papers:
            rows = range(vectors.done, min(vectors.done + CHUNK, papers))
            texts = ["" if reader.is_deleted(d) else paper_text(stored_paper(reader.stored_fields(d)))
                     for d in rows]
            keys = np.array([text_key(t) if t else 0 for t in texts], dtype=np.uint64)
            block = np.zeros((len(texts), vectors.rows.shape[1]), dtype=np.float32)
            new = []
            for i, (text, key) in enumerate(zip(texts, keys.tolist())):
                if key in known:
                    source, row = known[key]
                    block[i] = source.vectors([row])[0]
                elif text:
                    new.append(i)
            if new:
                block[new] = encoder.encode([texts[i] for i in new])
                encoded += len(new)
            vectors.fill(block, keys)
            vectors.commit(base, model)
            done += len(texts)
            if progress:
                progress(done, total)
    finally:
        reader.close()
    return done, encoded


def background_wanted() -> bool:
    return os.environ.get(EMBED_VARIABLE, "background").strip().lower() != "manual"


def start_background(path: Path) -> subprocess.Popen | None:
    """A niced worker process that embeds what the last commit added; it outlives this
    one (a command-line import ends before the embedding does)."""
    base = folder(path)
    base.mkdir(parents=True, exist_ok=True)
    with open(base / "embed.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", __name__, str(Path(path).absolute())],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                preexec_fn=lambda: os.nice(NICENESS))


def main(argv: list[str]) -> int:
    from ...meaning.model import encoder, find_model

    embed_index(Path(argv[0]), find_model().id, encoder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
