"""SLO reviews (params/slo_documents.yaml ``next_review``): overdue at the period's end, by how many
days, and said in the SLO document, the key messages (monthly report, executive summary, team
scorecard) and the document's table. Golden values by hand; boundaries in the org's time zone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from srelib.metrics.slo_documents import review_overdue_days
from srelib.period import Period
from srelib.present import narrative, rows
from srelib.run.summary_cache import SummaryCache
from tests.conftest import ingest_small, make_workbench


@pytest.mark.parametrize(
    ("next_review", "period", "expected"),
    [
        (date(2026, 10, 1), "2026-11", 61),  # 1 Oct to 1 Dec (the day after 30 Nov): 31 + 30 days
        (date(2026, 11, 30), "2026-11", 1),  # due on the period's last day: a day late once it has ended
        (date(2026, 12, 1), "2026-11", None),  # due the day after: not yet
        (date(2027, 1, 15), "2026-11", None),
        (None, "2026-11", None),  # no review date recorded: nothing to be late for
        (date(2026, 9, 30), "2026-Q3", 1),  # a quarter ends on its last day too
        (date(2026, 1, 1), "2026", 365),  # a year: 1 Jan 2026 to 1 Jan 2027
        (date(2026, 10, 25), "2026-W43", 1),  # ISO week 43 of 2026 ends on Sunday 25 Oct
    ],
)
def test_review_overdue_days(next_review, period, expected):
    assert review_overdue_days(next_review, Period.parse(period, "UTC")) == expected


def test_the_period_ends_in_the_org_time_zone():
    # November in Auckland ends at 11:00 UTC on 30 Nov; a review due on 30 Nov is a day late all the same.
    assert review_overdue_days(date(2026, 11, 30), Period.parse("2026-11", "Pacific/Auckland")) == 1


@pytest.fixture
def reviewed(tmp_path: Path):
    workbench = make_workbench(tmp_path, {"api": "platform"})
    documents = {
        "documents": {
            "api-availability": {
                "status": "Published",
                "reviewed": "2025-10-01",
                "next_review": "2026-10-01",
            }
        }
    }
    (tmp_path / "params" / "slo_documents.yaml").write_text(yaml.safe_dump(documents), encoding="utf-8")
    ingest_small(workbench, [], sli_at="2026-11-02T10:00:00Z")
    from srelib.config import Workbench

    return Workbench.load(tmp_path)


def test_an_overdue_review_is_in_the_summary_and_said_where_the_slo_is_shown(reviewed):
    cache = SummaryCache(reviewed)
    november = cache.get(Period.parse("2026-11", "UTC"), None)
    assert november.slo_specs["api-availability"].review_overdue_days == 61
    messages = narrative.render(november, "monthly_reliability", fmt="text")
    assert "1 SLO review is overdue" in messages and "api-availability (due 2026-10-01, 61 days ago)" in messages
    fields = rows.slo_document_fields(november, "api-availability")
    assert fields is not None and fields["next_review"] == "2026-10-01 (overdue by 61 days)"
    document = narrative.render(november, "slo_document", fmt="text", slo=fields)
    assert "Its review was due on 2026-10-01 and is 61 days overdue at the end of November 2026" in document
    # The team's own summary (team scorecard, a team's executive summary) says it too.
    team = cache.get(Period.parse("2026-11", "UTC"), "platform")
    assert "api-availability (due 2026-10-01, 61 days ago)" in narrative.render(team, "monthly_reliability")
    # September: the review was not yet due.
    september = cache.get(Period.parse("2026-09", "UTC"), None)
    assert september.slo_specs["api-availability"].review_overdue_days is None
    assert "review" not in narrative.render(september, "monthly_reliability")
    fields = rows.slo_document_fields(september, "api-availability")
    assert fields is not None and fields["next_review"] == "2026-10-01"
