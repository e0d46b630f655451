"""Executors (srelib/run/executors.py): chosen by name from a registry; run_many holds the lock,
gives the batch a summary folder and cleans up, whichever executor runs the jobs. Without
kernels: the executors that start them are tested in tests/test_runner.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from srelib.errors import UsageError
from srelib.run.batch import OK, Job, Listener, Outcome, RunOptions, run_many
from srelib.run.control import Stop
from srelib.run.executors import EXECUTORS, Executor, executor


def test_an_unknown_executor_or_dask_without_a_scheduler_is_refused_before_anything_is_touched(tmp_path: Path):
    options = RunOptions(outputs=str(tmp_path / "outputs"))
    with pytest.raises(UsageError, match="unknown executor 'kubernetes': local or dask"):
        run_many(tmp_path, [Job("quick", "2026-10")], options=options, executor="kubernetes")
    with pytest.raises(UsageError, match="--executor dask needs --scheduler-address"):
        run_many(tmp_path, [Job("quick", "2026-10")], options=options, executor="dask")
    assert not (tmp_path / "outputs").exists()  # no lock taken, no staging made


def test_the_registry_names_the_executors_of_the_command_line():
    assert set(EXECUTORS) == {"local", "dask"}
    assert executor("local", workers=3).workers == 3
    assert executor("dask", scheduler_address="tcp://10.0.0.1:8786").scheduler_address == "tcp://10.0.0.1:8786"


def test_an_executor_is_one_class_and_one_register_line(tmp_path: Path, monkeypatch):
    """run_many gives any registered executor the jobs, under the runner lock, with the batch's
    summary folder; and removes that folder afterwards."""
    outputs = tmp_path / "outputs"
    seen: dict[str, object] = {}

    class Recording(Executor):
        def run(self, root: Path, jobs: list[Job], options: RunOptions, listener: Listener, stop: Stop):
            seen["lock holder"] = (outputs / ".runner.lock").read_text()
            seen["summary folder is there"] = Path(options.summary_cache or "").is_dir()
            return [Outcome(job, OK, 0.0) for job in jobs]

    monkeypatch.setitem(EXECUTORS, "recording", Recording)
    jobs = [Job("quick", "2026-10"), Job("team_scorecard", "2026-10", "payments")]
    outcomes = run_many(tmp_path, jobs, options=RunOptions(outputs=str(outputs)), executor="recording")
    assert [(o.job, o.status) for o in outcomes] == [(job, OK) for job in jobs]
    assert str(seen["lock holder"]).startswith(f"pid {os.getpid()}, since ")
    assert seen["summary folder is there"] is True
    assert not (outputs / ".staging").exists() and (outputs / ".runner.lock").read_text() == ""
