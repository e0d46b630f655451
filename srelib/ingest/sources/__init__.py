"""Data-source adapters, registered by name, configured in ``params/sources.yaml``.

Adding a source is one class and one :func:`register` line (as papermill registers engines).
``read_sources`` turns the configured exports into :class:`~srelib.ingest.sources.base.Extract`
objects that :func:`srelib.ingest.validate.validate_directory` checks with the canonical files.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from srelib.config import load_yaml, yaml_problem
from srelib.errors import InputError, Problem
from srelib.ingest.schemas import TABLES
from srelib.ingest.sources.base import Adapter, Extract, SourceContext, export_files
from srelib.ingest.specs import data_dir_spec_files, load_slo_files

ADAPTERS: dict[str, type[Adapter]] = {}


def register(adapter: type[Adapter]) -> type[Adapter]:
    ADAPTERS[adapter.kind] = adapter
    return adapter


class SourceConfig(BaseModel):
    """One entry of ``params/sources.yaml``; adapter-specific options are kept as extra fields."""

    model_config = ConfigDict(extra="allow")
    kind: str
    path: str | None = None  # a file or folder, relative to the workbench root (file sources)
    name: str | None = None  # how problems and notes name this source (default: the path or the kind)


def load_config(path: Path) -> list[SourceConfig]:
    """The sources listed in ``path`` (none when it does not exist)."""
    if not path.is_file():
        return []
    shown = path.name
    try:
        body = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:  # an alias bomb too: see srelib.config.SafeYamlLoader
        raise InputError([Problem(shown, None, None, yaml_problem(exc))]) from exc
    except UnicodeDecodeError as exc:
        raise InputError([Problem(shown, None, None, f"invalid YAML: {exc}")]) from exc
    entries = (body.get("sources") or []) if isinstance(body, dict) else None  # `sources:` alone: none yet
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
        if ADAPTERS[config.kind].needs_path and not config.path:
            problems.append(Problem(shown, None, f"sources[{i}].path", f"a {config.kind} source needs a path"))
            continue
        configs.append(config)
    if problems:
        raise InputError(problems)
    return configs


def read_sources(
    configs: list[SourceConfig], root: Path, data_dir: Path | None = None, warehouse: Path | None = None
) -> list[Extract]:
    """Read every configured source (paths relative to the workbench root).

    SLO spec sources are read first: server sources (Prometheus) run the queries of the SLOs
    they define, together with those in ``data_dir``. ``warehouse`` tells server sources what
    has already been ingested, so they fetch only what is missing. A folder of export parts is
    one source that gives one extract per part, each naming its own file in problems.
    """
    spec_kinds = [c for c in configs if ADAPTERS[c.kind].table == "slos"]
    others = [c for c in configs if ADAPTERS[c.kind].table != "slos"]
    context = SourceContext(root, warehouse)
    extracts = [e for config in spec_kinds for e in _read(config, context)]
    files = data_dir_spec_files(data_dir) if data_dir is not None and data_dir.is_dir() else []
    context.slos = load_slo_files(files + [f for e in extracts for f in e.spec_files], display_root=data_dir)
    extracts += [e for config in others for e in _read(config, context)]
    return extracts


def _read(config: SourceConfig, context: SourceContext) -> list[Extract]:
    kind = ADAPTERS[config.kind]
    shown = config.name or config.path or config.kind
    raw = dict(config.model_extra or {})
    options, problems = kind.parse_options(raw, shown)
    if options is None:
        table = raw.get("table") if raw.get("table") in TABLES else kind.table  # a generic source's table
        return [Extract(str(table), Path(config.path or "."), shown, problems=problems)]
    adapter = kind(options, context)
    if config.path is None:
        return [adapter.read(context.root, shown)]
    path = Path(config.path)
    path = path if path.is_absolute() else context.root / path
    if kind.table == "slos" or not path.is_dir():
        return [adapter.read(path, shown)]
    parts = export_files(path, kind.formats)
    if not parts:
        formats = ", ".join(kind.formats)
        table = str(getattr(options, "table", kind.table))
        return [Extract(table, path, shown, problems=[Problem(shown, None, None, f"folder has no {formats} files")])]
    return [adapter.read(part, f"{shown.rstrip('/')}/{part.relative_to(path)}") for part in parts]


# The built-in adapters register themselves on import.
from srelib.ingest.sources import focus, generic, opsgenie, pagerduty, prometheus, spec_files  # noqa: E402, F401
