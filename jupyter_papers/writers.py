"""Parallel import workers that die with the import that started them.

Whoosh's multiprocessing writer forks workers that wait on a queue for documents; when the
importing process is killed (Ctrl+C twice, a closed terminal, SIGKILL), they wait forever
and the next import meets their half-written files. These workers ask the kernel to kill
them when their parent dies (Linux's PR_SET_PDEATHSIG; elsewhere nothing changes).
"""

from __future__ import annotations

import ctypes
import os
import signal

from whoosh.multiproc import MpWriter, SubWriterTask

_PR_SET_PDEATHSIG = 1


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
        super().run()


class BoundMpWriter(MpWriter):
    """Whoosh's multiprocessing writer, with workers bound to this process's life."""

    def _new_task(self):
        task = _BoundTask(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs,
                          self.multisegment)
        self.tasks.append(task)
        task.start()
        return task
