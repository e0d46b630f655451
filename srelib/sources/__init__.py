"""Data-source adapters, registered by name, configured in ``params/sources.yaml``.

Adding a source is one class and one :func:`register` line (as papermill registers engines).
``read_sources`` turns the configured exports into :class:`~srelib.sources.base.Extract`
objects that :func:`srelib.validate.validate_directory` checks with the canonical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from srelib.errors import InputError, Problem
from srelib.sources.base import Adapter, Extract

ADAPTERS: dict[str, type[Adapter]] = {}


def register(adapter: type[Adapter]) -> type[Adapter]:
    ADAPTERS[adapter.kind] = adapter
    return adapter


class SourceConfig(BaseModel):
    """One entry of ``params/sources.yaml``; adapter-specific options are kept as extra fields."""

    model_config = ConfigDict(extra="allow")
    kind: str
    path: str
    name: str | None = None


def load_config(path: Path) -> list[SourceConfig]:
    """The sources listed in ``path`` (none when it does not exist)."""
    if not path.is_file():
        return []
    shown = path.name
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError([Problem(shown, None, None, f"invalid YAML: {exc}")]) from exc
    entries = body.get("sources", []) if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise InputError([Problem(shown, None, "sources", "expected a list of sources")])
    configs, problems = [], []
    for i, entry in enumerate(entries):
        try:
            config = SourceConfig.model_validate(entry)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                problems.append(Problem(shown, None, f"sources[{i}].{where}", err["msg"]))
            continue
        if config.kind not in ADAPTERS:
            problems.append(
                Problem(
                    shown,
                    None,
                    f"sources[{i}].kind",
                    f"unknown kind {config.kind!r}: known kinds are {', '.join(sorted(ADAPTERS))}",
                )
            )
            continue
        configs.append(config)
    if problems:
        raise InputError(problems)
    return configs


def read_sources(configs: list[SourceConfig], root: Path) -> list[Extract]:
    """Read every configured export (paths relative to the workbench root)."""
    extracts = []
    for config in configs:
        path = Path(config.path)
        path = path if path.is_absolute() else root / path
        options: dict[str, Any] = dict(config.model_extra or {})
        adapter = ADAPTERS[config.kind](options)
        extracts.append(adapter.read(path, config.path))
    return extracts


# The built-in adapters register themselves on import.
from srelib.sources import focus, generic, opsgenie, pagerduty  # noqa: E402, F401
