"""SLI buckets from a live Prometheus, over its HTTP API (``GET /api/v1/query_range``).

For every SLO whose spec carries Prometheus queries (OpenSLO ``ratioMetric`` good/total or
bad/total with a Prometheus ``metricSource``; Sloth's ``events.error_query``/``total_query``)
the adapter asks for one value per bucket, ``step`` = the bucket size, and turns each
sample into an SLI row:

- A sample at time *t* answers for the bucket ``[t − step, t)``; the row's timestamp is the
  bucket start, as in canonical SLI files.
- Only what the warehouse lacks is fetched: from the bucket after the SLO's last one in the
  warehouse (else ``start``, else ``lookback`` before the end) to the last *complete* bucket,
  ``lag`` before now (or before ``end``).
- ``{{.window}}`` in a query (Sloth's placeholder) becomes the bucket size, e.g. ``1m``.
- ``query_unit: count`` (OpenSLO default) means a query returns events per bucket
  (``sum(increase(x[1m]))``); ``per_second`` (Sloth default: its queries are ``rate(...)``)
  means events per second, multiplied by the bucket's seconds.
- Values are rounded to whole events (``increase`` extrapolates); good = total − bad when the
  SLO gives bad events. A good or bad query with no series means no such events (0); a bucket
  without a total sample is not written.
- Long ranges are split into requests of at most ``max_points`` steps (Prometheus refuses more
  than 11,000 points per series).

A Prometheus that is down, slow or answering errors becomes a problem naming the source, the
SLO and the query, and nothing is ingested.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from srelib.errors import Problem
from srelib.slo_spec import SloSpec, parse_duration
from srelib.sources import register
from srelib.sources.base import Adapter, Extract, SourceOptions

QueryUnit = Literal["count", "per_second"]


class Queries(BaseModel):
    """Queries for one SLO that replace (or supply) those of its spec."""

    model_config = ConfigDict(extra="forbid")
    good: str | None = None
    bad: str | None = None
    total: str


class PrometheusOptions(SourceOptions):
    url: str
    bucket: str = "1m"
    start: datetime | None = None
    lookback: str = "30d"
    end: datetime | None = None
    lag: str = "5m"
    slos: list[str] | None = None
    queries: dict[str, Queries] = Field(default_factory=dict)
    query_unit: QueryUnit | None = None
    timeout: float = 30.0
    bearer_token_env: str | None = None
    max_points: int = 10_000

    @field_validator("bucket", "lookback", "lag")
    @classmethod
    def _duration(cls, value: str) -> str:
        _duration(value)
        return value

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamp has no UTC offset (write 2026-10-01T00:00:00Z)")
        return value

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/")


def _why_no_queries(slo: SloSpec) -> str:
    """Why an SLO's spec gives no queries to run, for the note that says it was not fetched."""
    reasons = {
        "threshold": "a threshold metric: its SLI rows must come from elsewhere",
        "plugin": "an SLI by Sloth plugin: its SLI rows must come from elsewhere",
        "raw": "a raw error-ratio SLI: give good/total queries under queries:",
    }
    return reasons.get(slo.indicator_kind, "its spec has no good/total or bad/total Prometheus queries")


class PrometheusError(Exception):
    """A request failed: for one query (``which``), or for every query (``which`` None: stop asking)."""

    def __init__(self, message: str, which: str | None = None):
        super().__init__(message)
        self.message, self.which = message, which


@register
class Prometheus(Adapter):
    kind = "prometheus"
    table = "sli"
    needs_path = False
    Options = PrometheusOptions

    def read(self, path: Path, file: str) -> Extract:
        extract = Extract(self.table, path, file)
        options = self.options
        assert isinstance(options, PrometheusOptions)
        self.step = int(parse_duration(options.bucket).total_seconds())
        if self.step <= 0 or options.max_points < 1:
            extract.problems.append(Problem(file, None, "bucket", "the bucket must be at least 1s"))
            return extract
        slos = self._slos(options, extract)
        if extract.problems:
            return extract
        done = _last_buckets(self.context.warehouse)
        last = _last_complete_bucket(options, self.step)
        digest = hashlib.sha256(options.url.encode())
        token = os.environ.get(options.bearer_token_env, "") if options.bearer_token_env else ""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=options.url, timeout=options.timeout, headers=headers) as client:
            for slo, queries, unit in slos:
                first = self._first_bucket(options, done.get(slo.name), last)
                if first > last:
                    extract.notes.append(f"{slo.name}: up to date (last bucket {_iso(last)})")
                    continue
                try:
                    rows = self._fetch(client, options, slo.name, queries, unit, first, last, extract)
                except PrometheusError as exc:
                    column = "url" if exc.which is None else f"{slo.name}.{exc.which}"
                    extract.problems.append(Problem(file, None, column, exc.message))
                    if exc.which is None:
                        break
                    continue
                for row in rows:
                    extract.records.append(row)
                    digest.update(f"{row['slo']}|{row['timestamp']}|{row['good']}|{row['total']}".encode())
                extract.notes.append(
                    f"{slo.name}: {len(rows)} buckets from {_iso(first)} to {_iso(last + timedelta(seconds=self.step))}"
                )
        extract.rows = list(range(1, len(extract.records) + 1))
        extract.columns = {"good": "good", "total": "total", "timestamp": "timestamp", "slo": "slo"}
        extract.digest = digest.hexdigest()
        return extract

    # ---- planning ---------------------------------------------------------------------------

    def _slos(self, options: PrometheusOptions, extract: Extract) -> list[tuple[SloSpec, Queries, QueryUnit]]:
        """The SLOs to fetch, with their queries and unit; problems for those that cannot be fetched."""
        by_name = self.context.slos.by_name()
        wanted = options.slos if options.slos is not None else sorted(by_name)
        result = []
        for name in wanted:
            slo = by_name.get(name)
            if slo is None:
                extract.problems.append(Problem(extract.file, None, "slos", f"no SLO named {name!r} in the SLO specs"))
                continue
            override = options.queries.get(name)
            if override is not None:
                queries = override
            elif slo.total_query and (slo.good_query or slo.bad_query):
                bad = None if slo.good_query else slo.bad_query
                queries = Queries(good=slo.good_query, bad=bad, total=slo.total_query)
            else:
                if options.slos is not None:  # asked for by name: say why it cannot be fetched
                    extract.problems.append(
                        Problem(
                            extract.file,
                            None,
                            f"queries.{name}",
                            "the SLO's spec has no good/total or bad/total Prometheus queries: give them here",
                        )
                    )
                else:  # not asked for by name: say so and go on with the others
                    extract.notes.append(f"not fetched: SLO {name!r} ({_why_no_queries(slo)})")
                continue
            if queries.good is None and queries.bad is None:
                extract.problems.append(Problem(extract.file, None, f"queries.{name}", "needs a good or a bad query"))
                continue
            default_unit: QueryUnit = "per_second" if slo.spec_format == "prometheus/v1" else "count"
            result.append((slo, queries, options.query_unit or default_unit))
        for name in set(options.queries) - set(by_name):
            extract.problems.append(
                Problem(extract.file, None, f"queries.{name}", f"no SLO named {name!r} in the SLO specs")
            )
        return result

    def _first_bucket(self, options: PrometheusOptions, done: datetime | None, last: datetime) -> datetime:
        if done is not None:
            return done + timedelta(seconds=self.step)
        if options.start is not None:
            return _ceil(options.start.astimezone(UTC).replace(tzinfo=None), self.step)
        return _ceil(last - parse_duration(options.lookback) + timedelta(seconds=self.step), self.step)

    # ---- fetching ---------------------------------------------------------------------------

    def _fetch(
        self,
        client: httpx.Client,
        options: PrometheusOptions,
        slo: str,
        queries: Queries,
        unit: QueryUnit,
        first: datetime,
        last: datetime,
        extract: Extract,
    ) -> list[dict[str, Any]]:
        scale = self.step if unit == "per_second" else 1
        named = {"total": queries.total, "good": queries.good, "bad": queries.bad}
        series: dict[str, dict[int, float]] = {}
        for which, query in named.items():
            if query is None:
                continue
            text = query.replace("{{.window}}", options.bucket).replace("{{ .window }}", options.bucket)
            values: dict[int, float] = {}
            for lo, hi in _chunks(first, last, self.step, options.max_points):
                values.update(self._query_range(client, options, text, lo, hi, which))
            series[which] = values
        rows = []
        for end_ts in sorted(series["total"]):
            total = series["total"][end_ts]
            other = series["good"].get(end_ts, 0.0) if "good" in series else series["bad"].get(end_ts, 0.0)
            if math.isnan(total) or math.isnan(other):
                continue  # 0/0 or a gap: Prometheus knows nothing about this bucket
            start = datetime.fromtimestamp(end_ts - self.step, UTC)
            total_n, other_n = round(total * scale), round(other * scale)
            good_n = other_n if "good" in series else total_n - other_n
            where = f"{slo}.{'good' if 'good' in series else 'bad'}"
            if math.isinf(total) or math.isinf(other) or total_n < 0 or other_n < 0 or other_n > total_n:
                extract.problems.append(
                    Problem(
                        extract.file,
                        None,
                        where,
                        f"bucket {start.isoformat().replace('+00:00', 'Z')}: "
                        f"{'good' if 'good' in series else 'bad'} {other!r} and total {total!r} "
                        "are not event counts with 0 ≤ events ≤ total",
                    )
                )
                continue
            rows.append({"timestamp": start.isoformat(), "slo": slo, "good": str(good_n), "total": str(total_n)})
        return rows

    def _query_range(
        self, client: httpx.Client, options: PrometheusOptions, query: str, lo: datetime, hi: datetime, which: str
    ) -> dict[int, float]:
        """The single series ``query`` returns at the ends of buckets ``lo``..``hi``: {end time: value}."""
        params = {
            "query": query,
            "start": str(_epoch(lo) + self.step),
            "end": str(_epoch(hi) + self.step),
            "step": f"{self.step}s",
        }
        try:
            response = client.get("/api/v1/query_range", params=params)
        except httpx.TimeoutException as exc:
            raise PrometheusError(f"Prometheus at {options.url} did not answer within {options.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {options.url}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PrometheusError(
                f"{options.url} answered HTTP {response.status_code} without a Prometheus API response"
            )
        if body.get("status") != "success":
            raise PrometheusError(
                f"Prometheus answered HTTP {response.status_code} {body.get('errorType', 'error')}: "
                f"{body.get('error', '?')} (query: {query})",
                which,
            )
        data = body.get("data")
        if not isinstance(data, dict) or data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
            kind = data.get("resultType") if isinstance(data, dict) else None
            raise PrometheusError(f"expected a range vector (matrix), got {kind!r} (query: {query})", which)
        result = data["result"]
        if len(result) > 1:
            raise PrometheusError(
                f"the query returned {len(result)} series; aggregate it to one, e.g. sum(...) (query: {query})", which
            )
        samples = result[0].get("values") if result and isinstance(result[0], dict) else []
        try:
            return {_sample_time(ts): float(value) for ts, value in samples or []}
        except (TypeError, ValueError, OverflowError) as exc:
            raise PrometheusError(f"the answer has a malformed sample ({exc}) (query: {query})", which) from exc


def _sample_time(value: Any) -> int:
    """A sample's Unix time in whole seconds (Prometheus sends a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"sample time {value!r} is not a number")
    return int(value)


def _last_buckets(warehouse: Path | None) -> dict[str, datetime]:
    """Each SLO's last SLI bucket already in the warehouse (naive UTC)."""
    if warehouse is None or not warehouse.is_file():
        return {}
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'sli'").fetchall():
                return {}
            return dict(con.execute('SELECT slo, max("timestamp") FROM sli GROUP BY slo').fetchall())
    except duckdb.Error:
        return {}  # the ingest itself will say why it cannot open the warehouse


def _last_complete_bucket(options: PrometheusOptions, step: int) -> datetime:
    """The start of the last bucket that ended at least ``lag`` before ``end`` (default: now)."""
    end = (options.end or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    return _floor(end - _duration(options.lag), step) - timedelta(seconds=step)


def _duration(text: str) -> timedelta:
    """A Prometheus-style duration (``90s``, ``5m``, ``28d``); ``0`` or ``0s`` for none."""
    return timedelta(0) if text.strip() in ("0", "0s", "0m") else parse_duration(text)


def _chunks(first: datetime, last: datetime, step: int, max_points: int) -> Iterator[tuple[datetime, datetime]]:
    lo = first
    while lo <= last:
        hi = min(last, lo + timedelta(seconds=step * (max_points - 1)))
        yield lo, hi
        lo = hi + timedelta(seconds=step)


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def _floor(moment: datetime, step: int) -> datetime:
    return datetime.fromtimestamp(_epoch(moment) // step * step, UTC).replace(tzinfo=None)


def _ceil(moment: datetime, step: int) -> datetime:
    return datetime.fromtimestamp(-(-_epoch(moment) // step) * step, UTC).replace(tzinfo=None)


def _iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"
