"""``srelib new-report NAME``: a new report notebook with the standard structure.

Analysts add their own reports without touching the package: the notebook goes into the
workbench's ``notebooks/`` folder, and ``srelib run NAME`` finds it there. It starts as every
packaged report does: the tagged parameters cell (``period`` first), the summary loaded once,
then sections that call :mod:`srelib.present.report`, a narrative and the definitions.
"""

from __future__ import annotations

import re
from pathlib import Path

from srelib.config import Workbench
from srelib.errors import UsageError

NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


def new_report(workbench: Workbench, name: str, title: str | None = None) -> Path:
    import nbformat  # here, not at the top: `srelib init` needs none of it (2.5 s to import)

    from srelib.run.catalogue import REPORTS

    if not NAME.match(name):
        raise UsageError(f"report name {name!r}: use lower-case letters, digits and _, starting with a letter")
    if name in REPORTS:
        raise UsageError(f"{name} is a built-in report: copy notebooks/{name}.ipynb into your workbench to change it")
    path = workbench.root / "notebooks" / f"{name}.ipynb"
    if path.exists():
        raise UsageError(f"{path} already exists")
    title = title or name.replace("_", " ").capitalize()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    parameters = code(
        "# Parameters: papermill replaces these; the defaults work after `srelib demo`.\n"
        'period = None  # "2026-10", "2026-Q3" or "2026-W43"; None: the latest complete month\n'
        "team = None  # a team name from params/services.yaml; None: the whole organisation\n"
        "warehouse = None  # a DuckDB file; None: the one named in params/org.yaml\n"
        "summary_path = None  # a summary.json prepared by `srelib run`; None: compute it here"
    )
    parameters.metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        parameters,
        code(
            "from srelib.present import charts, report\n\n"
            "summary = report.load(period, team, warehouse, summary_path)\n"
            "report.setup()"
        ),
        code(f"report.header(summary, {title!r})"),
        md(
            "## Key messages\n\n"
            "The sentences come from `templates/narrative/`; write your own template and pass its name."
        ),
        code("report.key_messages(summary)"),
        md("## Headline figures"),
        code("report.kpi_table(summary)"),
        md(
            "## Your section\n\n"
            "Everything is in `summary` (see `srelib metrics --json` and docs/metrics.md): show it with "
            "`report.table(rows, columns, empty)` and `report.chart(chart, empty)`. Keep formulas out of the "
            "notebook: a new metric belongs in `srelib/metrics/`, where it is defined and tested."
        ),
        code('report.chart(charts.time_to_resolve(summary), "No resolved incidents in the last twelve periods.")'),
        md("## Definitions"),
        code("report.definitions()"),
    ]
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "title": title,
    }
    for cell in notebook.cells:
        cell.pop("id", None)
    notebook.nbformat_minor = 4
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


# The params a new workbench gets from the package as they are (policy, targets, tips, schedule, follow-up);
# the others come commented and empty from templates/workbench/params.
SHARED_PARAMS = ("error_budget_policy.yaml", "targets.yaml", "tips.yaml", "schedule.yaml", "follow_up.yaml")


def init_workbench(directory: Path) -> list[Path]:
    """``srelib init DIR``: a workbench for a team's own data: commented params, an empty ``data/``.

    Refuses a folder that already is a workbench (or holds ``params/``), so nothing of a team's is
    overwritten. Returns the files created.
    """
    from srelib.resources import params_dir, templates_dir

    directory = directory.resolve()
    if (directory / "params").exists():
        raise UsageError(f"{directory} already has params/: it is a workbench (nothing was changed)")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file, not a folder")
    sources = [*sorted((templates_dir() / "workbench" / "params").glob("*.yaml"))]
    sources += [params_dir() / name for name in SHARED_PARAMS]
    (directory / "params").mkdir(parents=True)
    (directory / "data").mkdir(exist_ok=True)
    created = []
    for source in sources:
        target = directory / "params" / source.name
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        created.append(target)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# made by srelib init: generated files\nwarehouse/\noutputs/\n", encoding="utf-8")
        created.append(gitignore)
    Workbench.load(directory)  # what we wrote must be a valid workbench
    return created
