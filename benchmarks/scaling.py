"""How cost grows: ingest, ``srelib metrics`` and a cold dashboard view at growing sizes.

For each size, a workbench of a year of 1-minute SLI buckets (the SLO count sets the rows:
19 SLOs ≈ 10M rows, 57 ≈ 30M, 200 ≈ 105M, 571 ≈ 300M), incidents in proportion and the SLO
corrections of ``benchmarks/metrics.py``, built from scratch and measured in child processes:

- **ingest**: ``srelib ingest`` of the whole workbench, against a plain DuckDB ``CREATE TABLE AS``
  of the SLI Parquet file in the same run (the issue's ratio, ≤ 2.5×);
- **metrics**: ``srelib metrics --period <last month> --json`` in a fresh process, against a fresh
  process running the plain SQL of ``benchmarks/raw_summary.py`` (≤ 2×, peak < 1.5 GB);
- **cold view**: the summary of a dashboard view nobody has computed (the organisation's, and
  the first team's, of the last month), each in its own process, as a dashboard kernel
  computes it (:func:`srelib.serve.dashboards.summaries`), in a process that has already
  imported what a kernel has after its first view: the time to draw the view is this plus
  about 0.2 s of rendering.

Then the incident series at the smallest SLI size: 10k, 100k and 1M incidents.

Writes the table, the fitted growth (time ∝ rows^k, by least squares on the logarithms) and a
chart (``docs/scale.svg``) into ``docs/scale.md`` between its ``measured`` markers; the rest of
that page (capacity and what lies beyond one machine) is written by hand from these figures.

    python benchmarks/scaling.py                        # 10M, 30M, 105M, 300M rows; 10k–1M incidents
    python benchmarks/scaling.py --slos 19 57 --incidents 10000 --no-write   # a quick look

Exit status 1 when a larger size took less time than a smaller one by more than noise could
explain (a broken measurement), else 0: the targets themselves are judged by ``metrics.py``,
``sli_ingest.py`` and ``dashboard.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"
MINUTES_PER_YEAR = 365 * 1440
BEGIN, END = "<!-- measured: begin (benchmarks/scaling.py) -->", "<!-- measured: end -->"

WRITE_DATA = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(HERE)!r})
from metrics import write_data
write_data(Path(sys.argv[1]), int(sys.argv[2]), 365, int(sys.argv[3]), sys.argv[4] == "1")
"""

COLD_VIEW = """
import sys, tempfile, time
from pathlib import Path
import scipy.stats  # noqa: F401 (a dashboard kernel has it after its first view)
from srelib.config import Workbench
from srelib.period import Period
from srelib.serve.dashboards import summaries
wb = Workbench.load(Path(sys.argv[1]))
cache = summaries(wb, folder=Path(tempfile.mkdtemp(prefix="srelib-scale-")))
period = Period.parse(sys.argv[2], wb.org.timezone)
started = time.perf_counter()
cache.get(period, wb.catalogue.teams[0] if sys.argv[3] == "team" else None)
print(time.perf_counter() - started)
"""


@dataclass
class Case:
    slos: int
    incidents: int
    rows: int = 0
    ctas: float = 0.0
    ingest: float = 0.0
    ingest_peak: int = 0
    raw: float = 0.0
    metrics: float = 0.0
    metrics_peak: int = 0
    cold: float = 0.0  # the organisation's view
    cold_peak: int = 0
    cold_team: float = 0.0  # a team's


def run(case: Case, root: Path, corrections: bool) -> Case:
    from metrics import _srelib, child
    from sli_ingest import CTAS

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    # The data files in a child process, so this one stays small (children inherit its peak).
    data = [str(root), str(case.slos), str(case.incidents), str(int(corrections))]
    child([sys.executable, "-c", WRITE_DATA, *data], root)
    case.rows = case.slos * MINUTES_PER_YEAR
    parquet = root / "data" / "sli.parquet"
    case.ctas, _, _ = child([sys.executable, "-c", CTAS, str(parquet), str(root / "ctas.db")], root)
    (root / "ctas.db").unlink()
    case.ingest, case.ingest_peak, _ = child([_srelib(), "ingest"], root)
    last = date(2025, 1, 1) + timedelta(days=364)
    period = (last.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # the last complete month
    case.raw, _, _ = child([sys.executable, str(HERE / "raw_summary.py"), str(root), period], root)
    case.metrics, case.metrics_peak, _ = child([_srelib(), "metrics", "--period", period, "--json"], root)
    _, case.cold_peak, out = child([sys.executable, "-c", COLD_VIEW, str(root), period, "org"], root)
    case.cold = float(out.strip().splitlines()[-1])
    _, _, out = child([sys.executable, "-c", COLD_VIEW, str(root), period, "team"], root)
    case.cold_team = float(out.strip().splitlines()[-1])
    shutil.rmtree(root / "data", ignore_errors=True)  # the warehouse holds it now
    return case


def growth(xs: list[float], ys: list[float]) -> float | None:
    """k in y ∝ x^k, fitted by least squares on the logarithms (None from fewer than two sizes)."""
    if len(xs) < 2:
        return None
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-6)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    var = sum((x - mx) ** 2 for x in lx)
    return None if var == 0 else sum((x - mx) * (y - my) for x, y in zip(lx, ly, strict=True)) / var


def _size(n: int) -> str:
    return f"{n / 1e6:.0f}M" if n >= 1_000_000 else f"{n / 1e3:.0f}k"


def _gb(n: int) -> str:
    return f"{n / 1024**3:.2f} GB"


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    system = f"{platform.system()} {platform.machine()}"
    return f"{os.cpu_count()} cores, {memory:.0f} GB RAM, {system}, Python {platform.python_version()}"


def table(cases: list[Case], incidents: list[Case]) -> str:
    head = (
        "| SLI rows | SLOs | incidents | ingest | vs CTAS | ingest peak | metrics | vs raw SQL | metrics peak "
        "| cold view, org | cold view, a team | cold view peak |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = [
        f"| {_size(c.rows)} | {c.slos} | {_size(c.incidents)} | {c.ingest:.1f} s | {c.ingest / c.ctas:.2f}× "
        f"| {_gb(c.ingest_peak)} | {c.metrics:.1f} s | {c.metrics / c.raw:.2f}× | {_gb(c.metrics_peak)} "
        f"| {c.cold:.2f} s | {c.cold_team:.2f} s | {_gb(c.cold_peak)} |"
        for c in [*cases, *incidents]
    ]
    return head + "\n".join(rows) + "\n"


def fits(cases: list[Case], incidents: list[Case]) -> str:
    lines = []
    rows = [float(c.rows) for c in cases]
    for label, values in (
        ("ingest", [c.ingest for c in cases]),
        ("srelib metrics", [c.metrics for c in cases]),
        ("cold view, org", [c.cold for c in cases]),
        ("cold view, a team", [c.cold_team for c in cases]),
        ("metrics peak memory", [float(c.metrics_peak) for c in cases]),
    ):
        k = growth(rows, values)
        if k is not None:
            lines.append(f"- {label}: ∝ rows^{k:.2f}")
    counts = [float(c.incidents) for c in incidents]
    series = (("srelib metrics", [c.metrics for c in incidents]), ("cold view, org", [c.cold for c in incidents]))
    for label, values in series:
        k = growth(counts, values)
        if k is not None:
            lines.append(f"- {label} at {_size(incidents[0].rows)} SLI rows: ∝ incidents^{k:.2f}")
    return "\n".join(lines) + "\n"


def chart(cases: list[Case], path: Path) -> None:
    import altair as alt
    import pandas as pd
    import vl_convert

    frame = pd.DataFrame(
        [
            {"SLI rows (millions)": c.rows / 1e6, "what": what, "seconds": seconds}
            for c in cases
            for what, seconds in (
                ("ingest", c.ingest),
                ("srelib metrics (month)", c.metrics),
                ("cold view, org", c.cold),
                ("cold view, a team", c.cold_team),
            )
        ]
    )
    spec = (
        alt.Chart(frame, title="Time against SLI rows (log–log), 2 cores")
        .mark_line(point=True)
        .encode(
            x=alt.X("SLI rows (millions):Q", scale=alt.Scale(type="log")),
            y=alt.Y("seconds:Q", scale=alt.Scale(type="log")),
            color="what:N",
        )
        .properties(width=520, height=300)
    )
    path.write_text(vl_convert.vegalite_to_svg(spec.to_json()), encoding="utf-8")


def write_doc(cases: list[Case], incidents: list[Case]) -> None:
    page = DOCS / "scale.md"
    text = page.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        sys.exit(f"{page} has no {BEGIN} … {END} markers to write between")
    chart(cases, DOCS / "scale.svg")
    measured = (
        f"{BEGIN}\nMeasured on {date.today():%Y-%m-%d}, {machine()}, by `python benchmarks/scaling.py`.\n\n"
        f"{table(cases, incidents)}\nFitted growth (time ∝ size^k):\n\n{fits(cases, incidents)}\n"
        f"![Time against SLI rows](scale.svg)\n{END}"
    )
    start, end = text.index(BEGIN), text.index(END) + len(END)
    page.write_text(text[:start] + measured + text[end:], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slos", type=int, nargs="+", default=[19, 57, 200, 571], help="SLOs per size (a year each)")
    parser.add_argument("--incidents", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, help="where to build (default: a temporary folder)")
    parser.add_argument("--no-corrections", dest="corrections", action="store_false")
    parser.add_argument("--no-write", dest="write", action="store_false", help="print, do not write docs/scale.md")
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="srelib-scaling-"))
    sys.path.insert(0, str(HERE))  # metrics.py and sli_ingest.py
    cases, by_incidents = [], []
    print(f"{machine()}\n", flush=True)
    for slos in args.slos:
        incidents = max(1000, round(slos * MINUTES_PER_YEAR / 1050))  # ~100k at 105M rows, in proportion
        cases.append(run(Case(slos, incidents), root / "case", args.corrections))
        print(table(cases[-1:], []).splitlines()[-1], flush=True)
    for count in args.incidents:
        by_incidents.append(run(Case(min(args.slos), count), root / "case", args.corrections))
        print(table(by_incidents[-1:], []).splitlines()[-1], flush=True)
    shutil.rmtree(root, ignore_errors=True)
    print("\n" + table(cases, by_incidents) + "\n" + fits(cases, by_incidents))
    print(json.dumps([c.__dict__ for c in [*cases, *by_incidents]]))
    if args.write:
        write_doc(cases, by_incidents)
    # A sanity check on the measurement itself: time should not fall much as the data grow.
    broken = [
        label
        for label, values in (("ingest", [c.ingest for c in cases]), ("metrics", [c.metrics for c in cases]))
        if any(b < 0.7 * a for a, b in pairwise(values))
    ]
    if broken:
        print(f"larger data took much less time ({', '.join(broken)}): the measurement is broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
