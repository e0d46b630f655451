"""The one summary cache (srelib/run/summary_cache.py), shared by a batch's report runs, a dashboard
server's kernels and its warmer: current data only, whole files, computed once between processes,
teams built on the organisation's summary."""

from __future__ import annotations

import fcntl
import shutil
import threading
import time
from pathlib import Path

import duckdb
import pytest

from srelib import __version__
from srelib.config import Workbench
from srelib.period import Period
from srelib.run import summary_cache
from srelib.run.summary_cache import SummaryCache, shared_summary
from srelib.summary import PeriodSummary
from tests.conftest import ingest_small, make_workbench

OCTOBER = Period.parse("2026-10", "UTC")


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small workbench with one ingest: incidents and SLIs of October 2026, two teams."""
    root = tmp_path_factory.mktemp("ingested")
    bench = make_workbench(root, {"api": "platform", "web": "frontend"})
    incident = dict(service="api", severity="SEV2", started_at="2026-10-01T10:00:00Z")
    incidents = [dict(incident, incident_id="I1", resolved_at="2026-10-01T11:00:00Z"), dict(incident, incident_id="I2")]
    ingest_small(bench, incidents, sli_at="2026-10-01T10:00:00Z")
    return root


@pytest.fixture
def workbench(ingested: Path, tmp_path: Path) -> Workbench:
    shutil.copytree(ingested, tmp_path / "workbench")
    return Workbench.load(tmp_path / "workbench")


@pytest.fixture
def computed(monkeypatch) -> list[tuple[str, str | None, bool]]:
    """Every summary computed from the warehouse: (period, team, built on the organisation's)."""
    real, seen = summary_cache.build_summary, []

    def counting(con, workbench, period, team=None, org_summary=None, history=None):
        seen.append((period.label, team, org_summary is not None))
        return real(con, workbench, period, team, org_summary, history)

    monkeypatch.setattr(summary_cache, "build_summary", counting)
    return seen


def new_ingest(workbench: Workbench, fingerprint: str) -> None:
    with duckdb.connect(str(workbench.warehouse_path)) as con:
        con.execute("INSERT INTO ingests VALUES (now() + INTERVAL 1 SECOND, 'x', ?, '{}', 'test')", [fingerprint])


def test_a_summary_is_computed_once_and_read_back_by_every_other_user_of_the_folder(workbench, computed, tmp_path):
    folder = tmp_path / "cache"
    first = SummaryCache(workbench, folder=folder).get(OCTOBER, None)
    again = SummaryCache(workbench, folder=folder).get(OCTOBER, None)  # another process, say
    assert computed == [("2026-10", None, False)]
    assert again == first
    (path,) = folder.glob("*.json")
    assert path.name == f"{first.input_fingerprint}--{__version__}--2026-10--_org.json"
    assert not list(folder.glob(".*.tmp"))  # written aside, then renamed into place


def test_after_an_ingest_the_cached_summary_is_not_used_and_keep_only_removes_it(workbench, computed, tmp_path):
    folder = tmp_path / "cache"
    old = SummaryCache(workbench, folder=folder).get(OCTOBER, None)
    new_ingest(workbench, "a-new-fingerprint")
    cache = SummaryCache(workbench, folder=folder)
    assert cache.get(OCTOBER, None).input_fingerprint == "a-new-fingerprint"
    assert len(computed) == 2
    cache.keep_only("a-new-fingerprint")
    assert not list(folder.glob(f"{old.input_fingerprint}--*"))
    assert list(folder.glob("a-new-fingerprint--*.json"))


def test_a_published_summary_is_used_only_if_this_srelib_computed_it_from_the_same_data_for_the_same_scope(
    workbench, computed, tmp_path
):
    published = tmp_path / "summary.json"
    cache = SummaryCache(workbench, published=lambda period, team: published)
    summary = cache.get(OCTOBER, None)
    assert len(computed) == 1
    summary.write(published)
    assert cache.get(OCTOBER, None) == summary and len(computed) == 1
    for stale in ({"srelib_version": "0.0.0"}, {"input_fingerprint": "other data"}, {"team": "platform"}):
        summary.model_copy(update=stale).write(published)
        cache.get(OCTOBER, None)
    assert len(computed) == 4


def test_the_memory_keeps_the_summaries_used_last(workbench, computed):
    cache = SummaryCache(workbench, memory=1)
    cache.get(OCTOBER, None)
    cache.get(OCTOBER, None)
    assert len(computed) == 1
    cache.get(OCTOBER, "platform")  # pushes the organisation's out
    cache.get(OCTOBER, None)
    assert len(computed) == 3


def test_a_batch_builds_each_team_on_the_organisations_summary_computed_once(workbench, computed, tmp_path):
    folder = tmp_path / "batch"
    for team in ("platform", "frontend", None):
        shared_summary(workbench, workbench.warehouse_path, OCTOBER, team, folder)
    assert computed == [("2026-10", None, False), ("2026-10", "platform", True), ("2026-10", "frontend", True)]
    alone = SummaryCache(workbench).get(OCTOBER, "platform")
    built_on_org = PeriodSummary.read(next(folder.glob("*--2026-10--platform.json")))
    assert built_on_org.model_dump(exclude={"generated_at"}) == alone.model_dump(exclude={"generated_at"})


def test_a_single_run_computes_its_summary_alone(workbench, computed):
    shared_summary(workbench, workbench.warehouse_path, OCTOBER, "platform", None)
    assert computed == [("2026-10", "platform", False)]


def test_processes_asking_at_once_compute_a_summary_once(workbench, computed, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    real = summary_cache.build_summary

    def slow(*args, **kwargs):
        time.sleep(0.5)  # long enough for the others to ask meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(summary_cache, "build_summary", slow)
    got: list[PeriodSummary] = []
    askers = [
        threading.Thread(target=lambda: got.append(SummaryCache(workbench, folder=folder).get(OCTOBER, None)))
        for _ in range(3)
    ]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(60)
    assert len(computed) == 1 and len(got) == 3 and got[0] == got[1] == got[2]


def test_the_background_cache_holds_no_lock_while_it_computes(workbench, tmp_path, monkeypatch):
    """The dashboard server's warmer runs at low priority: a viewer's kernel must never wait for it."""
    folder = tmp_path / "cache"
    real, free_while_computing = summary_cache.build_summary, []

    def probing(con, workbench, period, team=None, org_summary=None, history=None):
        (lock,) = folder.glob(f"*--{team or '_org'}.lock")
        with lock.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                free_while_computing.append(True)
                fcntl.flock(handle, fcntl.LOCK_UN)
            except BlockingIOError:
                free_while_computing.append(False)
        return real(con, workbench, period, team, org_summary, history)

    monkeypatch.setattr(summary_cache, "build_summary", probing)
    SummaryCache(workbench, folder=folder, background=True).get(OCTOBER, None)
    SummaryCache(workbench, folder=folder).get(OCTOBER, "platform")
    assert free_while_computing == [True, False]  # the warmer held nothing; a viewer's kernel holds the lock


def test_a_warehouse_with_nothing_ingested_is_never_cached(workbench, computed, tmp_path):
    with duckdb.connect(str(workbench.warehouse_path)) as con:
        con.execute("DELETE FROM ingests")
    folder = tmp_path / "cache"
    for _ in range(2):
        SummaryCache(workbench, folder=folder).get(OCTOBER, None)
    assert len(computed) == 2 and not list(folder.glob("*.json"))


def test_a_summary_in_memory_is_not_shown_after_an_ingest(workbench, computed, tmp_path):
    """A dashboard's kernel keeps the summaries it showed last; an ingest makes them stale."""
    cache = SummaryCache(workbench, folder=tmp_path / "cache", memory=4)
    assert cache.get(OCTOBER, None).input_fingerprint == cache.get(OCTOBER, None).input_fingerprint
    assert len(computed) == 1
    new_ingest(workbench, "a-new-fingerprint")
    assert cache.get(OCTOBER, None).input_fingerprint == "a-new-fingerprint"
    assert cache.get(OCTOBER, "platform").input_fingerprint == "a-new-fingerprint"
    assert computed == [("2026-10", None, False), ("2026-10", None, False), ("2026-10", "platform", True)]


def test_a_stored_summary_is_read_without_opening_the_warehouse_while_it_is_unchanged(workbench, tmp_path, monkeypatch):
    """Opening DuckDB to read the latest fingerprint costs about 20 ms of each dashboard view."""
    real, opened = summary_cache.connect, []

    def counting(path):
        opened.append(path)
        return real(path)

    monkeypatch.setattr(summary_cache, "connect", counting)
    folder = tmp_path / "cache"
    SummaryCache(workbench, folder=folder).get(OCTOBER, None)  # another kernel, say, computed it
    cache = SummaryCache(workbench, folder=folder)
    for _ in range(3):
        cache.get(OCTOBER, None)
    assert len(opened) == 2  # the first kernel's computation, and this one's first look
    new_ingest(workbench, "a-new-fingerprint")
    assert cache.get(OCTOBER, None).input_fingerprint == "a-new-fingerprint"
    assert len(opened) == 3
