"""Every error the workbench raises on purpose, in one place.

The command line turns these into messages and exit codes (bad input and usage: 2,
anything else: 1); nowhere else decides how an error is shown.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        return f"{self.file}:{'' if self.row is None else self.row}:{self.column or ''}: {self.message}"


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


def _problem_key(p: Problem) -> tuple[str, bool, int, str, str]:
    return (p.file, p.more, -1 if p.row is None else p.row, p.column or "", p.message)
