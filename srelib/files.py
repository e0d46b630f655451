"""Files in and out: writing so that readers never see half of one (a file written aside, then
renamed into place; a folder swapped whole), and telling what an input file is when it is not
what it claims to be."""

from __future__ import annotations

import codecs
import ctypes
import errno
import fcntl
import gzip
import os
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; published files are for readers
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if needed) for the block's duration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_RENAMEAT2 = getattr(_LIBC, "renameat2", None)  # glibc 2.28 and later
if _RENAMEAT2 is not None:
    _RENAMEAT2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    _RENAMEAT2.restype = ctypes.c_int
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2  # <fcntl.h>, <linux/fs.h>
# What renameat2 answers where the kernel or the file system cannot exchange (NFS, an old kernel).
_CANNOT_EXCHANGE = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}


def exchange(first: Path, second: Path) -> None:
    """Swap two existing paths in one step: each name then holds what the other held, and a reader
    finds both there at every moment (Linux ``renameat2(RENAME_EXCHANGE)``, rename(2)).

    Raises OSError with ENOSYS (no renameat2 here: not Linux, an old C library) or EINVAL (the
    file system cannot exchange, as NFS) where it cannot be done.
    """
    if _RENAMEAT2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available on this system", str(first), None, str(second))
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first), None, str(second))


def replace_folder(folder: Path, work: Path, change: Callable[[Path], None]) -> None:
    """Replace ``folder`` by a changed copy of it in one step: a reader sees the old folder or the
    new one, each whole, never a mixture and never no folder.

    The copy is ``work/.new`` (``work``: a folder on the same file system, this process's), made
    of hard links, so that unchanged files and sub-folders cost neither time nor space;
    ``change(copy)`` puts the new files in, each by rename, never writing into a linked file (the
    old folder shares those). Then the copy and ``folder`` are exchanged (:func:`exchange`), and
    the old tree, now at ``work/.new``, goes with ``work``. Where the file system cannot exchange,
    ``folder`` is renamed to ``work/.old`` and the copy into its place: a process that dies
    between these two renames leaves ``work/.target`` naming the folder, by which
    :func:`undo_interrupted_replace` puts the old one back. Callers hold a lock around this
    against other writers of ``folder``.
    """
    new, target = work / ".new", os.path.abspath(folder)
    if folder.is_dir():
        shutil.copytree(folder, new, symlinks=True, copy_function=_link_or_copy)
    else:
        new.mkdir()
    change(new)
    folder.parent.mkdir(parents=True, exist_ok=True)
    if not folder.exists():
        os.rename(new, folder)
        return
    try:
        exchange(new, folder)
        return
    except OSError as exc:
        if exc.errno not in _CANNOT_EXCHANGE:
            raise
    (work / ".target").write_text(target, encoding="utf-8")
    os.rename(folder, work / ".old")
    os.rename(new, folder)


def undo_interrupted_replace(work: Path) -> None:
    """Put back the folder that a :func:`replace_folder` working in ``work`` had moved aside, when
    its process died before moving the new one in (only where the file system cannot exchange)."""
    target, old = work / ".target", work / ".old"
    if target.is_file() and old.is_dir():
        folder = Path(target.read_text(encoding="utf-8"))
        if not folder.exists():
            os.rename(old, folder)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError:  # a file system without hard links
        shutil.copy2(source, destination)


LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_PATTERN_CHARACTERS = set("*?[]{}")  # DuckDB reads a path with these as a glob, not as one file


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as the data it claims to be, or None.

    Catches what reaches users in place of an export: a Git LFS pointer (the repository was cloned
    without ``git lfs pull``), an empty file, a binary file where text belongs, text that is not
    UTF-8, a gzip file that is not whole, and a name DuckDB would read as a pattern of several
    files. Compressed files are checked after decompression; ``.parquet`` files only for size.
    """
    if not path.is_file():
        return "no such file"
    name = path.name.lower()
    read_by_duckdb = not name.endswith((".json", ".json.gz", ".yaml", ".yml"))
    if read_by_duckdb and _PATTERN_CHARACTERS & set(str(path)):
        return "the path has one of * ? [ ] { }, which would be read as a pattern of files: rename it"
    with path.open("rb") as handle:
        head = handle.read(len(LFS_POINTER))
    if head == LFS_POINTER:
        return "a Git LFS pointer, not the data: fetch the real file (git lfs pull) and try again"
    if name.endswith(".parquet"):
        return None if path.stat().st_size else "empty file"
    text = "JSON" if name.endswith((".json", ".json.gz")) else "YAML" if name.endswith((".yaml", ".yml")) else "CSV"
    opener: Any = gzip.open if name.endswith(".gz") else open
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_text, offset = False, 0
    try:
        with opener(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                if b"\x00" in block:
                    compressed = "" if name.endswith(".gz") else f" (a compressed export? name it {path.name}.gz)"
                    return f"binary file, expected {text} text{compressed}"
                try:
                    seen_text = seen_text or bool(decoder.decode(block).strip())
                except UnicodeDecodeError as exc:
                    return f"not UTF-8 text (invalid byte at offset {offset + exc.start})"
                offset += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # a character cut off at the end of the file
        return f"not UTF-8 text (invalid byte at offset {offset - len(exc.object) + exc.start})"
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        return f"not a readable gzip file: {exc}"
    if not seen_text:
        return {"CSV": "empty file: expected a header row", "JSON": "empty file: expected JSON"}.get(
            text, "empty file: expected SLO documents"
        )
    return None
