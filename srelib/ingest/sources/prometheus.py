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
SLO and the query, and nothing is ingested. An answer is not trusted either:

- It is read as a stream and refused past ``max_response_mb`` (default 8 MB; a one-series answer
  of 10,000 points is about 0.3 MB), so a huge body cannot exhaust memory.
- Every sample must be at one of the times asked for (a step of the requested range), once: a
  faulty or spoofed server cannot rewrite other buckets, which re-ingest would replace by key.
- A bearer token (or a login in the URL) is not sent over plain ``http://`` unless the source
  says ``allow_insecure: true``, and then with a warning.
- Messages quote the server and httpx only through :func:`srelib.redact.redact`: the token, and
  the userinfo, path and query of any URL, never appear.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from srelib.errors import Problem, PrometheusError
from srelib.ingest.sources import register
from srelib.ingest.sources.base import Adapter, Extract, SourceOptions
from srelib.ingest.specs import SloSpec, parse_duration
from srelib.redact import redact, url_secrets

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
    allow_insecure: bool = False  # send the token (or a login in the URL) over plain http://, with a warning
    max_points: int = 10_000
    max_response_mb: float = Field(default=8, gt=0, le=1024)

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
        try:
            host = httpx.URL(value).host
        except httpx.InvalidURL:
            host = ""  # httpx's words may quote a piece of a login (a '/' in a password): not repeated
        if not host:
            raise ValueError("not a valid URL (a login in it must be percent-encoded)")
        return value.rstrip("/")


def _why_no_queries(slo: SloSpec) -> str:
    """Why an SLO's spec gives no queries to run, for the note that says it was not fetched."""
    reasons = {
        "threshold": "a threshold metric: its SLI rows must come from elsewhere",
        "plugin": "an SLI by Sloth plugin: its SLI rows must come from elsewhere",
        "raw": "a raw error-ratio SLI: give good/total queries under queries:",
    }
    return reasons.get(slo.indicator_kind, "its spec has no good/total or bad/total Prometheus queries")


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
        insecure = _credentials_in_clear(options)
        if insecure and not options.allow_insecure:
            key, what = insecure
            extract.problems.append(
                Problem(
                    file,
                    None,
                    key,
                    f"{what} would cross the network unencrypted (http://): use https://, or set "
                    "allow_insecure: true in this source's entry of params/sources.yaml (a trusted network only)",
                )
            )
            return extract
        if insecure:
            extract.notes.append(f"warning: {insecure[1]} is sent unencrypted over http:// (allow_insecure: true)")
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
                    said = redact(exc.message, token, *url_secrets(options.url))
                    extract.problems.append(Problem(file, None, column, said))
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
        start, end = _epoch(lo) + self.step, _epoch(hi) + self.step
        params = {"query": query, "start": str(start), "end": str(end), "step": f"{self.step}s"}
        limit = int(options.max_response_mb * 1024 * 1024)
        try:
            with client.stream("GET", "/api/v1/query_range", params=params) as response:
                status = response.status_code
                content = _read_at_most(response, limit)
        except httpx.TimeoutException as exc:
            raise PrometheusError(f"Prometheus at {options.url} did not answer within {options.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {options.url}: {exc}") from exc
        if content is None:
            raise PrometheusError(
                f"the answer is larger than {options.max_response_mb:g} MB (max_response_mb), and was not read: "
                f"a query returning many series, or a server that is not Prometheus? (query: {query})",
                which,
            )
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PrometheusError(f"{options.url} answered HTTP {status} without a Prometheus API response")
        if body.get("status") != "success":
            raise PrometheusError(
                f"Prometheus answered HTTP {status} {body.get('errorType', 'error')}: "
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
        series = result[0] if result and isinstance(result[0], dict) else {}
        values: dict[int, float] = {}
        unasked: list[float] = []
        try:
            for ts, value in series.get("values") or []:
                moment = _sample_time(ts)
                if not start <= moment <= end or (moment - start) % self.step:
                    unasked.append(moment)
                elif int(moment) in values:
                    repeated = _iso_epoch(moment)
                    raise PrometheusError(f"the answer repeats the sample at {repeated} (query: {query})", which)
                else:
                    values[int(moment)] = float(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise PrometheusError(f"the answer has a malformed sample ({exc}) (query: {query})", which) from exc
        if unasked:
            raise PrometheusError(
                f"the answer{_labels(series)} has {len(unasked)} sample(s) at times that were not asked for, "
                f"the first at {_iso_epoch(unasked[0])} (asked: {_iso_epoch(start)} to {_iso_epoch(end)}, "
                f"every {self.step}s): a faulty or spoofed server; nothing from it is kept (query: {query})",
                which,
            )
        return values


def _credentials_in_clear(options: PrometheusOptions) -> tuple[str, str] | None:
    """(key, what) when the source would send a credential over plain http://, else None."""
    if not options.url.lower().startswith("http://"):
        return None
    if options.bearer_token_env:
        return "bearer_token_env", f"the bearer token (${options.bearer_token_env})"
    if "@" in options.url.partition("://")[2].split("/", 1)[0]:
        return "url", "the login in the URL"
    return None


def _read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The answer's body, or None when it is larger than ``limit`` bytes (counted as decoded): a
    declared length that is too large is refused unread, a stream is dropped once past it."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _labels(series: dict[str, Any]) -> str:
    """`` for series {job="api"}`` (nothing for a series without labels, e.g. a sum)."""
    metric = series.get("metric")
    if not isinstance(metric, dict) or not metric:
        return ""
    return " for series {" + ", ".join(f"{k}={str(v)!r}" for k, v in sorted(metric.items())) + "}"


def _iso_epoch(moment: float) -> str:
    try:
        return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError):
        return f"{moment!r} (Unix time)"


def _sample_time(value: Any) -> float:
    """A sample's Unix time (Prometheus sends a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"sample time {value!r} is not a number")
    return float(value)


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
