"""Files in and out: writing so that readers never see half of one (write aside, then rename into
place), and telling what an input file is when it is not what it claims to be."""

from __future__ import annotations

import codecs
import fcntl
import gzip
import os
import tempfile
import zlib
from collections.abc import Iterator
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
