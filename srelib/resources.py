"""Where the workbench's own files are: templates, report notebooks and default params.

From a source checkout (``pip install -e .``) they are the repository's ``templates/`` and
``notebooks/``; from a wheel, the copies bundled inside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _folder(name: str) -> Path:
    source = _PACKAGE.parent / name
    if source.is_dir():
        return source
    return _PACKAGE / "_bundled" / name


def templates_dir() -> Path:
    return _folder("templates")


def notebooks_dir() -> Path:
    return _folder("notebooks")


def params_dir() -> Path:
    return _folder("params")
