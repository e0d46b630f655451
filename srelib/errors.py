"""Every error the workbench raises on purpose, in one place.

The command line turns these into messages and exit codes (bad input and usage: 2,
anything else: 1); nowhere else decides how an error is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# C0 controls, DEL and C1 controls (ESC starts every terminal sequence; C1's CSI and OSC do too, on
# terminals that read 8-bit controls), and the bidirectional formatting characters, which reorder
# what a reader sees ("Trojan Source", CVE-2021-42574).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, keep: str = "") -> str:
    """``text`` safe to print on a terminal: control characters (ESC, BEL, newlines...) are shown as
    escapes (``\\x1b``), never sent, so a file name or value cannot move the cursor or retitle the
    window. ``keep``: the layout characters the caller's text needs (``"\\n\\t"`` for lines and
    tab-separated columns). Data reaches the terminal only through this."""

    def shown(match: re.Match[str]) -> str:
        char = match.group()
        return char if char in keep else char.encode("unicode_escape").decode("ascii")

    return _CONTROL.sub(shown, text)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input: where it is and what is wrong.

    ``row`` is the line number in a CSV file (the header is line 1) or the 1-based row
    number in a Parquet file, or the document number in a YAML file; ``None`` when the
    problem concerns the whole file or a whole column.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    more: bool = False  # a count of further rows like the ones listed: shown after them

    def __str__(self) -> str:
        row = "" if self.row is None else self.row
        return f"{printable(self.file)}:{row}:{printable(self.column or '')}: {printable(self.message)}"


class SrelibError(Exception):
    """Base class for errors the workbench reports without a traceback."""

    exit_code = 1


class UsageError(SrelibError):
    """The command was asked for something it cannot do (bad period, unknown team...)."""

    exit_code = 2


class InputError(SrelibError):
    """Input data is invalid; ``problems`` lists every problem found, all at once."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=_problem_key)
        super().__init__(f"{len(self.problems)} problem(s) in the input")

    def report(self) -> str:
        lines = [str(p) for p in self.problems]
        lines.append(f"{len(self.problems)} problem(s) found; nothing was written.")
        return "\n".join(lines)


class ConfigError(SrelibError):
    """A file under params/ is missing or invalid."""

    exit_code = 2


class ReportError(SrelibError):
    """A report notebook failed to execute or render."""


class RunInterrupted(ReportError):
    """A run stopped from outside (SIGTERM, Ctrl-C): nothing was published or kept."""

    exit_code = 130


class RunnerBusy(SrelibError):
    """Another runner holds the workbench's runner lock."""


class DashboardBusy(SrelibError):
    """A dashboard server already gives as many pages a kernel as ``--max-kernels`` allows."""


class DeliveryError(SrelibError):
    """A message could not be delivered (the reports are published all the same)."""


class PrometheusError(Exception):
    """A request to Prometheus failed: for one query (``which``), or for every query (``which`` None: stop
    asking). Not a :class:`SrelibError`: the Prometheus source turns it into problems or a refusal."""

    def __init__(self, message: str, which: str | None = None):
        super().__init__(message)
        self.message, self.which = message, which


def _problem_key(p: Problem) -> tuple[str, bool, int, str, str]:
    return (p.file, p.more, -1 if p.row is None else p.row, p.column or "", p.message)
