"""Reading PDFs in worker processes that a hostile file cannot take down with it.

Each worker is a fresh interpreter (spawned, not forked: the server and the kernel hold
threads and a mapped index) with an address-space limit of MEMORY_MB above its own size.
The parent gives each PDF TIME_LIMIT seconds; a worker that overruns it, runs out of
memory or crashes is killed and replaced, and that PDF is reported. So a PDF bomb, a
2,000-page book or a broken file costs at most its time limit, and the rest goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait
from pathlib import Path

from ..paper import Paper
from . import Problem, Report, sha256_of
from .pdf import PdfFacts, PdfText, facts, paper_for, page_texts

TIME_LIMIT = 60.0   # seconds for one PDF (a 1,000-page book reads in about 10 on this machine)
MEMORY_MB = 1024    # a worker's address space beyond what it starts with


def _limit_memory(megabytes: int) -> None:
    import resource

    with open("/proc/self/statm") as statm:
        start = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = start + megabytes * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _serve(connection, megabytes: int) -> None:
    """A worker's loop: (job, path) in, (path, result) out, until told to stop."""
    try:
        _limit_memory(megabytes)
    except (OSError, ValueError, ImportError):  # no /proc or no resource module: time limits still hold
        pass
    jobs: dict[str, Callable] = {"text": page_texts, "facts": facts}
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        job, path = message
        try:
            result = jobs[job](path)
        except MemoryError:
            result = f"needs more than {megabytes} MB to read"
        except Exception as error:  # pdfium's or our own: reported for this PDF, the worker goes on
            result = f"cannot be read ({type(error).__name__}: {error})"
        connection.send((path, result))


class _Worker:
    def __init__(self, context, megabytes: int):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, megabytes), daemon=True)
        self.process.start()
        child.close()
        self.path: str | None = None
        self.deadline = 0.0

    def give(self, job: str, path: str, time_limit: float) -> None:
        self.path, self.deadline = path, time.monotonic() + time_limit
        self.connection.send((job, path))

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.connection.send(None)
            except OSError:
                pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
        self.connection.close()


def run(job: str, paths: Iterable[str | Path], procs: int = 2, time_limit: float = TIME_LIMIT,
        megabytes: int = MEMORY_MB) -> Iterator[tuple[str, PdfText | PdfFacts | str]]:
    """(path, result) for each PDF as workers finish it; the result is a message when the
    PDF overran its time or memory or crashed the reader. ``job``: "text" or "facts"."""
    queue = [str(path) for path in paths]
    if not queue:
        return
    context = multiprocessing.get_context("spawn")
    workers = [_Worker(context, megabytes) for _ in range(max(1, min(procs, len(queue))))]
    queue.reverse()
    try:
        while True:
            for worker in workers:
                if worker.path is None and queue:
                    worker.give(job, queue.pop(), time_limit)
            busy = [worker for worker in workers if worker.path is not None]
            if not busy:
                return
            timeout = max(0.0, min(worker.deadline for worker in busy) - time.monotonic())
            ready = wait([worker.connection for worker in busy], timeout=timeout)
            for index, worker in enumerate(workers):
                if worker.path is None:
                    continue
                if worker.connection in ready:
                    try:
                        path, result = worker.connection.recv()
                    except (EOFError, OSError):  # pdfium aborts when its memory runs out, or crashed
                        worker.process.join(1)
                        path, result = worker.path, (f"stopped the PDF reader (exit code {worker.process.exitcode}):"
                                                     f" damaged, or needs more than {megabytes} MB to read")
                        workers[index] = _replace(worker, context, megabytes)
                    else:
                        worker.path = None
                    yield path, result
                elif time.monotonic() >= worker.deadline:
                    path = worker.path
                    workers[index] = _replace(worker, context, megabytes)
                    yield path, f"took longer than {time_limit:.0f} s to read; skipped"
    finally:
        for worker in workers:
            worker.stop(kill=worker.path is not None)


def papers_of_pdfs(paths: Iterable[Path], report: Report, known: dict[str, dict] | None = None,
                   procs: int = 2) -> list[Paper]:
    """A paper for each PDF (sources/pdf.py's paper_for), from what the PDF says about
    itself. ``known``: content hash -> the record made for it before (a folder source's
    last sync): an unchanged PDF is not opened again. It is updated in place to hold the
    records of these PDFs, and no others."""
    known = {} if known is None else known
    papers, hashes, to_read = [], {}, []
    for path in paths:
        sha = hashes[str(path)] = sha256_of(path)
        if sha in known:
            paper = Paper.from_dict(known[sha])
            paper.extra["pdf"] = str(path)
            papers.append(paper)
        else:
            to_read.append(path)
    for path, found in run("facts", to_read, procs=procs):
        if not isinstance(found, PdfFacts):
            report(Problem(Path(path).name, None, f"{found}; it is indexed under its file name"))
            found = PdfFacts()
        paper = paper_for(Path(path), found, hashes[path], Path(path).parent.name)
        known[hashes[path]] = paper.to_dict()
        papers.append(paper)
    for sha in set(known) - set(hashes.values()):
        del known[sha]
    return papers


def _replace(worker: _Worker, context, megabytes: int) -> _Worker:
    worker.stop(kill=True)
    return _Worker(context, megabytes)
