"""Kernels for report runs: over IPC, kept warm and reused by one worker for several reports.

Starting a kernel and importing pandas, altair and srelib in it costs seconds; executing a
report on a warm kernel costs a fraction of a second. A worker therefore keeps one kernel and
reuses it for up to ``max_uses`` reports, clearing the namespace (``%reset -f``) and changing to
the notebook's folder before each one. Imported modules stay loaded: that is the point. After a
failed report the kernel is thrown away, so a broken state never reaches the next report.

Kernels talk over Unix sockets in a private folder: parallel kernels on TCP race for ports
(docs/architecture.md). Every call on a kernel happens in the thread that started it (its event loop owns
the sockets); interrupting or killing it from another thread only sends a signal. A kernel dies
with the process that started it, however that ends (``kill -9`` included): it is killed at once
(:func:`srelib.run.control.die_with_parent`), not left to ipykernel's parent poller, which needs
the GIL and a second.

papermill runs a notebook on an already started kernel through the ``srelib`` engine
registered here: nbclient's own engine would either start a kernel of its own or leave the
kernel client's sockets open after each notebook.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

from srelib.run.control import die_with_parent

ENGINE = "srelib"
STARTUP_TIMEOUT = 60


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels talk over Unix sockets in ``socket_folder``."""

    socket_folder: str = tempfile.gettempdir()

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.ip = str(Path(self.socket_folder) / f"kernel-{os.getpid()}")


class ReusableKernel:
    """One kernel, started on first use, reused for up to ``max_uses`` reports."""

    def __init__(self, max_uses: int = 25, kernel_name: str = "python3"):
        self.max_uses = max(1, max_uses)
        self.kernel_name = kernel_name
        self.km: AsyncKernelManager | None = None
        self.uses = 0
        self.pid: int | None = None
        self.client: Any = None  # the connected client :meth:`ready` leaves for the next notebook
        self._sockets: str | None = None

    def ready(self, cwd: Path) -> AsyncKernelManager:
        """A kernel with an empty namespace, working in ``cwd``: the warm one, or a new one; its
        :attr:`client` is connected and answering, for the next notebook."""
        if self.km is not None and (self.uses >= self.max_uses or not run_sync(self.km.is_alive)()):
            self.discard()
        if self.km is None:
            self._start(cwd)
        else:
            self._reset(cwd)
        self.uses += 1
        assert self.km is not None
        return self.km

    def _start(self, cwd: Path) -> None:
        if self._sockets is None:
            self._sockets = tempfile.mkdtemp(prefix="srelib-kernel-")
        km = type("WorkerKernelManager", (IpcKernelManager,), {"socket_folder": self._sockets})(
            kernel_name=self.kernel_name
        )
        # Popen's preexec_fn, between fork and exec: this thread (the worker's own) outlives the kernel.
        run_sync(km.start_kernel)(cwd=str(cwd), preexec_fn=functools.partial(die_with_parent, os.getpid()))
        self.km, self.uses = km, 0
        self.pid = getattr(km.provisioner, "pid", None)
        self.client = run_sync(_answering)(km, STARTUP_TIMEOUT)

    def _reset(self, cwd: Path) -> None:
        assert self.km is not None
        code = f"%reset -f\nimport os as _srelib_os\n_srelib_os.chdir({str(cwd)!r})\ndel _srelib_os\n"
        self._close_client()
        try:
            client = run_sync(_answering)(self.km, STARTUP_TIMEOUT)
        except Exception:
            client, reply = None, None
        else:
            try:
                reply = run_sync(client.execute_interactive)(
                    code, silent=True, store_history=False, timeout=STARTUP_TIMEOUT, output_hook=lambda msg: None
                )
            except Exception:
                reply = None
        if client is None or reply is None or reply["content"].get("status") != "ok":  # replaced
            if client is not None:
                client.stop_channels()
            self.discard()
            self._start(cwd)
            return
        self.client = client

    def _close_client(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.stop_channels()

    def interrupt(self) -> None:
        """Interrupt the running cell (SIGINT, as Jupyter's interrupt button); safe from any thread."""
        self._signal(signal.SIGINT)

    def kill(self) -> None:
        """Kill the kernel at once; safe from any thread. The running notebook fails with a dead kernel."""
        self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, number)

    def discard(self) -> None:
        """Shut this kernel down; the next :meth:`ready` starts a fresh one."""
        self._close_client()
        km, self.km, self.pid, self.uses = self.km, None, None, 0
        if km is None:
            return
        with contextlib.suppress(Exception):
            run_sync(km.shutdown_kernel)(now=True)  # also removes its connection file and sockets

    def close(self) -> None:
        self.discard()
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None


async def _answering(km: AsyncKernelManager, timeout: float) -> Any:
    """A client of ``km``'s kernel with its channels started, once the kernel has answered a
    kernel_info request on the shell channel and a message has come on IOPub (a subscription the
    kernel has not accepted yet would miss a cell's first outputs; then it asks again).

    jupyter_client's ``wait_for_ready`` checks the same, then waits for 0.2 s of silence on IOPub:
    twice a report, here and in nbclient, which takes this client instead. What is left on IOPub
    is ignored by nbclient, which reads only the replies to its own requests."""
    client = km.client()
    client.start_channels()
    client.allow_stdin = False
    deadline = time.monotonic() + timeout
    try:
        while True:
            asked = client.kernel_info()
            try:
                reply = await client.shell_channel.get_msg(timeout=1)
                if reply["parent_header"].get("msg_id") == asked:
                    await client.iopub_channel.get_msg(timeout=0.2)
                    return client
            except Empty:
                pass
            if not await km.is_alive():
                raise RuntimeError("the kernel died before it answered")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not answer in {timeout:g} s")
    except BaseException:
        client.stop_channels()
        raise


class ReusedKernelEngine(NBClientEngine):
    """papermill's nbclient engine on a kernel it is given (``km=``) through the client it is given
    (``kc=``, connected and answering: :func:`_answering`), closing that client afterwards."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = STARTUP_TIMEOUT,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        given = kwargs.pop("kc", None)
        safe = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        client = PapermillNotebookClient(
            nb_man,
            **merge_kwargs(
                safe,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            ),
        )
        client.kc = given  # None: nbclient connects a client of its own
        try:
            return client.execute()
        finally:
            if client.kc is not None:
                client.kc.stop_channels()


papermill_engines.register(ENGINE, ReusedKernelEngine)
