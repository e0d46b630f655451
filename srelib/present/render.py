"""Executed notebook → self-contained HTML report (nbconvert).

The ``workbench`` template (``templates/nbconvert/workbench``) extends JupyterLab's and
removes everything that would load from the network; inputs, prompts and the parameters
cells are left out, so readers see the report, not the code.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

from srelib import __version__
from srelib.config import OrgConfig
from srelib.resources import templates_dir

HIDDEN_CELL_TAGS = {"parameters", "injected-parameters", "remove-cell"}


_EXPORTERS = threading.local()


def exporter() -> HTMLExporter:
    """This thread's HTML exporter: made once, so its templates are compiled once per worker
    (about 0.3 s a report otherwise), and not shared between threads, since each export registers
    filters of its notebook on it."""
    made = getattr(_EXPORTERS, "exporter", None)
    if made is None:
        made = _EXPORTERS.exporter = _new_exporter()
    return made


def _new_exporter() -> HTMLExporter:
    config = Config()
    config.HTMLExporter.template_name = "workbench"
    config.HTMLExporter.extra_template_basedirs = [str(templates_dir() / "nbconvert")]
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    config.HTMLExporter.anchor_link_text = ""
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = HIDDEN_CELL_TAGS
    return HTMLExporter(config=config)


def to_html(notebook: nbformat.NotebookNode, org: OrgConfig, title: str, files: str = "report") -> str:
    """The report page for an executed notebook; ``files`` starts the names of the CSV files its
    tables download as (e.g. ``quarterly_business_impact-2026-Q3``)."""
    resources: dict[str, Any] = {
        "srelib": {
            "org": org.name,
            "title": title,
            "files": files,
            "version": __version__,
            "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **org.colours.model_dump(),
        }
    }
    notebook = nbformat.from_dict(notebook)
    notebook.metadata["title"] = f"{title} · {org.name}"
    body, _ = exporter().from_notebook_node(notebook, resources=resources)
    return body
