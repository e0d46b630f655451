"""The canonical input files (DESIGN.md, "Canonical inputs"), as data.

Each :class:`FileSchema` says which columns a file has, which are required, their types,
the key that identifies a row (re-ingesting a row with the same key replaces it), the
orderings between timestamps that must hold and, for tables of line items, the columns summed
over the rows that share a key. Validation (:mod:`srelib.validate`) and the warehouse tables
(:mod:`srelib.warehouse`) are both generated from these. No file is required: a team starts
with what it has.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")
ENGAGEMENT_KINDS = (
    "training",
    "lunch_and_learn",
    "deep_dive",
    "office_hours",
    "workshop",
    "drill",
    "newsletter",
    "blog",
    "doc_page",
)

SQL_TYPES = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "count": "BIGINT",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
    "object": "VARCHAR",  # a JSON object, stored as JSON text with sorted keys
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"  # text | timestamp | date | count | number | bool | object
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Ordering:
    """``later`` must not be before ``earlier`` when both are present."""

    earlier: str
    later: str


@dataclass(frozen=True)
class FileSchema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    orderings: tuple[Ordering, ...] = ()
    heavy: bool = False  # validated and loaded in DuckDB only, never through pandas
    # Line items: rows sharing the key are parts of one row, and these columns are their sums
    # (FOCUS cost rows differ by resource; the workbench keeps one row per key).
    summed: tuple[str, ...] = ()
    # (group column, time column): an ingest replaces, for each group it holds, every row whose
    # time lies within its rows' time range, instead of row by row. An export restated with other
    # tags or fewer services then leaves nothing of the earlier one behind.
    replaced_by: tuple[str, str] | None = None
    # The source adapter that reads the canonical file, when the file is a vendor format (costs: FOCUS).
    reader: str | None = None

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


INCIDENTS = FileSchema(
    "incidents",
    (
        Column("incident_id", required=True),
        Column("title"),
        Column("service", required=True),
        Column("team"),
        Column("severity", required=True, choices=SEVERITIES),
        Column("started_at", "timestamp", required=True),
        Column("detected_at", "timestamp"),
        Column("acknowledged_at", "timestamp"),
        Column("mitigated_at", "timestamp"),
        Column("resolved_at", "timestamp"),
        Column("customer_impact", "bool"),
        Column("cause"),
        Column("postmortem_url"),
    ),
    key=("incident_id",),
    orderings=(
        Ordering("started_at", "detected_at"),
        Ordering("started_at", "acknowledged_at"),
        Ordering("detected_at", "acknowledged_at"),
        Ordering("started_at", "mitigated_at"),
        Ordering("started_at", "resolved_at"),
        Ordering("mitigated_at", "resolved_at"),
    ),
)

SLI = FileSchema(
    "sli",
    (
        Column("timestamp", "timestamp", required=True),
        Column("slo", required=True),
        Column("good", "count", required=True, minimum=0),
        Column("total", "count", required=True, minimum=0),
    ),
    key=("slo", "timestamp"),
    heavy=True,
)

DEPLOYMENTS = FileSchema(
    "deployments",
    (
        Column("deploy_id", required=True),
        Column("service", required=True),
        Column("team"),
        Column("deployed_at", "timestamp", required=True),
        Column("commit_at", "timestamp"),
        Column("succeeded", "bool"),
        Column("incident_id"),
    ),
    key=("deploy_id",),
    orderings=(Ordering("commit_at", "deployed_at"),),
)

AUTOMATION_RUNS = FileSchema(
    "automation_runs",
    (
        Column("automation", required=True),
        Column("team"),
        Column("ran_at", "timestamp", required=True),
        Column("minutes_saved", "number", required=True, minimum=0),
    ),
    key=("automation", "ran_at"),
)

COSTS = FileSchema(
    "costs",
    (
        Column("ChargePeriodStart", "timestamp", required=True),
        Column("ChargePeriodEnd", "timestamp"),
        Column("EffectiveCost", "number", required=True),
        Column("BilledCost", "number"),
        Column("BillingCurrency"),
        Column("ServiceName"),
        Column("ServiceCategory"),
        Column("SubAccountName"),
        Column("Tags", "object"),
    ),
    key=(
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "BillingCurrency",
        "ServiceName",
        "ServiceCategory",
        "SubAccountName",
        "Tags",
    ),
    orderings=(Ordering("ChargePeriodStart", "ChargePeriodEnd"),),
    summed=("EffectiveCost", "BilledCost"),
    replaced_by=("SubAccountName", "ChargePeriodStart"),
    reader="focus",
)

ENGAGEMENT = FileSchema(
    "engagement",
    (
        Column("date", "date", required=True),
        Column("kind", required=True, choices=ENGAGEMENT_KINDS),
        Column("title"),
        Column("team"),
        Column("reached", "count", required=True, minimum=0),
        Column("audience", "count", minimum=0),
    ),
    key=("date", "kind", "title", "team"),
)

SURVEYS = FileSchema(
    "surveys",
    (
        Column("submitted_at", "timestamp", required=True),
        Column("survey", required=True),
        Column("team"),
        Column("question"),
        Column("score", "number", required=True),
    ),
    key=("submitted_at", "survey", "team", "question"),
)

ADOPTION = FileSchema(
    "adoption",
    (
        Column("team", required=True),
        Column("practice", required=True),
        Column("adopted_at", "timestamp", required=True),
    ),
    key=("team", "practice"),
)

TABLES: dict[str, FileSchema] = {
    s.name: s for s in (INCIDENTS, SLI, DEPLOYMENTS, AUTOMATION_RUNS, COSTS, ENGAGEMENT, SURVEYS, ADOPTION)
}
