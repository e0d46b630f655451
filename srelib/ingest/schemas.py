"""The canonical input files (docs/architecture.md, "Canonical inputs"), as data.

Each :class:`FileSchema` says which columns a file has, which are required, their types,
the key that identifies a row (re-ingesting a row with the same key replaces it), the
orderings between timestamps that must hold and, for tables of line items, the columns summed
over the rows that share a key. Validation (:mod:`srelib.ingest.validate`) and the warehouse tables
(:mod:`srelib.ingest.warehouse`) are both generated from these. No file is required: a team starts
with what it has.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from srelib.config import Activities

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")
# The activity kinds an engagement row may name when params/activities.yaml configures none.
ENGAGEMENT_KINDS = tuple(Activities().kinds)
ENGAGEMENT_ALIASES = tuple(sorted(Activities().aliases.items()))

SQL_TYPES = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "count": "BIGINT",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
    "object": "VARCHAR",  # a JSON object, stored as JSON text with sorted keys
    "rrule": "VARCHAR",  # an RFC 5545 recurrence rule (FREQ=WEEKLY;BYDAY=SU), at most hourly
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"  # text | timestamp | date | count | number | bool | object | rrule
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    names_an_slo: bool = False  # the value must be the name of an SLO in the specs
    choices_from: str | None = None  # where the choices are configured, for the message
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, choice): read as the choice it names

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Ordering:
    """``later`` must not be before ``earlier`` when both are present (``strict``: must be after it)."""

    earlier: str
    later: str
    strict: bool = False


@dataclass(frozen=True)
class Bound:
    """``column`` must not be greater than ``limit`` when both are present."""

    column: str
    limit: str


@dataclass(frozen=True)
class FileSchema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    orderings: tuple[Ordering, ...] = ()
    bounds: tuple[Bound, ...] = ()
    # What a row repeating the key is reported as, when the table names it itself
    # (default: "duplicate <key column> ..." or "duplicate row for key (...)").
    duplicate: str | None = None
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
    # A column that, where a row gives it, identifies the row alone instead of the key (a tracker's
    # issue key): two rows are the same when both give it and it is equal, or when either lacks it
    # and their keys are equal. An edited summary then replaces its row instead of leaving the old one.
    identity: str | None = None
    # Groups of columns of which each row must give at least one (a correction names an SLO or a service).
    one_of: tuple[tuple[str, ...], ...] = ()

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
        Column("slo", required=True, names_an_slo=True),
        Column("good", "count", required=True, minimum=0),
        Column("total", "count", required=True, minimum=0),
    ),
    key=("slo", "timestamp"),
    bounds=(Bound("good", "total"),),
    duplicate="duplicate bucket for this slo and timestamp: already on an earlier row",
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
        Column(
            "kind",
            required=True,
            choices=ENGAGEMENT_KINDS,
            choices_from="params/activities.yaml",
            aliases=ENGAGEMENT_ALIASES,
        ),
        Column("title"),
        Column("team"),
        Column("reached", "count", required=True, minimum=0),
        Column("audience", "count", minimum=0),
        Column("service"),  # the service a review or launch support was for (production readiness reviews)
    ),
    key=("date", "kind", "title", "team", "service"),
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

# Post-incident follow-up: the action items of postmortems (a Jira or tracker export through the
# generic adapter). An action names its incident; an incident not (yet) in the warehouse is no
# error: the tracker's export may run ahead of the incident export, and the metrics count it apart.
ACTIONS = FileSchema(
    "actions",
    (
        Column("incident_id", required=True),
        Column("action", required=True),  # what is to be done, as the tracker's summary says it
        Column("owner"),
        Column("due", "date"),  # the last day to close it on time, in the org time zone
        Column("created_at", "timestamp"),
        Column("closed_at", "timestamp"),  # empty: still open
        Column("action_id"),  # the tracker's key (PM-123)
        Column("team"),
        Column("url"),
    ),
    key=("incident_id", "action"),
    identity="action_id",
    duplicate=(
        "duplicate action item (the same action_id, or without one incident_id and action): already on an earlier row"
    ),
    orderings=(Ordering("created_at", "closed_at"),),
)

# Launches: a service (or a feature of it) going live, reviewed before or not.
LAUNCHES = FileSchema(
    "launches",
    (
        Column("launch_id", required=True),
        Column("service", required=True),
        Column("launched_at", "timestamp", required=True),
        Column("title"),
        Column("team"),
    ),
    key=("launch_id",),
)

# SLO corrections: windows whose SLI buckets count for no SLO figure (maintenance, false positives,
# a dependency's outage), once or repeating by an RFC 5545 rule in the org's time zone
# (srelib.ingest.corrections; docs/metrics.md, "Corrections").
CORRECTION_KINDS = ("maintenance", "false_positive", "dependency", "other")
CORRECTIONS = FileSchema(
    "corrections",
    (
        Column("slo", names_an_slo=True),  # empty: every SLO of the service
        Column("service"),
        Column("start", "timestamp", required=True),
        Column("end", "timestamp", required=True),  # exclusive
        Column("rrule", "rrule"),  # repeats the window from start on, e.g. FREQ=WEEKLY;BYDAY=SU
        Column("reason"),
        Column("kind", choices=CORRECTION_KINDS),  # empty: other
    ),
    key=("slo", "service", "start", "rrule"),
    orderings=(Ordering("start", "end", strict=True),),
    one_of=(("slo", "service"),),
    duplicate="duplicate correction (the same slo, service, start and rrule): already on an earlier row",
)

# What followed from the error budget policy: a decision about a service on a day (a release
# freeze, a reliability sprint, an accepted risk), by whom (srelib.metrics.ledger; docs/metrics.md,
# "Policy ledger").
DECISIONS = FileSchema(
    "decisions",
    (
        Column("date", "date", required=True),
        Column("service", required=True),
        Column("decision", required=True),
        Column("by"),
        Column("note"),
    ),
    key=("date", "service", "decision"),
    duplicate="duplicate decision (the same date, service and decision): already on an earlier row",
)

# Notes a team wants drawn on the SLO charts at a moment (a config change, a traffic peak, a
# vendor's outage), for one SLO or every SLO of a service (srelib.metrics.annotations).
ANNOTATIONS = FileSchema(
    "annotations",
    (
        Column("time", "timestamp", required=True),
        Column("slo", names_an_slo=True),  # empty: every SLO of the service
        Column("service"),
        Column("text", required=True),
    ),
    key=("time", "slo", "service", "text"),
    one_of=(("slo", "service"),),
    duplicate="duplicate annotation (the same time, slo, service and text): already on an earlier row",
)

TABLES: dict[str, FileSchema] = {
    s.name: s
    for s in (
        INCIDENTS,
        SLI,
        DEPLOYMENTS,
        AUTOMATION_RUNS,
        COSTS,
        ENGAGEMENT,
        SURVEYS,
        ADOPTION,
        ACTIONS,
        LAUNCHES,
        CORRECTIONS,
        DECISIONS,
        ANNOTATIONS,
    )
}


def configured_tables(activities: Activities | None = None) -> dict[str, FileSchema]:
    """:data:`TABLES` with the ``engagement`` kinds of ``params/activities.yaml`` (its kinds are the
    choices, its aliases read as the kinds they name); the default kinds when None."""
    if activities is None:
        return TABLES
    kind = replace(
        ENGAGEMENT.column("kind"), choices=tuple(activities.kinds), aliases=tuple(sorted(activities.aliases.items()))
    )
    columns = tuple(kind if c.name == "kind" else c for c in ENGAGEMENT.columns)
    return {**TABLES, "engagement": replace(ENGAGEMENT, columns=columns)}
