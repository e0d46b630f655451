"""outputs/index.html: every period's reports, newest period first."""

from __future__ import annotations

import json
from pathlib import Path

from srelib.present.portal import by_period, manifests


def test_periods_are_listed_newest_first_and_a_year_before_the_quarter_month_and_week_ending_with_it(
    tmp_path: Path,
):
    labels = ["2025", "2026-12", "2026-W53", "2026", "2026-Q4", "2026-11", "2027-W01", "2026-W43", "2026-Q3"]
    for label in labels:
        folder = tmp_path / label
        folder.mkdir()
        entry = {"title": "Report", "status": "ok", "html": "r.html"}
        manifest = {"period": label, "title": label, "team": None, "subject": None, "reports": {"r": entry}}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    listed = [group["title"] for group in by_period(manifests(tmp_path))]
    # 2027-W01 ends on 11 January 2027, 2026-W53 on 4 January; 2026, Q4 and December all end on
    # 1 January 2027: the longest first.
    assert listed == ["2027-W01", "2026-W53", "2026", "2026-Q4", "2026-12", "2026-11", "2026-W43", "2026-Q3", "2025"]
