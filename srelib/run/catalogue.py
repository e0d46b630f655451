"""The report catalogue at run time: which report a name means, and the runs it expands into.

The reports themselves (:class:`ReportSpec`: name, title, periods, fan-out) are declared once in
:mod:`srelib.present.catalogue`, where notebook headers read their titles. A workbench's own
notebooks (``notebooks/NAME.ipynb``, e.g. from ``srelib new-report``) are reports too, titled by
their notebook's metadata. A *fan-out* report
is one report per team, per SLO or per initiative, each published in its own folder;
:func:`expand` is the one place that turns a report and a period into its runs, for the
schedule (``srelib due``, ``run-due``, the daemon), ``srelib run`` and the demo.
See ``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from srelib.config import FOLDER_NAME, FOLDER_NAME_RULE, Workbench
from srelib.errors import UsageError
from srelib.period import Period
from srelib.present.catalogue import FAN_OUTS, FORMATS, REPORTS, FanOut, ReportSpec, offering, register, title

__all__ = [
    "FAN_OUTS",
    "FORMATS",
    "REPORTS",
    "FanOut",
    "ReportSpec",
    "Run",
    "Subjects",
    "expand",
    "find_report",
    "offering",
    "register",
    "title",
]

SUBJECT_KEY = FOLDER_NAME  # an SLO or initiative name: a folder name, as a team is


def workbench_report(workbench: Workbench, name: str) -> ReportSpec | None:
    """A report of the workbench's own (``notebooks/NAME.ipynb``, e.g. from ``srelib new-report``)."""
    import nbformat  # here: the notebooks' own `title(...)` imports this module, and needs none of it

    path = workbench.root / "notebooks" / f"{name}.ipynb"
    if not path.is_file() or name.startswith(("_", ".")):
        return None
    notebook_title = nbformat.read(path, as_version=4).metadata.get("title") or name.replace("_", " ").capitalize()
    return ReportSpec(name, str(notebook_title))


def find_report(workbench: Workbench, name: str) -> ReportSpec:
    """The packaged report ``name``, else the workbench's own, else a :class:`UsageError` listing both."""
    spec = REPORTS.get(name) or workbench_report(workbench, name)
    if spec is None:
        known = sorted(set(REPORTS) | {p.stem for p in (workbench.root / "notebooks").glob("*.ipynb")})
        raise UsageError(f"unknown report {name!r}: known reports are {', '.join(known)}")
    return spec


def subject_of(spec: ReportSpec, team: str | None, parameters: Mapping[str, object]) -> tuple[str, str] | None:
    """What one run of a fan-out report is about: ("slo", name) or ("initiative", name); None for
    the others. A :class:`UsageError` when the run lacks its team, SLO or initiative."""
    if spec.fan_out == "team" and not team:
        raise UsageError(f"{spec.name} is one report per team: give --team")
    if spec.fan_out in ("slo", "initiative"):
        key = parameters.get(spec.fan_out)
        if not key:
            raise UsageError(f"{spec.name} is one report per {spec.fan_out}: give -p {spec.fan_out}=NAME")
        if not SUBJECT_KEY.fullmatch(str(key)):
            raise UsageError(f"{spec.fan_out} {key!r}: {FOLDER_NAME_RULE}")
        return spec.fan_out, str(key)
    return None


@dataclass(frozen=True)
class Subjects:
    """What fan-out reports fan out over: the workbench's teams and initiatives, the warehouse's SLOs."""

    teams: tuple[str, ...]
    slos: tuple[str, ...]
    initiatives: tuple[str, ...]

    @classmethod
    def of(cls, workbench: Workbench, warehouse: Path | None = None) -> Subjects:
        from srelib.ingest.warehouse import connect

        with connect(warehouse or workbench.warehouse_path) as con:
            slos = tuple(r[0] for r in con.execute("SELECT name FROM slos ORDER BY name").fetchall())
        initiatives = tuple(i.name for i in workbench.initiatives.initiatives)
        return cls(tuple(workbench.catalogue.teams), slos, initiatives)


@dataclass(frozen=True)
class Run:
    """One report to produce: a report, a period, a team (or the organisation), its parameters."""

    report: str
    period: Period
    team: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)  # a fan-out's SLO or initiative included
    subject: tuple[str, str] | None = None  # ("slo", name) or ("initiative", name): its folder


def expand(
    spec: ReportSpec,
    period: Period,
    subjects: Subjects,
    team: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> list[Run]:
    """The runs of ``spec`` for ``period``: a fan-out report once per team, SLO or initiative
    (unless ``team``, or the SLO or initiative in ``parameters``, names one), the others once."""
    given = dict(parameters or {})
    if spec.fan_out == "team" and team is None:
        return [Run(spec.name, period, name, dict(given)) for name in subjects.teams]
    if spec.fan_out in ("slo", "initiative"):
        kind = spec.fan_out
        keys = [given[kind]] if kind in given else subjects.slos if kind == "slo" else subjects.initiatives
        return [Run(spec.name, period, team, {**given, kind: key}, (kind, key)) for key in keys]
    return [Run(spec.name, period, team, given)]
