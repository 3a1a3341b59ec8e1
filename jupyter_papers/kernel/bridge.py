"""Kernel -> JupyterLab: insert a cell below the cell that ran the code.

The lab extension says it is there in two ways: as soon as a Python kernel is ready it
sets JUPYTER_PAPERS_FRONTEND in the kernel (silently), and it answers the hello the kernel
sends on the ``jupyter_papers`` comm when the magic loads (that answer only arrives after
cells already queued, as in Run All, have run). Without either (classic notebook, VS Code,
nbclient) cells come back through IPython's ``set_next_input`` as a ``%%markdown`` cell,
and the user is told once why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

COMM_TARGET = "jupyter_papers"
FRONTEND_VARIABLE = "JUPYTER_PAPERS_FRONTEND"
FALLBACK_NOTICE = (
    "jupyter-papers: the JupyterLab extension did not answer in this frontend, so cells "
    "come as %%markdown code cells below the current one: run them to render."
)


class Bridge:
    def __init__(self, shell):
        self.shell = shell
        self.comm = None
        self.frontend = bool(os.environ.get(FRONTEND_VARIABLE))
        self._told = False
        self._waiting: dict[str, Callable[[dict], None]] = {}

    def connect(self) -> None:
        """Say hello to the lab extension (its answer arrives before the next cell runs)."""
        kernel = getattr(self.shell, "kernel", None)
        if kernel is None:
            return
        from comm import create_comm

        self.comm = create_comm(target_name=COMM_TARGET, data={"action": "hello"})
        self.comm.on_msg(self._on_msg)
        self.comm.on_close(self._on_close)

    def _on_msg(self, msg) -> None:
        data = msg.get("content", {}).get("data", {})
        answered = self._waiting.pop(data.get("request_id") or "", None)
        if answered is not None:
            answered(data)
        elif data.get("action") == "hello":
            self.frontend = bool(data.get("ok"))
        elif not data.get("ok", True):
            print(f"jupyter-papers: JupyterLab could not insert the cell: {data.get('error')}")

    def _on_close(self, msg) -> None:
        self.frontend = False
        self.comm = None

    def current_cell_id(self) -> str | None:
        """The id of the cell being executed, from the execute request's metadata."""
        kernel = getattr(self.shell, "kernel", None)
        try:
            parent = kernel.get_parent() if kernel is not None else None
        except TypeError:  # older ipykernel wants the channel
            parent = kernel.get_parent("shell")
        return ((parent or {}).get("metadata") or {}).get("cellId")

    def lab_is_here(self) -> bool:
        """Whether the lab extension answered, or announced itself to this kernel process
        (which it does before the first cell runs, Restart and Run All included)."""
        return self.frontend or bool(os.environ.get(FRONTEND_VARIABLE))

    def request(self, action: str, on_reply: Callable[[dict], None] | None = None, **data) -> bool:
        """Ask the lab for an action of the protocol (update_references, insert_inline);
        False without it. ``on_reply`` gets the lab's answer when it comes."""
        if not (self.lab_is_here() and self.comm is not None):
            return False
        request_id = uuid.uuid4().hex
        if on_reply is not None:
            self._waiting[request_id] = on_reply
        self.comm.send({"action": action, "request_id": request_id, **data})
        return True

    def insert_cell(self, source: str, cell_type: str = "markdown", after_cell_id: str | None = None,
                    executing: bool = True, role: str | None = None) -> bool:
        """Insert through the lab if it answered; else, while a cell executes, as the next
        input. Returns False when neither was possible (the caller shows the text). With a
        ``role`` (cite, abstract), the lab keeps one such cell per asking cell: a re-run
        updates it in place, or leaves it if the user edited it."""
        extra = {"role": role} if role else {}
        if self.request("insert_cell", cell_type=cell_type, source=source, after_cell_id=after_cell_id, **extra):
            return True
        if not executing:
            return False
        if not self._told:
            print(FALLBACK_NOTICE)
            self._told = True
        text = source if cell_type == "code" else "%%markdown\n" + source
        self.shell.set_next_input(text, replace=False)
        return True
