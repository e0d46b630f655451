"""The validation rules of the canonical tables: each declared once, checked by two backends.

As pandera keeps what a schema declares apart from how each backend checks it, a :class:`Rule`
says what it checks (table, column, the kind of problem, its message) and how each backend finds
the rows that break it: a pandas predicate over the text frame (light tables) and a SQL
predicate over the text table in DuckDB (heavy tables, which never pass through pandas).
:func:`rules` derives every rule of a table from its :class:`~srelib.ingest.schemas.FileSchema`;
:mod:`srelib.ingest.validate` runs them. Both backends see the same text: trimmed, an empty
value is missing (``None``, SQL ``NULL``).

A rule ``after_cast`` compares values (orderings, good ≤ total, keys, SLO names): the SQL
backend checks it on the typed table, once every value has the right type; the pandas backend
compares the values that parse and leaves the others to the value rules.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from srelib.ingest.schemas import Column, FileSchema

OFFSET_REGEX = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"
TRUE = ("true", "t", "yes", "y", "1")
FALSE = ("false", "f", "no", "n", "0")

Mask = Callable[[pd.DataFrame, frozenset[str]], pd.Series]  # (text frame, SLO names) → TRUE per bad row


@dataclass(frozen=True)
class Rule:
    """One rule of one table: where a problem is reported, what it says, how each backend finds it."""

    table: str
    column: str  # the column a problem names
    kind: str  # the kind of problem: begins the message and titles the count of the rest
    bad: Mask  # pandas: TRUE for each row that breaks the rule, given the SLOs' names
    sql: str  # SQL: TRUE for each row that breaks the rule
    message: str = "{kind}: {value!r}"  # str.format with kind and value (the shown value)
    shown: Callable[[pd.DataFrame], pd.Series] | None = None  # pandas: the value shown (default: the column's)
    shown_sql: str | None = None  # SQL: the value shown (default: the column's)
    after_cast: bool = False
    example: tuple[dict[str, str | None], ...] = ()  # changes to a valid row that break only this rule

    def text(self, value: Any) -> str:
        """The problem's message for a row whose shown value is ``value``."""
        return self.message.format(kind=self.kind, value=value)


# ---- values: one pandas and one SQL predicate per column type --------------------------------


def parse_timestamp(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _is_timestamp(value: str) -> bool:
    return parse_timestamp(value) is not None


def _has_offset(value: str) -> bool:
    parsed = parse_timestamp(value)
    return parsed is None or parsed.tzinfo is not None


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value.strip())
        return True
    except ValueError:
        return False


def _is_count(value: str) -> bool:
    text = value.strip()
    return text.isdigit() or (text.endswith(".0") and text[:-2].isdigit())


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _is_bool(value: str) -> bool:
    return value.strip().lower() in TRUE + FALSE


def json_object(value: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _is_json_object(value: str) -> bool:
    return json_object(value) is not None


RRULE_FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY")  # finer ones would repeat too often
RRULE_SQL_FUNCTION = "srelib_bad_rrule"  # the same check, registered in DuckDB for the SQL backend


def is_rrule(value: str) -> bool:
    """An RFC 5545 recurrence rule that dateutil reads (``FREQ=WEEKLY;BYDAY=SU``, ``RRULE:`` optional),
    repeating at most hourly; without ``DTSTART`` (the correction's start is the first window) and
    with ``UNTIL``, if any, as local time without ``Z``, as the windows are repeated in local time."""
    from dateutil.rrule import rrulestr

    text = value.strip()
    frequency = re.search(r"(?i)(?:^|[;:])FREQ=(\w+)", text)
    if "\n" in text or "DTSTART" in text.upper() or not frequency or frequency[1].upper() not in RRULE_FREQUENCIES:
        return False
    try:
        rrulestr(text, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
        return False
    return True


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _missing(column: str) -> Mask:
    return lambda frame, slos: frame[column].isna()


def _not_an_slo(column: str) -> Mask:
    return lambda frame, slos: frame[column].notna() & ~frame[column].isin(slos)


def _each(column: str, ok: Callable[[str], bool]) -> Mask:
    """Rows whose value in ``column`` is present and not ``ok``."""
    return lambda frame, slos: frame[column].map(lambda v: isinstance(v, str) and not ok(v)).astype(bool)


@dataclass(frozen=True)
class _ValueCheck:
    kind: str
    ok: Callable[[str], bool]
    sql: str  # TRUE for a bad value; {v} is the value
    example: str


_TIMESTAMP_CHECKS = (
    _ValueCheck("not an ISO 8601 timestamp", _is_timestamp, "TRY_CAST({v} AS TIMESTAMPTZ) IS NULL", "soon"),
    _ValueCheck(
        "timestamp has no UTC offset (write 2026-10-03T14:05:00Z or +02:00)",
        _has_offset,
        f"TRY_CAST({{v}} AS TIMESTAMPTZ) IS NOT NULL AND NOT regexp_matches({{v}}, '{OFFSET_REGEX}')",
        "2026-10-01T10:00:00",
    ),
)
VALUE_CHECKS: dict[str, tuple[_ValueCheck, ...]] = {
    "text": (),
    "timestamp": _TIMESTAMP_CHECKS,
    "date": (_ValueCheck("not a date (YYYY-MM-DD)", _is_date, "TRY_CAST({v} AS DATE) IS NULL", "2026-13-01"),),
    "count": (_ValueCheck("not a whole number ≥ 0", _is_count, "NOT regexp_full_match({v}, '\\d+(\\.0)?')", "1.5"),),
    "number": (
        _ValueCheck(
            "not a number", _is_number, "TRY_CAST({v} AS DOUBLE) IS NULL OR NOT isfinite(TRY_CAST({v} AS DOUBLE))", "x"
        ),
    ),
    "bool": (_ValueCheck("not true or false", _is_bool, f"lower({{v}}) NOT IN ({_sql_list(TRUE + FALSE)})", "maybe"),),
    "object": (
        _ValueCheck(
            'not a JSON object (write {"team": "payments"}, or leave it empty)',
            _is_json_object,
            "NOT CASE WHEN json_valid({v}) THEN json_type({v}::JSON) = 'OBJECT' ELSE false END",
            "[1]",
        ),
    ),
    "rrule": (
        _ValueCheck(
            "not a recurrence rule: write an RFC 5545 RRULE repeating at most hourly, such as "
            "FREQ=WEEKLY;BYDAY=SU (COUNT=n or UNTIL in local time without Z to end it)",
            is_rrule,
            f"{RRULE_SQL_FUNCTION}({{v}})",
            "FREQ=MINUTELY",
        ),
    ),
}
"""The checks of a present value, by column type (:data:`srelib.ingest.schemas.SQL_TYPES`)."""


def _value_rules(table: str, c: Column) -> list[Rule]:
    v = f'"{c.name}"'
    rules = [
        Rule(
            table,
            c.name,
            check.kind,
            _each(c.name, check.ok),
            f"{v} IS NOT NULL AND ({check.sql.replace('{v}', v)})",
            example=({c.name: check.example},),
        )
        for check in VALUE_CHECKS[c.type]
    ]
    if c.required:
        rules.append(
            Rule(
                table,
                c.name,
                "required value is empty",
                _missing(c.name),
                f"{v} IS NULL",
                message="{kind}",
                example=({c.name: None},),
            )
        )
    if c.type == "number" and c.minimum is not None:
        minimum = c.minimum
        rules.append(
            Rule(
                table,
                c.name,
                f"must be ≥ {minimum:g}",
                _each(c.name, lambda value: not _is_number(value) or float(value) >= minimum),
                f"TRY_CAST({v} AS DOUBLE) < {minimum!r}",
                example=({c.name: f"{minimum - 1:g}"},),
            )
        )
    if c.choices:
        allowed = set(c.choices)
        configured = f" (the ones configured in {c.choices_from})" if c.choices_from else ""
        rules.append(
            Rule(
                table,
                c.name,
                f"unknown value: expected one of {', '.join(c.choices)}{configured}",
                _each(c.name, lambda value: value in allowed),
                f"{v} NOT IN ({_sql_list(c.choices)})",
                message="{kind} (got {value!r})",
                example=({c.name: "none of these"},),
            )
        )
    if c.names_an_slo:
        rules.append(
            Rule(
                table,
                c.name,
                "unknown SLO: not defined in the SLO specs",
                _not_an_slo(c.name),
                f"{v} NOT IN (SELECT name FROM known_slos)",
                after_cast=True,
                example=({c.name: "no such SLO"},),
            )
        )
    return rules


def to_utc(series: pd.Series) -> pd.Series:
    """Text timestamps as naive UTC; what does not parse is NaT."""
    return pd.to_datetime(series, format="ISO8601", utc=True, errors="coerce").dt.tz_convert(None)


def _ordering_rule(schema: FileSchema, earlier: str, later: str, strict: bool = False) -> Rule:
    ordered = {name for o in schema.orderings for name in (o.earlier, o.later)}
    others: dict[str, str | None] = {n: None for n in ordered - {earlier, later} if not schema.column(n).required}

    def bad(frame: pd.DataFrame, slos: frozenset[str]) -> pd.Series:
        a, b = to_utc(frame[earlier]), to_utc(frame[later])
        return a.notna() & b.notna() & ((b <= a) if strict else (b < a))

    return Rule(
        schema.name,
        later,
        f"{later} is not after {earlier}" if strict else f"{later} is before {earlier}",
        bad,
        f'"{later}" <= "{earlier}"' if strict else f'"{later}" < "{earlier}"',
        message="{kind}",
        after_cast=True,
        # the two in the wrong order (strict: equal), the other optional times of the orderings left out
        example=({**others, earlier: "2026-10-01T12:00:00Z", later: f"2026-10-01T1{2 if strict else 1}:00:00Z"},),
    )


def _one_of_rule(schema: FileSchema, columns: tuple[str, ...]) -> Rule:
    """Each row gives at least one of ``columns``."""
    return Rule(
        schema.name,
        columns[0],
        f"give {' or '.join(columns)}: all are empty",
        lambda frame, slos: frame[list(columns)].isna().all(axis=1),
        " AND ".join(f'"{c}" IS NULL' for c in columns),
        message="{kind}",
        example=(dict.fromkeys(columns),),
    )


def _bound_rule(schema: FileSchema, column: str, limit: str) -> Rule:
    checks = [(name, check.ok) for name in (column, limit) for check in VALUE_CHECKS[schema.column(name).type]]

    def bad(frame: pd.DataFrame, slos: frozenset[str]) -> pd.Series:
        # as the SQL backend, which compares typed values: only values of the right type
        valid = pd.Series(True, index=frame.index)
        for name, ok in checks:
            valid &= frame[name].map(lambda v, ok=ok: isinstance(v, str) and ok(v)).astype(bool)
        numbers = frame[valid]
        return valid & (pd.to_numeric(numbers[column]) > pd.to_numeric(numbers[limit])).reindex(
            frame.index, fill_value=False
        )

    def shown(frame: pd.DataFrame) -> pd.Series:
        return frame[column].map(_whole) + " > " + frame[limit].map(_whole)

    return Rule(
        schema.name,
        column,
        f"{column} is greater than {limit}",
        bad,
        f'"{column}" > "{limit}"',
        shown=shown,
        shown_sql=f'"{column}"::VARCHAR || \' > \' || "{limit}"::VARCHAR',
        after_cast=True,
        example=({column: "2", limit: "1"},),
    )


def _whole(value: str | None) -> str:
    return str(int(float(value))) if value is not None else ""


def _key_rules(schema: FileSchema) -> list[Rule]:
    """A repeated key: each row after the first with the same key (pandera's ``exclude_first``)."""
    if schema.summed:  # line items: rows sharing a key are summed, not repeated
        return []
    key = list(schema.key)
    identity = schema.identity
    if identity is None:
        partition = ", ".join(f'"{k}"' for k in key)
    else:  # rows giving the identity are partitioned by it alone; the others by the key
        partition = ", ".join([f'"{identity}"', *(f'CASE WHEN "{identity}" IS NULL THEN "{k}" END' for k in key)])
    sql = f"count(*) OVER (PARTITION BY {partition} ORDER BY _file, _row ROWS UNBOUNDED PRECEDING) > 1"

    def bad(frame: pd.DataFrame, slos: frozenset[str]) -> pd.Series:
        if identity is None:
            return frame.duplicated(subset=key, keep="first")
        given = frame[identity].notna()
        parts = {identity: frame[identity], **{k: frame[k].where(~given) for k in key}}
        return pd.DataFrame(parts).duplicated(keep="first")

    twice: tuple[dict[str, str | None], ...] = ({}, {})
    if schema.duplicate:  # the table names its own repeats (one problem, on the key's last column)
        return [
            Rule(schema.name, key[-1], schema.duplicate, bad, sql, message="{kind}", after_cast=True, example=twice)
        ]
    if len(key) == 1:
        return [
            Rule(
                schema.name,
                key[0],
                f"duplicate {key[0]}",
                bad,
                sql,
                message="{kind} {value!r}: already on an earlier row",
                after_cast=True,
                example=twice,
            )
        ]
    kind = f"duplicate row for key ({', '.join(key)})"
    return [
        Rule(
            schema.name, k, kind, bad, sql, message="{kind}: already on an earlier row", after_cast=True, example=twice
        )
        for k in key
    ]


def rules(schema: FileSchema) -> list[Rule]:
    """Every rule of ``schema``'s table, in the order they are checked."""
    return [
        *(rule for c in schema.columns for rule in _value_rules(schema.name, c)),
        *(_one_of_rule(schema, columns) for columns in schema.one_of),
        *(_ordering_rule(schema, o.earlier, o.later, o.strict) for o in schema.orderings),
        *(_bound_rule(schema, b.column, b.limit) for b in schema.bounds),
        *_key_rules(schema),
    ]
