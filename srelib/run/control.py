"""Who may run and when to stop: the runner lock (:func:`exclusive`), stopping on signals
(:class:`Stop`, :func:`stop_on_signals`), for batches and the scheduler daemon alike; and what a
runner leaves behind when it is killed outright: processes that die with it
(:func:`die_with_parent`) and staging folders owned under a lock of their own
(:func:`owned_folder`, :func:`clean_staging`).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from srelib.errors import RunnerBusy
from srelib.files import locked, undo_interrupted_replace

POLL_SECONDS = 0.2  # how often a runner waiting for the lock tries again
OWNER_CHECK_SECONDS = 1.0  # how often a Dask task looks whether its runner is still there

# Resolved once, here: die_with_parent also runs between fork and exec (a kernel's preexec_fn).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Flag(Protocol):
    """What a worker watches to know it must stop: a :class:`threading.Event`, a :class:`Stop`..."""

    def is_set(self) -> bool: ...


class Stop:
    """Set by SIGTERM or SIGINT (or by hand): the batch starts nothing more and interrupts what runs."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None

    def set(self, signum: int | None = None) -> None:
        if self.signum is None:
            self.signum = signum
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + (self.signum or signal.SIGINT)


@contextlib.contextmanager
def exclusive(lock_file: Path, what: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold ``lock_file`` exclusively, or raise :class:`RunnerBusy` naming the holder.

    The holder's pid and start time are written into the file; the lock itself is the kernel's
    (``flock``), so it is released when its process ends, however it ends.
    """
    import fcntl

    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise RunnerBusy(
                        f"{what} is already running for this workbench ({holder}; lock {lock_file}): "
                        "wait for it to finish or stop it"
                    ) from None
                time.sleep(POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def stop_on_signals(stop: Stop) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` for the block's duration (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: stop.set(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def die_with_parent(parent: int) -> None:
    """Have this process killed (SIGKILL) the moment its parent ``parent`` ends, however it ends,
    ``kill -9`` included; at once if it already has.

    Linux's ``PR_SET_PDEATHSIG``: it fires when the *thread* that started this process ends, so
    start children from a thread that outlives them (the main thread, a worker's own thread).
    Elsewhere only the check against ``parent`` is made: :func:`watch_parent` does the rest.
    Safe between fork and exec (nothing here imports or takes a lock).
    """
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def watch_parent(parent: int, stop: Stop) -> None:
    """Set ``stop`` once the parent ``parent`` is gone (a thread's loop; where
    :func:`die_with_parent` cannot ask the kernel, the worker still stops within a second)."""
    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
            return
        time.sleep(OWNER_CHECK_SECONDS)


# Staging folders. Each is one process's, under the lock file beside it (``<name>.lock``, flock):
# the kernel releases the lock when the process ends, however it ends, so "its lock is free"
# means "its owner is gone" and only then is a folder removed by anyone else. A runner that starts
# after another was killed outright therefore never removes a folder a live process still writes
# into (a worker of a killed runner on a system without PR_SET_PDEATHSIG, a Dask task, a direct
# call of run_report).


@contextlib.contextmanager
def owned_folder(parent: Path, prefix: str = "") -> Iterator[Path]:
    """A new folder in ``parent``, this process's for the block (its lock held), removed at the end
    (with ``parent``, if that is then empty)."""
    while True:
        parent.mkdir(parents=True, exist_ok=True)
        name = f"{prefix}{uuid.uuid4().hex}"
        lock = parent / f"{name}.lock"
        try:
            handle = lock.open("x", encoding="utf-8")
        except FileNotFoundError:  # parent was removed (empty) by another process just now
            continue
        fcntl.flock(handle, fcntl.LOCK_EX)
        # A cleaner may have taken the lock between open and flock, thinking its owner gone, and
        # removed the file: then this lock guards nothing, and another name is tried.
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(handle.fileno()).st_ino == lock.stat().st_ino:
                break
        handle.close()
    try:
        handle.write(f"pid {os.getpid()}\n")  # for a person looking at the folder
        handle.flush()
        folder = parent / name
        folder.mkdir()
        yield folder
    finally:
        shutil.rmtree(parent / name, ignore_errors=True)
        lock.unlink(missing_ok=True)
        handle.close()
        with contextlib.suppress(OSError):
            parent.rmdir()


def owner_alive(folder: Path) -> bool:
    """Whether the process that made ``folder`` with :func:`owned_folder` is still there."""
    try:
        handle = folder.with_name(f"{folder.name}.lock").open(encoding="utf-8")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


class OwnerGone:
    """Set once the owner of ``folder`` (an :func:`owned_folder`) is gone: what a process that works
    for another it cannot watch as a parent (a Dask task, for its runner) stops on."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._gone = False
        self._checked = -OWNER_CHECK_SECONDS

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._gone and now - self._checked >= OWNER_CHECK_SECONDS:
            self._checked = now
            self._gone = not owner_alive(self.folder)
        return self._gone


def remove_abandoned(parent: Path, salvage: Callable[[Path], None] = lambda folder: None) -> None:
    """Remove the folders in ``parent`` whose owner is gone (their lock is free, or they have none,
    left by an older srelib), each after ``salvage(folder)``; folders in use are left alone."""
    if not parent.is_dir():
        return
    for name in sorted({p.name.removesuffix(".lock") for p in parent.iterdir()}):
        folder, lock = parent / name, parent / f"{name}.lock"
        try:
            handle = lock.open(encoding="utf-8")
        except FileNotFoundError:
            handle = None
        try:
            if handle is not None:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # in use
            if folder.is_dir():
                salvage(folder)
                shutil.rmtree(folder, ignore_errors=True)
            lock.unlink(missing_ok=True)
        finally:
            if handle is not None:
                handle.close()


def clean_staging(outputs: Path) -> None:
    """Remove the staging folders in ``outputs/.staging`` that runs killed outright left, first
    putting back a report folder one of them was swapping (:func:`undo_interrupted_replace`);
    under the publish lock (``outputs/.lock``), so that no swap is under way meanwhile."""
    staging = outputs / ".staging"
    if not staging.is_dir():
        return
    with locked(outputs / ".lock"):
        remove_abandoned(staging, salvage=undo_interrupted_replace)
    with contextlib.suppress(OSError):
        staging.rmdir()
