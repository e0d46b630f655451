"""Honest before/after comparisons: sample sizes, the median difference and how sure we are.

Incident durations are few and skewed, so means mislead (Google, "Incident Metrics in SRE",
2021; the VOID report, 2021/2022): a comparison leads with medians, gives both sample sizes,
a 95 % bootstrap confidence interval of the difference of medians (``after − before``,
percentile method, 10,000 resamples with a fixed seed, so the same data always give the same
interval) and the two-sided Mann–Whitney U p-value (scipy). A verdict of ``improved`` or
``worsened`` needs the interval to exclude zero; otherwise it is ``no_clear_change``, and with
fewer than ``MIN_SAMPLE`` values on either side it is ``too_few``.

Each resample's median is drawn from its exact distribution instead of by drawing n values and
sorting them: a bootstrap value is the sorted sample's element at position ⌊n·U⌋ for a uniform
U, so the resample's k-th smallest value sits at ⌊n·U₍ₖ₎⌋, where the uniform order statistic
U₍ₖ₎ follows Beta(k, n + 1 − k), and the next one is U₍ₖ₊₁₎ = U₍ₖ₎ + (1 − U₍ₖ₎)·Beta(1, n − k)
(the least of the n − k uniforms above it). That is the same bootstrap, in O(resamples) time
whatever the sample size (David and Nagaraja, *Order Statistics*, 3rd ed., 2003, §2.2–2.3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

MIN_SAMPLE = 5
RESAMPLES = 10_000
SEED = 20261127
Z95 = 1.959964  # the standard normal's 97.5th percentile

Verdict = Literal["improved", "worsened", "no_clear_change", "too_few"]


@dataclass(frozen=True)
class Comparison:
    """``after`` against ``before``; differences are after − before, in the values' unit."""

    n_before: int
    n_after: int
    median_before: float | None
    median_after: float | None
    median_difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: Verdict
    lower_is_better: bool = True


def compare(before: Sequence[float], after: Sequence[float], lower_is_better: bool = True) -> Comparison:
    """Compare two samples (e.g. minutes to resolve before and after the SRE programme)."""
    a = np.asarray([float(x) for x in before if x is not None and np.isfinite(x)])
    b = np.asarray([float(x) for x in after if x is not None and np.isfinite(x)])
    median_a = _round(np.median(a)) if a.size else None
    median_b = _round(np.median(b)) if b.size else None
    if a.size < MIN_SAMPLE or b.size < MIN_SAMPLE:
        difference = None if median_a is None or median_b is None else _round(median_b - median_a)
        return Comparison(a.size, b.size, median_a, median_b, difference, None, None, None, "too_few", lower_is_better)
    low, high = _bootstrap_interval(a, b)
    from scipy import stats  # imported when a comparison is made: it takes most of a second

    p_value = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    verdict = verdict_of(low, high, 0.0, lower_is_better)
    return Comparison(
        int(a.size),
        int(b.size),
        median_a,
        median_b,
        _round(float(np.median(b) - np.median(a))),
        _round(low),
        _round(high),
        round(p_value, 6),
        verdict,
        lower_is_better,
    )


def _bootstrap_interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """95 % percentile interval of median(b*) − median(a*), both groups resampled independently."""
    rng = np.random.default_rng(SEED)
    diffs = bootstrap_medians(rng, b, RESAMPLES) - bootstrap_medians(rng, a, RESAMPLES)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)


def bootstrap_medians(rng: np.random.Generator, sample: np.ndarray, resamples: int) -> np.ndarray:
    """The medians of ``resamples`` bootstrap resamples of ``sample`` (each n values drawn with
    replacement), drawn from the exact distribution of the resample's middle order statistics."""
    ordered = np.sort(np.asarray(sample, dtype=float))
    n = ordered.size
    k = (n + 1) // 2  # the (lower) middle rank, 1-based
    lower = rng.beta(k, n + 1 - k, resamples)
    if n % 2:
        return ordered[_position(lower, n)]
    upper = lower + (1 - lower) * rng.beta(1, n - k, resamples)
    return (ordered[_position(lower, n)] + ordered[_position(upper, n)]) / 2


def _position(uniform: np.ndarray, n: int) -> np.ndarray:
    """The sorted sample's position ⌊n·u⌋ a uniform u picks (u = 1, of probability 0, is the last)."""
    return np.minimum((uniform * n).astype(np.int64), n - 1)


def _round(value: float) -> float:
    return round(float(value), 4)


@dataclass(frozen=True)
class RateComparison:
    """Event counts over two spans, as rates: after ÷ before per day, with its 95 % interval."""

    count_before: int
    days_before: float
    count_after: int
    days_after: float
    rate_ratio: float | None  # (after per day) ÷ (before per day)
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: Verdict
    lower_is_better: bool = True


def compare_rates(
    count_before: int, days_before: float, count_after: int, days_after: float, lower_is_better: bool = True
) -> RateComparison:
    """Two Poisson counts compared exactly: given their total, the after-count is binomial with
    p = days_after ÷ (days_before + days_after) under equal rates (the conditional test). The
    Clopper–Pearson interval of that proportion becomes an interval of the rate ratio. A verdict
    needs the interval to exclude 1; with fewer than 5 events in all it is ``too_few``."""
    total = count_before + count_after
    if total < MIN_SAMPLE or days_before <= 0 or days_after <= 0:
        ratio = (
            None if count_before == 0 or days_after <= 0 else (count_after / days_after) / (count_before / days_before)
        )
        return RateComparison(
            count_before,
            days_before,
            count_after,
            days_after,
            _maybe(ratio),
            None,
            None,
            None,
            "too_few",
            lower_is_better,
        )
    share = days_after / (days_before + days_after)
    from scipy import stats

    test = stats.binomtest(count_after, total, share)
    interval = test.proportion_ci(confidence_level=0.95, method="exact")
    scale = days_before / days_after

    def to_ratio(p: float) -> float | None:
        return None if p >= 1 else p / (1 - p) * scale

    ratio = None if count_before == 0 else (count_after / days_after) / (count_before / days_before)
    low, high = to_ratio(interval.low), to_ratio(interval.high)
    if high is not None and high < 1:
        verdict: Verdict = "improved" if lower_is_better else "worsened"
    elif low is not None and low > 1:
        verdict = "worsened" if lower_is_better else "improved"
    else:
        verdict = "no_clear_change"
    return RateComparison(
        count_before,
        round(days_before, 4),
        count_after,
        round(days_after, 4),
        _maybe(ratio),
        _maybe(low),
        _maybe(high),
        round(float(test.pvalue), 6),
        verdict,
        lower_is_better,
    )


def _maybe(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


@dataclass(frozen=True)
class MeanComparison:
    """Two samples of scores (e.g. survey answers on a 1–5 scale) compared by their means: the
    difference after − before with Welch's 95 % interval (unequal variances)."""

    n_before: int
    n_after: int
    mean_before: float | None
    mean_after: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: Verdict
    lower_is_better: bool = False


def compare_means(before: Sequence[float], after: Sequence[float], lower_is_better: bool = False) -> MeanComparison:
    """Welch's t-test of ``after`` against ``before`` (scipy), its interval of the difference of
    means; a verdict needs the interval to exclude zero, and ``MIN_SAMPLE`` scores on each side.
    Scores on a bounded scale are means of many small integers: their mean is near normal long
    before their median says anything (a 1–5 median moves in steps of a whole point)."""
    a = np.asarray([float(x) for x in before if x is not None and np.isfinite(x)])
    b = np.asarray([float(x) for x in after if x is not None and np.isfinite(x)])
    mean_a = _round(a.mean()) if a.size else None
    mean_b = _round(b.mean()) if b.size else None
    difference = None if mean_a is None or mean_b is None else _round(b.mean() - a.mean())
    if a.size < MIN_SAMPLE or b.size < MIN_SAMPLE:
        return MeanComparison(a.size, b.size, mean_a, mean_b, difference, None, None, None, "too_few", lower_is_better)
    if np.ptp(a) == 0 and np.ptp(b) == 0:  # no spread at all: the difference is what it is
        low = high = float(b[0] - a[0])
        p_value = 1.0 if low == 0 else 0.0
    else:
        from scipy import stats

        test = stats.ttest_ind(b, a, equal_var=False)
        interval = test.confidence_interval(0.95)
        low, high, p_value = float(interval.low), float(interval.high), float(test.pvalue)
    return MeanComparison(
        int(a.size),
        int(b.size),
        mean_a,
        mean_b,
        difference,
        _round(low),
        _round(high),
        round(p_value, 6),
        verdict_of(low, high, 0.0, lower_is_better),
        lower_is_better,
    )


@dataclass(frozen=True)
class ProportionComparison:
    """Two proportions (e.g. change failure rates) compared: after − before with Newcombe's hybrid
    score interval."""

    events_before: int
    n_before: int
    events_after: int
    n_after: int
    rate_before: float | None
    rate_after: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: Verdict
    lower_is_better: bool = True


def compare_proportions(
    events_before: int, n_before: int, events_after: int, n_after: int, lower_is_better: bool = True
) -> ProportionComparison:
    """The difference of two independent proportions with the 95 % interval of Newcombe's method 10
    (R. G. Newcombe, "Interval estimation for the difference between independent proportions",
    Statistics in Medicine 17, 1998): each proportion's Wilson score interval, combined. It keeps
    its coverage with few events and at 0 % or 100 %, where the simple Wald interval fails. A
    verdict needs the interval to exclude zero and ``MIN_SAMPLE`` trials on each side."""
    rate_a = events_before / n_before if n_before else None
    rate_b = events_after / n_after if n_after else None
    difference = None if rate_a is None or rate_b is None else rate_b - rate_a
    if n_before < MIN_SAMPLE or n_after < MIN_SAMPLE or rate_a is None or rate_b is None or difference is None:
        return ProportionComparison(
            events_before,
            n_before,
            events_after,
            n_after,
            _maybe(rate_a),
            _maybe(rate_b),
            _maybe(difference),
            None,
            None,
            "too_few",
            lower_is_better,
        )
    low_a, high_a = wilson_interval(events_before, n_before)
    low_b, high_b = wilson_interval(events_after, n_after)
    low = difference - math.sqrt((rate_b - low_b) ** 2 + (high_a - rate_a) ** 2)
    high = difference + math.sqrt((high_b - rate_b) ** 2 + (rate_a - low_a) ** 2)
    return ProportionComparison(
        events_before,
        n_before,
        events_after,
        n_after,
        _maybe(rate_a),
        _maybe(rate_b),
        _maybe(difference),
        _maybe(low),
        _maybe(high),
        verdict_of(low, high, 0.0, lower_is_better),
        lower_is_better,
    )


def wilson_interval(events: int, n: int) -> tuple[float, float]:
    """The Wilson score 95 % interval of the proportion ``events`` ÷ ``n`` (n > 0)."""
    p = events / n
    z2 = Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def verdict_of(low: float, high: float, none: float, lower_is_better: bool) -> Verdict:
    """``improved`` or ``worsened`` when [low, high] excludes ``none`` (the value of no change)."""
    if low <= none <= high:
        return "no_clear_change"
    went_down = high < none
    return "improved" if went_down == lower_is_better else "worsened"
