"""Links into a dashboard's view: ``?period=2026-10&team=payments&service=checkout&slo=...``.

A link opens a dashboard on one period, team, service or SLO (an SLO alert in Slack links to its
explorer view; the executive dashboard links each SLO to it). voila gives the kernel it starts
for a page the page's query string (``QUERY_STRING``); a preheated kernel ran before the page
asked, and ``srelib dashboard`` does not serve voila's socket that would hand it over later
(:mod:`srelib.serve.app`), so a page whose address carries one of :data:`PARAMETERS` gets a
kernel of its own, started for it, and one without them a preheated kernel.

The values are untrusted: each is only ever compared with the choices the dashboard offers
(a period, team, service or SLO that is not one of them is ignored), never used as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from urllib.parse import parse_qsl

PARAMETERS = ("period", "team", "service", "slo")


def asks_for_a_view(query: Iterable[str]) -> bool:
    """Whether a page request's query parameter names (``query``) choose a view."""
    return any(name in PARAMETERS for name in query)


def requested_view() -> dict[str, str]:
    """The view the page's address asked for, from the kernel's ``QUERY_STRING`` (the last value
    of each parameter); nothing in a preheated kernel (its environment predates the page) or
    outside voila (JupyterLab)."""
    if os.environ.get("VOILA_PREHEAT", "False") != "False":
        return {}
    query = os.environ.get("QUERY_STRING", "")
    return {name: value for name, value in parse_qsl(query) if name in PARAMETERS}
