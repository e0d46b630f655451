"""``srelib dashboard``: one dashboard notebook served by voila, with secure defaults.

- Bound to 127.0.0.1 unless told otherwise; an optional token (``--token``).
- Sources stripped, tracebacks hidden, ``.ipynb`` and ``.py`` files not served.
- A preheated kernel pool: voila runs the notebook ahead of the first visitor (and refills the
  pool afterwards), so a page opens on a ready dashboard.
- Every view computed ahead: a helper process fills the server's summary cache with every
  period × team the filters offer, at low priority, and again after each ingest.
- The workbench's template (``templates/voila/templates/srelib``): voila's lab template without
  its CDN links, so the page, its widgets and charts load from 127.0.0.1 only.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from srelib.config import Workbench
from srelib.dashboards import warm_in_background
from srelib.errors import UsageError
from srelib.resources import notebooks_dir, templates_dir

DEFAULT = "executive"


def dashboards(workbench: Workbench) -> dict[str, Path]:
    """Every dashboard notebook: the packaged ones, and the workbench's own (which win)."""
    found = {p.stem: p for p in sorted((notebooks_dir() / "dashboards").glob("*.ipynb"))}
    found |= {p.stem: p for p in sorted((workbench.root / "notebooks" / "dashboards").glob("*.ipynb"))}
    return found


def voila_argv(notebook: Path, port: int, host: str, token: str | None, pool_size: int) -> list[str]:
    argv = [
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--no-browser",
        "--template=srelib",
        "--theme=light",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--VoilaConfiguration.file_denylist=.*",  # no file beside the page itself is served
    ]
    if pool_size > 0:
        argv += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
    if token:
        argv.append(f"--token={token}")
    return argv


def _stop(process: multiprocessing.process.BaseProcess) -> None:
    process.terminate()
    process.join(10)


def serve(
    workbench: Workbench,
    name: str = DEFAULT,
    port: int = 8866,
    host: str = "127.0.0.1",
    token: bool = False,
    pool_size: int = 1,
) -> None:
    """Serve dashboard ``name`` at ``http://HOST:PORT/`` until interrupted."""
    known = dashboards(workbench)
    if name not in known:
        raise UsageError(f"unknown dashboard {name!r}: known dashboards are {', '.join(sorted(known))}")
    if not workbench.warehouse_path.is_file():
        raise UsageError(f"no warehouse at {workbench.warehouse_path}: run `srelib ingest` (or `srelib demo`) first")
    secret = secrets.token_urlsafe(24) if token else None
    # Kernels inherit the environment: they find the workbench and voila finds our template.
    os.environ["SRELIB_WORKBENCH"] = str(workbench.root)
    cache = tempfile.mkdtemp(prefix="srelib-dashboard-")  # summaries shared by this server's kernels
    atexit.register(shutil.rmtree, cache, True)
    os.environ["SRELIB_DASHBOARD_CACHE"] = cache
    warmer = multiprocessing.get_context("spawn").Process(
        target=warm_in_background, args=(workbench.root, Path(cache), os.getpid()), name="srelib-warm", daemon=True
    )
    warmer.start()
    atexit.register(_stop, warmer)  # registered last, so it runs before the cache is removed
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(templates_dir()), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    )
    from voila.app import Voila

    url = f"http://{host}:{port}/" + (f"?token={secret}" if secret else "")
    print(f"serving the {name} dashboard of {workbench.org.name} at {url} (Ctrl-C stops)", flush=True)
    Voila.launch_instance(argv=voila_argv(known[name], port, host, secret, pool_size))
