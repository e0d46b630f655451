"""``outputs/index.html``: every period, every report, with its status and a link."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from srelib import __version__
from srelib.config import OrgConfig
from srelib.files import atomic_write
from srelib.resources import templates_dir


def manifests(outputs: Path) -> list[dict[str, Any]]:
    """Each published folder's manifest, newest period first, with its path relative to ``outputs``."""
    found = []
    patterns = ("*/manifest.json", "*/teams/*/manifest.json", "*/*s/*/manifest.json", "*/teams/*/*s/*/manifest.json")
    paths = sorted({p for pattern in patterns for p in outputs.glob(pattern)})
    for path in paths:
        if path.parts[len(outputs.parts)].startswith(("_", ".")):
            continue
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        manifest["folder"] = path.parent.relative_to(outputs).as_posix()
        found.append(manifest)
    found.sort(
        key=lambda m: (
            m.get("period", ""),
            m.get("team") is None,
            m.get("team") or "",
            (m.get("subject") or {}).get("name", "") == "",
            (m.get("subject") or {}).get("name", ""),
        ),
        reverse=True,
    )
    return found


def by_period(folders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The published reports, one group per period (newest first): the organisation's reports,
    then each team's, SLO's and initiative's, each row naming what it is about."""
    order = {None: 0, "team": 1, "slo": 2, "initiative": 3}
    groups: dict[str, dict[str, Any]] = {}
    for folder in folders:
        group = groups.setdefault(
            folder.get("period", ""), {"title": folder.get("title") or folder.get("period"), "rows": []}
        )
        subject = folder.get("subject") or {}
        kind = "team" if folder.get("team") and not subject else subject.get("kind")
        about = []
        if folder.get("team"):
            about.append(f"team {folder['team']}")
        if subject:
            about.append(f"{'SLO' if subject.get('kind') == 'slo' else subject.get('kind')} {subject.get('name')}")
        for entry in folder.get("reports", {}).values():
            group["rows"].append(
                {
                    "entry": entry,
                    "folder": folder["folder"],
                    "about": ", ".join(about),
                    "key": (order.get(kind, 4), entry.get("title", ""), ", ".join(about)),
                }
            )
    result = []
    for period in sorted(groups, reverse=True):
        group = groups[period]
        group["rows"].sort(key=lambda r: r["key"])
        result.append(group)
    return result


def write_index(outputs: Path, org: OrgConfig) -> Path:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir() / "portal"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["when"] = _when
    html = env.get_template("index.html.j2").render(
        org=org.name,
        colours=org.colours.model_dump(),
        periods=by_period(manifests(outputs)),
        version=__version__,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    path = outputs / "index.html"
    atomic_write(path, html)
    return path


def _when(iso: str) -> str:
    """ "2026-11-27T05:47:38+00:00" → "2026-11-27 05:47 UTC"."""
    try:
        moment = datetime.fromisoformat(iso).astimezone(UTC)
    except (TypeError, ValueError):
        return str(iso)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
