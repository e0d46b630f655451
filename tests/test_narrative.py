"""Narratives and formatting: natural sentences, the summary's numbers, data shown literally."""

from __future__ import annotations

import pytest

from srelib.metrics.compare import Comparison, compare_rates
from srelib.metrics.incidents import IncidentStats
from srelib.metrics.reliability import CountChange, PeriodComparison, Reliability
from srelib.metrics.slo import SloResult
from srelib.metrics.stats import DurationStats
from srelib.present import format as show
from srelib.present import narrative
from srelib.summary import PeriodSummary, TrendPoint


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (58.4, "58 m"),
        (101.7, "1 h 42 m"),
        (120, "2 h"),
        (0.5, "30 s"),
        (1500, "1 d 1 h"),
        (2880, "2 d"),
        (None, "—"),
    ],
)
def test_minutes(minutes, text):
    assert show.minutes(minutes) == text


def test_attainment_never_prints_a_breach_as_the_target():
    assert show.attainment(0.99864, 0.999) == "99.86 %"
    # Rounded, these would print as "99.90 %", the target itself: a breach is truncated instead.
    assert show.attainment(0.998996, 0.999) == "99.89 %"
    assert show.attainment(0.99899999, 0.999) == "99.89 %"
    assert show.attainment(0.999996, 0.99999) == "99.999 %"  # as many decimals as the target
    assert show.attainment(0.995, 0.99) == "99.50 %"  # binary noise does not truncate 99.5 to 99.49
    assert show.attainment(1.0, 1.0) == "100.00 %"
    assert show.target(0.9995) == "99.95 %" and show.target(1.0) == "100 %"


def _slo(status: str, attainment: float | None, target: float = 0.999) -> SloResult:
    remaining = None if attainment is None else 1 - (1 - attainment) / (1 - target)
    return SloResult(
        service="s",
        team="t",
        target=target,
        budgeting_method="Occurrences",
        good=0,
        total=0,
        attainment=attainment,
        error_budget_remaining=remaining,
        status=status,
    )


def _summary(
    incidents: IncidentStats, slos: dict[str, SloResult], previous: IncidentStats | None = None, team: str | None = None
) -> PeriodSummary:
    prev = TrendPoint(period="2026-09", title="September 2026", incidents=previous, slos={}) if previous else None
    return PeriodSummary(
        period="2026-10",
        start="2026-10-01T00:00:00+00:00",
        end="2026-11-01T00:00:00+00:00",
        team=team,
        teams=["payments"],
        incidents=incidents,
        slos=slos,
        kind="month",
        title="October 2026",
        timezone="UTC",
        org="Test Org",
        previous=prev,
    )


def test_issue_example_sentences():
    now = IncidentStats(
        count=9,
        open=1,
        customer_impacting=2,
        by_severity={"SEV1": 1, "SEV2": 2, "SEV3": 6, "SEV4": 0, "SEV5": 0},
        mttr_minutes=DurationStats(8, 60.0, 58.0, 90.0),
    )
    before = IncidentStats(count=12, mttr_minutes=DurationStats(12, 110.0, 102.0, 200.0))
    slos = {
        "checkout-availability": _slo("breached", 0.99864),
        "search": _slo("breached", 0.9981),
        **{f"ok-{i}": _slo("met", 0.9999) for i in range(7)},
    }
    assert narrative.messages(_summary(now, slos, before)) == [
        "9 incidents started in October 2026, 3 fewer than in September 2026 (12); 1 SEV1 and 2 SEV2 among them. "
        "2 of them affected customers. 1 is still open.",
        "Median time to resolve was 58 m (8 resolved incidents).",
        "2 of 9 SLOs were breached: checkout-availability at 99.86 % against 99.9 %; search at 99.81 % against 99.9 %.",
    ]


def test_empty_period_reads_naturally():
    text = narrative.render(_summary(IncidentStats(), {"a": _slo("no_data", None)}), fmt="text")
    assert "No incidents started in October 2026." in text
    assert "1 SLO had no traffic to measure: a." in text
    for word in ("nan", "None", "NaT", "null"):
        assert word not in text


def test_unresolved_incidents_and_no_slos():
    open_only = IncidentStats(count=2, open=2, by_severity={"SEV1": 0, "SEV2": 0, "SEV3": 2, "SEV4": 0, "SEV5": 0})
    text = narrative.render(_summary(open_only, {}, team="payments"), fmt="text")
    assert "None of this month's incidents has been resolved yet" in text
    assert "No SLOs are defined for team payments." in text


def test_data_values_are_escaped_in_markdown():
    hostile = "<script>alert(1)</script>{{ 7*7 }}_x_"
    text = narrative.render(_summary(IncidentStats(), {hostile: _slo("breached", 0.9)}))
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "49" not in text
    assert "{{ 7*7 }}" in text.replace("\\", "")


def _with_comparisons(
    summary: PeriodSummary, previous: Comparison, baseline: Comparison | None = None
) -> PeriodSummary:
    def span(label: str, title: str, start: str, end: str, mttr: Comparison, other: int) -> PeriodComparison:
        count = CountChange(label, other, float(other), 9 - other, (9 - other) / other)
        rate = compare_rates(other, 31.0, 9, 31.0)
        return PeriodComparison(label, title, start, end, True, count, count, mttr, mttr, rate)

    comparisons = {
        "previous": span("2026-09", "September 2026", "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z", previous, 12)
    }
    if baseline is not None:
        comparisons["baseline"] = span(
            "baseline", "baseline", "2025-05-01T00:00:00Z", "2025-11-01T00:00:00Z", baseline, 40
        )
    return summary.model_copy(update={"reliability": Reliability(comparisons=comparisons)})


FROM_SEPTEMBER = "from 1 h 42 m in September 2026 to 58 m (8 resolved incidents, against 12): a clear change."


@pytest.mark.parametrize(
    ("verdict", "sentence"),
    [
        ("improved", f"Median time to resolve improved {FROM_SEPTEMBER}"),
        ("worsened", f"Median time to resolve worsened {FROM_SEPTEMBER}"),
        (
            "no_clear_change",
            "Median time to resolve was 58 m (8 resolved incidents), against 1 h 42 m in September 2026: "
            "no clear change at these numbers of incidents.",
        ),
        (
            "too_few",
            "Median time to resolve was 58 m (8 resolved incidents); "
            "too few incidents to compare with September 2026 (1 h 42 m).",
        ),
    ],
)
def test_a_change_in_time_to_resolve_is_called_a_change_only_when_the_interval_excludes_zero(verdict, sentence):
    now = IncidentStats(count=9, mttr_minutes=DurationStats(8, 60.0, 58.0, 90.0))
    comparison = Comparison(12, 8, 102.0, 58.0, -44.0, -60.0, -5.0, 0.01, verdict)
    messages = narrative.messages(_with_comparisons(_summary(now, {}), comparison))
    assert sentence in messages


def test_the_baseline_sentence_appears_only_for_a_clear_change():
    now = IncidentStats(count=9, mttr_minutes=DurationStats(8, 60.0, 58.0, 90.0))
    previous = Comparison(12, 8, 102.0, 58.0, -44.0, -60.0, 10.0, 0.2, "no_clear_change")
    clear = Comparison(200, 8, 150.0, 58.0, -92.0, -120.0, -40.0, 0.001, "improved")
    messages = narrative.messages(_with_comparisons(_summary(now, {}), previous, clear))
    assert (
        "Since the SRE programme started, median time to resolve has improved from 2 h 30 m in the baseline "
        "(May–October 2025, 200 resolved incidents) to 58 m, and this month saw 78 % fewer incidents than the "
        "baseline rate (40 for a month this long)."
    ) in messages
    unclear = Comparison(200, 8, 150.0, 58.0, -92.0, -120.0, 4.0, 0.06, "no_clear_change")
    messages = narrative.messages(_with_comparisons(_summary(now, {}), previous, unclear))
    assert not any(m.startswith("Since the SRE programme") for m in messages)


def test_fewer_incidents_is_said_only_when_the_rate_test_is_clear():
    now = IncidentStats(count=9, mttr_minutes=DurationStats(8, 60.0, 58.0, 90.0))
    previous = Comparison(12, 8, 102.0, 58.0, -44.0, -60.0, 10.0, 0.2, "no_clear_change")
    clear = Comparison(200, 8, 150.0, 58.0, -92.0, -120.0, -40.0, 0.001, "improved")
    summary = _summary(now, {})
    # 12 against 9 over equal spans: an exact rate test cannot tell them apart.
    messages = narrative.messages(_with_comparisons(summary, previous, clear).model_copy())
    baseline_only = _with_comparisons(summary, previous, clear)
    assert baseline_only.reliability is not None
    weak = baseline_only.reliability.comparisons["baseline"]
    weak_rate = compare_rates(12, 31.0, 9, 31.0)
    assert weak_rate.verdict == "no_clear_change"
    unclear = baseline_only.model_copy(
        update={
            "reliability": baseline_only.reliability.__class__(
                comparisons={"baseline": weak.__class__(**{**weak.__dict__, "incident_rate": weak_rate})}
            )
        }
    )
    sentence = next(m for m in narrative.messages(unclear) if m.startswith("Since the SRE programme"))
    assert sentence.endswith("to 58 m.") and "fewer" not in sentence
    assert any("fewer incidents" in m for m in messages)
