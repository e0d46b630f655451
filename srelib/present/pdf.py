"""A published HTML page (a report, a deck) → PDF, printed by headless Chromium.

Chromium draws the page exactly as a reader's browser does, charts included (they are drawn by
the page's own inline scripts), and honours the page's print styles: a report prints as its
page, a deck one slide per page (``@page`` in the deck). It runs with a throw-away profile, no
network (every host name resolves to nothing) and a time limit. Chromium is Debian's
``chromium`` (``apt-get install chromium``), found on the PATH, or the browser that
``SRELIB_CHROMIUM`` names.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from srelib.errors import ReportError

BROWSER_VARIABLE = "SRELIB_CHROMIUM"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 120


def browser() -> str | None:
    """The Chromium to print with: ``SRELIB_CHROMIUM`` when set, else the first on the PATH."""
    given = os.environ.get(BROWSER_VARIABLE)
    if given:
        return given if os.access(given, os.X_OK) else None
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def missing() -> str:
    """What to do when there is no Chromium to print with."""
    given = os.environ.get(BROWSER_VARIABLE)
    if given:
        return f"PDF needs Chromium: {BROWSER_VARIABLE}={given} is not an executable file"
    return (
        "PDF needs Chromium, and none was found on the PATH: install Debian's chromium "
        f"(apt-get install chromium) or set {BROWSER_VARIABLE} to a Chromium or Chrome executable"
    )


def to_pdf(page: Path, pdf: Path, timeout: float = TIMEOUT_SECONDS) -> None:
    """Print ``page`` (an HTML file) to ``pdf``; a :class:`ReportError` saying why when it cannot."""
    chromium = browser()
    if chromium is None:
        raise ReportError(missing())
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="srelib-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),  # Chromium refuses root otherwise
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing on the page may load from the network
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=30000",  # the page's scripts (charts) finish before it prints
            f"--print-to-pdf={pdf}",
            page.resolve().as_uri(),
        ]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its helper processes are stopped with it
            env={**os.environ, "HOME": profile},
        )
        try:
            _, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ReportError(f"Chromium did not print {page.name} within {timeout:.0f} s") from None
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit status {process.returncode}"
        raise ReportError(f"Chromium could not print {page.name} as PDF: {why}")
