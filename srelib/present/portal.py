"""``outputs/index.html``: every period, every report, with its status and a link."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from srelib import __version__
from srelib.config import OrgConfig
from srelib.errors import UsageError
from srelib.files import atomic_write
from srelib.period import KINDS, Period
from srelib.resources import templates_dir

RunKey = tuple[str, str, str | None, str | None]  # report, period, team, subject name: a report's runs

_ORDER = {None: 0, "team": 1, "slo": 2, "initiative": 3}


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


def by_period(folders: list[dict[str, Any]], runs: dict[RunKey, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The reports, one group per period (newest first): the organisation's reports, then each
    team's, SLO's and initiative's, each row naming what it is about. ``runs`` (the last run of
    each report, from ``runs.jsonl``) adds a row's last failure, if its last run failed, and a
    row for a report that failed and was never published."""
    runs = runs or {}
    groups: dict[str, dict[str, Any]] = {}
    seen: set[RunKey] = set()

    def add(period: str, title: str, team: str | None, subject: dict[str, Any], row: dict[str, Any]) -> None:
        group = groups.setdefault(period, {"title": title or period, "rows": []})
        kind = "team" if team and not subject else subject.get("kind")
        about = []
        if team:
            about.append(f"team {team}")
        if subject:
            about.append(f"{'SLO' if subject.get('kind') == 'slo' else subject.get('kind')} {subject.get('name')}")
        row["about"] = ", ".join(about)
        row["key"] = (_ORDER.get(kind, 4), row["entry"].get("title", ""), row["about"])
        group["rows"].append(row)

    for folder in folders:
        subject = folder.get("subject") or {}
        for name, entry in folder.get("reports", {}).items():
            key = (name, folder.get("period", ""), folder.get("team"), subject.get("name"))
            seen.add(key)
            last = runs.get(key)
            failure = last if last and last.get("status") == "failed" else None
            row = {"entry": entry, "folder": folder["folder"], "failure": failure}
            add(folder.get("period", ""), folder.get("title", ""), folder.get("team"), subject, row)
    titles = {g: groups[g]["title"] for g in groups}
    for key, run in runs.items():
        if key in seen or run.get("status") != "failed":
            continue
        entry = {"title": run.get("title") or key[0].replace("_", " ").capitalize(), "status": "failed"}
        row = {"entry": entry, "folder": None, "failure": run}
        add(key[1], titles.get(key[1], key[1]), key[2], run.get("subject") or {}, row)
    result = []
    for period in sorted(groups, key=_newest_first):
        group = groups[period]
        group["rows"].sort(key=lambda r: r["key"])
        result.append(group)
    return result


def _newest_first(label: str) -> tuple[int, int, int, str]:
    """Periods that end later first; of those ending together, the longest first (2026, Q4 2026,
    December 2026); labels that are no period last."""
    try:
        period = Period.parse(label)
    except UsageError:
        return (1, 0, 0, label)
    return (0, -period.shift(1).first_day.toordinal(), KINDS.index(period.kind), label)


def write_index(outputs: Path, org: OrgConfig, runs: dict[RunKey, dict[str, Any]]) -> Path:
    """Write ``outputs/index.html`` from the folders' manifests and each report's last run (``runs``)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir() / "portal"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["when"] = _when
    html = env.get_template("index.html.j2").render(
        org=org.name,
        colours=org.colours.model_dump(),
        periods=by_period(manifests(outputs), runs),
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
