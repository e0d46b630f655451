"""``srelib dashboard``: one dashboard notebook served by voila, with secure defaults.

- Bound to 127.0.0.1 unless told otherwise; another address needs ``--token`` (or ``--no-token``
  behind a reverse proxy that authenticates). Only the names it was started for are answered
  (``--allow-host`` adds one), so no other site's page reaches it (:mod:`srelib.serve.hosts`).
- Sources stripped, tracebacks hidden (on the page and over the kernel's websocket), ``.ipynb``
  and ``.py`` files not served; no template or theme chosen from the URL.
- A preheated kernel pool: voila runs the notebook ahead of the first visitor (and refills the
  pool afterwards), so a page opens on a ready dashboard.
- A bounded number of kernels (``--max-kernels``; a page over it is told to retry), and the
  kernels of closed pages shut down after ``--cull-idle`` seconds (:mod:`srelib.serve.kernels`).
- Every view computed ahead: a helper process fills the server's summary cache with every
  period × team the filters offer, at low priority, and again after each ingest.
- The workbench's template (``templates/voila/templates/srelib``): voila's lab template without
  its CDN links, so the page, its widgets and charts load from 127.0.0.1 only.

See ``docs/dashboards.md`` and ``docs/security.md``.
"""

from __future__ import annotations

import atexit
import errno
import multiprocessing
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path

from srelib.config import Workbench
from srelib.errors import UsageError
from srelib.resources import notebooks_dir, templates_dir
from srelib.serve import first_paint
from srelib.serve.hosts import EVERY_INTERFACE, AllowedHosts, is_loopback

DEFAULT = "executive"
MAX_KERNELS = 20  # pages served at once: x ~350 MB = 7 GB, under a third of a 2-core 24 GB machine
CULL_IDLE = 180  # seconds a kernel with no page connected is kept (3 minutes)


def dashboards(workbench: Workbench) -> dict[str, Path]:
    """Every dashboard notebook: the packaged ones, and the workbench's own (which win)."""
    found = {p.stem: p for p in sorted((notebooks_dir() / "dashboards").glob("*.ipynb"))}
    found |= {p.stem: p for p in sorted((workbench.root / "notebooks" / "dashboards").glob("*.ipynb"))}
    return found


def voila_argv(
    notebook: Path,
    port: int,
    host: str,
    token: str | None,
    pool_size: int,
    max_kernels: int = MAX_KERNELS,
    cull_idle: int = CULL_IDLE,
) -> list[str]:
    argv = [
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--no-browser",
        "--template=srelib",
        "--theme=light",
        "--VoilaConfiguration.allow_template_override=NO",  # ?template=lab would load CDN assets
        "--VoilaConfiguration.allow_theme_override=NO",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--VoilaConfiguration.file_denylist=.*",  # no file beside the page itself is served
        "--VoilaConfiguration.multi_kernel_manager_class=srelib.serve.kernels.DashboardKernels",
        f"--DashboardKernels.max_kernels={max_kernels}",
        f"--DashboardKernels.cull_idle_timeout={cull_idle}",
        f"--DashboardKernels.cull_interval={max(1, cull_idle // 6)}",
        "--Voila.kernel_websocket_connection_class=srelib.serve.app.QuietKernelConnection",
        "--Voila.port_retries=0",  # the port asked for, or none: not another one the printed URL does not name
    ]
    if pool_size > 0:
        argv += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
    if token:
        argv.append(f"--token={token}")
    return argv


def check_exposure(name: str, host: str, token: bool, no_token: bool) -> None:
    """Refuse to serve a network without a token, unless told a reverse proxy authenticates."""
    if token and no_token:
        raise UsageError("--token and --no-token contradict each other: choose one")
    if is_loopback(host) or token or no_token:
        return
    raise UsageError(
        f"--host {host or repr(host)} serves the dashboard to the network, where anyone could open it: "
        f"require a token with `srelib dashboard {name} --host {host or repr(host)} --token`, or, behind a "
        "reverse proxy that authenticates every visitor, add --no-token (and --allow-host with the name "
        "the proxy forwards)"
    )


def check_port(host: str, port: int) -> None:
    """Refuse a port another program (another dashboard, a kernel) listens on, before starting:
    voila would otherwise move to a nearby one, and the address printed would answer nothing
    or, worse, something else."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as tornado binds: a closed socket's port is free
        try:
            probe.bind((host, port))
        except OSError as exc:
            shown = f"[{host}]" if ":" in host else host or "every interface"
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {port} on {shown} is not free ({exc.strerror}): another dashboard or program "
                    f"listens there; choose another with --port"
                ) from exc
            raise UsageError(f"cannot listen on {shown} port {port}: {exc.strerror or exc}") from exc


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
    *,
    no_token: bool = False,
    allow_hosts: Sequence[str] = (),
    max_kernels: int = MAX_KERNELS,
    cull_idle: int = CULL_IDLE,
    warm: bool = True,
) -> None:
    """Serve dashboard ``name`` at ``http://HOST:PORT/`` until interrupted.

    ``warm``: compute every view the filters offer ahead, in a low-priority helper process
    (:mod:`srelib.serve.warm`); without it a view is computed when first chosen.
    """
    check_exposure(name, host, token, no_token)
    known = dashboards(workbench)
    if name not in known:
        raise UsageError(f"unknown dashboard {name!r}: known dashboards are {', '.join(sorted(known))}")
    if not workbench.warehouse_path.is_file():
        raise UsageError(f"no warehouse at {workbench.warehouse_path}: run `srelib ingest` (or `srelib demo`) first")
    check_port(host, port)
    from srelib.serve.warm import warm_in_background  # pandas and DuckDB: not for a refusal

    secret = secrets.token_urlsafe(24) if token else None
    # Kernels inherit the environment: they find the workbench and voila finds our template.
    os.environ["SRELIB_WORKBENCH"] = str(workbench.root)
    cache = tempfile.mkdtemp(prefix="srelib-dashboard-")  # summaries shared by this server's kernels
    atexit.register(shutil.rmtree, cache, True)
    os.environ["SRELIB_DASHBOARD_CACHE"] = cache
    os.environ[first_paint.ENVIRONMENT] = "1"  # our template shows each page's first view at once
    if warm:
        warmer = multiprocessing.get_context("spawn").Process(
            target=warm_in_background, args=(workbench.root, Path(cache), os.getpid()), name="srelib-warm", daemon=True
        )
        warmer.start()
        atexit.register(_stop, warmer)  # registered last, so it runs before the cache is removed
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(templates_dir()), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    )
    from srelib.serve.app import DashboardServer

    shown = socket.gethostname() if host in EVERY_INTERFACE else f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={secret}" if secret else "")
    print(f"serving the {name} dashboard of {workbench.org.name} at {url} (Ctrl-C stops)", flush=True)
    DashboardServer.launch_instance(
        argv=voila_argv(known[name], port, host, secret, pool_size, max_kernels, cull_idle),
        allowed_hosts=AllowedHosts.for_server(host, allow_hosts),
    )
