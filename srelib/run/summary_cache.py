"""One PeriodSummary per (period, team) and warehouse data, computed once and shared: by the
reports of a batch, by the kernels of a dashboard server, and by its warmer.

What the cache guarantees:

- **Current data only.** A summary is taken from a file only if it was computed by this srelib
  version from the warehouse's latest ingest (its input fingerprint), for that period and team;
  the cache's file names carry fingerprint, version, period and team. A warehouse with nothing
  ingested has no fingerprint: its summaries are computed each time, never stored.
- **Whole files.** A summary is written aside and renamed into place (:func:`atomic_write`), so
  a reader in another process never sees half of one.
- **Once between processes.** One process computes a summary (under a file lock beside it);
  the others that need it meanwhile wait and read it. A background cache (the dashboard
  server's low-priority warmer) holds no lock while computing, so that nobody ever waits for
  a starved process: it waits for whoever is computing the same summary, then reads it or
  computes it itself.
- **Teams on the organisation.** A team's SLO figures are the organisation's, narrowed: a
  team's summary is built on the organisation's of the same period when it is at hand (or,
  with ``org_first``, after computing it, when many teams will need it).

Where a summary is looked for, in order: the memory (the ``memory`` summaries used last, for a
long-lived process such as a dashboard's kernel); the published ``summary.json`` of a report
run (``published``); the cache folder (``folder``); else it is computed from the warehouse, on
a read-only connection held only while computing.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from srelib import __version__
from srelib.config import Workbench
from srelib.files import atomic_write, locked
from srelib.ingest.warehouse import connect, latest_fingerprint
from srelib.metrics.programme import RunHistory
from srelib.period import Period
from srelib.run.programme import run_history
from srelib.summary import PeriodSummary, build_summary

Signature = tuple[tuple[int, int, int] | None, ...]


def files_signature(warehouse: Path) -> Signature:
    """What any commit to the warehouse changes: identity, size and time of its file and of its
    write-ahead log (a read-only connection changes neither)."""

    def of(path: Path) -> tuple[int, int, int] | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_size, stat.st_mtime_ns

    return of(warehouse), of(warehouse.with_name(warehouse.name + ".wal"))


class SummaryCache:
    """PeriodSummary per (period, team), shared through ``folder`` (see the module's docstring).

    ``published(period, team)`` is where a report run published that summary, if anywhere.
    """

    def __init__(
        self,
        workbench: Workbench,
        warehouse: Path | None = None,
        folder: Path | None = None,
        published: Callable[[Period, str | None], Path] | None = None,
        memory: int = 0,
        org_first: bool = False,
        background: bool = False,
    ):
        self.workbench = workbench
        self.warehouse = warehouse or workbench.warehouse_path
        self.folder = folder
        self.published = published
        self.memory = memory
        self.org_first = org_first
        self.background = background
        self._memory: OrderedDict[tuple[str, str | None], tuple[str | None, PeriodSummary]] = OrderedDict()
        self._seen: tuple[Signature, str | None] | None = None  # the warehouse's files, and their fingerprint
        self._lock = threading.RLock()  # one computation at a time: DuckDB uses the cores itself

    def get(self, period: Period, team: str | None) -> PeriodSummary:
        key = (period.label, team)
        with self._lock:
            known = self._known_fingerprint()
            held = self._memory.get(key)
            if held is None or known is None or held[0] != known[0]:  # not in memory, or of an earlier ingest
                held = self._find(period, team, known)
            if self.memory:
                self._memory[key] = held
                self._memory.move_to_end(key)
                while len(self._memory) > self.memory:
                    self._memory.popitem(last=False)
            return held[1]

    def _known_fingerprint(self) -> tuple[str | None] | None:
        """(the latest ingest's fingerprint,) as last read, while the warehouse's files are unchanged
        since (a lookup then opens no connection: about 20 ms less a view); None: not known."""
        if self._seen is not None and self._seen[0] == files_signature(self.warehouse):
            return (self._seen[1],)
        return None

    def forget(self) -> None:
        """Empty the memory (the files stay)."""
        with self._lock:
            self._memory.clear()

    def keep_only(self, fingerprint: str | None) -> None:
        """Remove the folder's summaries of other ingests than ``fingerprint``: nobody will ask for them again."""
        if self.folder is None:
            return
        for path in self.folder.glob("*--*"):
            if not path.name.startswith(f"{fingerprint}--"):
                path.unlink(missing_ok=True)

    def _find(
        self, period: Period, team: str | None, known: tuple[str | None] | None
    ) -> tuple[str | None, PeriodSummary]:
        """(fingerprint, summary): stored for the ``known`` fingerprint, else looked up or computed
        on a connection, with the fingerprint read there."""
        if known is not None:
            found = self._stored(period, team, known[0])
            if found is not None:
                return known[0], found
        org = self.get(period, None) if team is not None and self.org_first and self.folder is not None else None
        signature = files_signature(self.warehouse)  # before reading: a commit meanwhile changes it again
        with connect(self.warehouse) as con:
            if self.background:  # at most half the cores: the others stay free for the visitors' kernels
                con.execute(f"SET threads = {max(1, (os.cpu_count() or 2) // 2)}")
            fingerprint = latest_fingerprint(con)
            self._seen = (signature, fingerprint)
            found = self._stored(period, team, fingerprint)
            if found is not None:
                return fingerprint, found
            if team is not None and org is None:
                held = self._memory.get((period.label, None))
                in_memory = held[1] if held is not None and held[0] == fingerprint else None
                org = in_memory or self._stored(period, None, fingerprint)
            if self.folder is None or fingerprint is None:
                return fingerprint, build_summary(con, self.workbench, period, team, org, self._history(team))
            path = self._path(period, team, fingerprint)

            def read_or_compute() -> PeriodSummary:
                found = self._read(path, fingerprint, team)
                if found is None:
                    found = build_summary(con, self.workbench, period, team, org, self._history(team))
                    atomic_write(path, found.to_json() + "\n")
                return found

            with locked(path.with_suffix(".lock")):  # one process computes it, the others wait and read it
                if not self.background:
                    return fingerprint, read_or_compute()
            return fingerprint, read_or_compute()  # in the background: after whoever was computing it, holding nothing

    def _history(self, team: str | None) -> RunHistory | None:
        """The run history an organisation's summary judges the programme on (a team's has no
        programme: None, without reading the schedule).
        Summaries are cached by warehouse data alone: a period's programme section counts only runs
        published before the period ended, so later runs leave a completed period's unchanged."""
        return run_history(self.workbench) if team is None else None

    def _path(self, period: Period, team: str | None, fingerprint: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{fingerprint}--{__version__}--{period.label}--{team or '_org'}.json"

    def _stored(self, period: Period, team: str | None, fingerprint: str | None) -> PeriodSummary | None:
        """The summary as a report run published it, or as another process cached it, when
        either was computed from the warehouse's current data."""
        found = None
        if self.published is not None:
            found = self._read(self.published(period, team), fingerprint, team)
        if found is None and self.folder is not None and fingerprint is not None:
            found = self._read(self._path(period, team, fingerprint), fingerprint, team)
        return found

    @staticmethod
    def _read(path: Path, fingerprint: str | None, team: str | None) -> PeriodSummary | None:
        """The summary in ``path`` if it was computed by this srelib from these inputs."""
        if fingerprint is None or not path.is_file():
            return None
        try:
            summary = PeriodSummary.read(path)
        except (OSError, ValueError):
            return None
        same = (summary.input_fingerprint, summary.team, summary.srelib_version) == (fingerprint, team, __version__)
        return summary if same else None


def shared_summary(
    workbench: Workbench, warehouse: Path, period: Period, team: str | None, cache: Path | None
) -> PeriodSummary:
    """A report run's summary: through its batch's cache folder ``cache``, where the first run
    that needs it computes it (a team's after the organisation's, which all of the batch's
    teams are built on) and the others read it; no cache: computed here."""
    return SummaryCache(workbench, warehouse, cache, org_first=True).get(period, team)
