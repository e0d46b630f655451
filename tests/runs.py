"""Helpers for tests that run reports: probe notebooks, the CLI in a subprocess, process checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from srelib.config import Workbench


def probe(workbench: Workbench, name: str, *cells: str) -> None:
    """notebooks/NAME.ipynb: the standard parameters cell, then ``cells``, then a heading."""
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(
        'period = None\nteam = None\nwarehouse = None\nsummary_path = None\nworkbench = None\nlabel = ""'
    )
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, *(nbformat.v4.new_code_cell(c) for c in cells)]
    notebook.cells.append(nbformat.v4.new_markdown_cell(f"# Probe {name}"))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["title"] = f"Probe {name}"
    folder = workbench.root / "notebooks"
    folder.mkdir(exist_ok=True)
    nbformat.write(notebook, folder / f"{name}.ipynb")


def srelib(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "srelib", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def start(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``srelib ARGS`` in the background, in a session of its own (as a terminal would run it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "srelib", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )


def wait_for(path: Path, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text():
            return path.read_text()
        time.sleep(0.2)
    raise AssertionError(f"{path} never appeared")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    status = Path(f"/proc/{pid}/status")
    return not (status.is_file() and "\nState:\tZ" in status.read_text())


def runs(workbench: Workbench) -> list[dict]:
    log = workbench.outputs_path / "runs.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def leftovers(workbench: Workbench) -> list[str]:
    """Anything a run should have cleaned up: staging folders, temporary files."""
    outputs = workbench.outputs_path
    found = [p for p in outputs.rglob("*") if p.name.endswith(".tmp") or ".staging" in p.parts]
    return [str(p) for p in found]
