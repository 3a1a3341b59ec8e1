"""The index's writers: one segment writer, or parallel import workers that die with the
import that started them; both made faster at writing postings (see ``write_faster``).

Whoosh's multiprocessing writer forks workers that wait on a queue for documents; when the
importing process is killed (Ctrl+C twice, a closed terminal, SIGKILL), they wait forever
and the next import meets their half-written files. These workers ask the kernel to kill
them when their parent dies (Linux's PR_SET_PDEATHSIG; elsewhere nothing changes).

Whoosh's workers also share one queue of batches: which worker indexes which batch, and
so which paper gets which document number, was a race, and papers of equal score (the
158k corpus holds many records of the same text) came out in another order after each
import. Here batches are dealt in turn (batch i to worker i mod n) and the workers'
segments join the index in worker order, so an import numbers the papers the same way
each time.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
from multiprocessing import Queue

import numpy as np
from whoosh.multiproc import MpWriter, SubWriterTask

from .arrays import list_long_postings
from .pool import TermPool

_PR_SET_PDEATHSIG = 1
_POLL = 0.5  # seconds between looks at whether a worker is still alive


class WorkerFailed(RuntimeError):
    """A worker of a parallel import died or failed: the import is cancelled whole."""

    def __str__(self) -> str:
        return f"{self.args[0]}: nothing of this import was written, the index is as it was before it"


class _Failure:
    """What a worker that failed sends in place of its result: the error, as text."""

    def __init__(self, error: BaseException):
        self.text = f"{type(error).__name__}: {error}"


def _die_with(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the workers outlive a killed parent, as before
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class _BoundTask(SubWriterTask):
    def __init__(self, *args):
        super().__init__(*args)
        self.parent = os.getpid()

    def run(self):
        _die_with(self.parent)
        try:
            super().run()
        except BaseException as error:  # a full disk, a file-size limit: the parent says which
            self.resultqueue.put(_Failure(error))
            raise

    def _process_file(self, filename, doc_count):
        write_faster(self.writer)  # Whoosh makes the worker's writer inside run()
        super()._process_file(filename, doc_count)


class _Dealer:
    """Whoosh's job and result queues, as MpWriter uses them (put a batch or a None per
    worker, get a result per worker), over one pair of queues per worker: batches dealt
    in turn, the Nones one to each worker, results taken in worker order.

    Whoosh waits on its queues for ever and passes over a result that never comes: a
    worker killed by the out-of-memory killer hung the import (holding the index's write
    lock), or let it report papers it had not indexed. Here every wait looks at the
    worker between short waits, and a worker that died or failed is an error."""

    def __init__(self):
        self.jobs: list[Queue] = []
        self.results: list[Queue] = []
        self.workers: list = []
        self._dealt = self._stopped = self._collected = 0

    def add_worker(self) -> tuple[Queue, Queue]:
        self.jobs.append(Queue(4))
        self.results.append(Queue())
        return self.jobs[-1], self.results[-1]

    def put(self, job) -> None:
        if job is None:
            worker, self._stopped = self._stopped, self._stopped + 1
        else:  # MpWriter starts worker i just before batch i, so batch i goes to it
            worker, self._dealt = self._dealt % len(self.jobs), self._dealt + 1
        self._waiting(worker, lambda: self.jobs[worker].put(job, timeout=_POLL))

    def get(self, timeout: float):
        worker, self._collected = self._collected, self._collected + 1
        result = self._waiting(worker, lambda: self.results[worker].get(timeout=_POLL))
        if isinstance(result, _Failure):
            raise WorkerFailed(f"An indexing process failed ({result.text})")
        return result

    def _waiting(self, worker: int, step):
        """``step`` tried until it succeeds, as long as the worker lives."""
        while True:
            try:
                return step()
            except (queue.Full, queue.Empty):
                process = self.workers[worker]
                if process.is_alive():
                    continue
                try:  # what it sent before it ended: its result, or why it failed
                    failure = self.results[worker].get(timeout=_POLL)
                except queue.Empty:
                    failure = None
                if isinstance(failure, _Failure):
                    raise WorkerFailed(f"An indexing process failed ({failure.text})") from None
                if failure is not None:
                    return failure
                code = process.exitcode
                how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                raise WorkerFailed(f"An indexing process stopped ({how}; out of memory?) before it had "
                                   "indexed its papers") from None


class BoundMpWriter(MpWriter):
    """Whoosh's multiprocessing writer, with workers bound to this process's life and
    batches dealt to them in turn."""

    def __init__(self, ix, **options):
        super().__init__(ix, **options)
        for shared in (self.jobqueue, self.resultqueue):
            shared.close()
        self.jobqueue = self.resultqueue = _Dealer()
        write_faster(self)  # the parent merges its workers' runs with its own pool

    def _new_task(self):
        jobs, results = self.jobqueue.add_worker()
        task = _BoundTask(self.storage, self.indexname, jobs, results, self.subargs, self.multisegment)
        self.tasks.append(task)
        self.jobqueue.workers.append(task)
        task.start()
        return task

    def cancel(self):
        """Stop the workers (Whoosh only sets a flag in this process's copy of them) and
        drop what they wrote; the index stays as it was and its lock is released."""
        try:
            for task in self.tasks:
                if task.is_alive():
                    task.kill()
                task.join(timeout=10)
        finally:
            super().cancel()


def segment_writer(ix, **options):
    """Whoosh's writer of one new segment, with a TermPool."""
    writer = ix.writer(**options)
    write_faster(writer)
    return writer


def write_faster(writer) -> None:
    """Make a Whoosh segment writer that has not indexed anything yet keep its postings in
    a TermPool, and look up each document's field lengths in lists read once per field:
    Whoosh looks each posting's length up in the column file (a tenth of an import). Its
    long posting lists are written as arrays too (arrays.py)."""
    if isinstance(writer.pool, TermPool):
        return
    list_long_postings(writer)
    writer.pool = TermPool(writer._tempstorage, writer.newsegment, limitmb=writer.pool.limit // (1024 * 1024))
    per_document_reader = writer.per_document_reader
    writer.per_document_reader = lambda: _ListedLengths(per_document_reader())


class _ListedLengths:
    """A segment's per-document reader whose field lengths are read once, into lists."""

    def __init__(self, reader):
        self._reader = reader
        self._lengths: dict[str, list] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        return self._listed(fieldname, default)[docnum]

    def lengths_of(self, fieldname: str) -> np.ndarray:
        """Every document's length in the field (0 where it has none), for a term's
        postings at once."""
        return np.asarray([length or 0 for length in self._listed(fieldname, 0)], dtype=np.int64)

    def _listed(self, fieldname: str, default) -> list:
        if fieldname not in self._lengths:
            read = self._reader.doc_field_length
            self._lengths[fieldname] = [read(d, fieldname, default) for d in range(self._reader.doc_count_all())]
        return self._lengths[fieldname]

    def __getattr__(self, name):
        return getattr(self._reader, name)
