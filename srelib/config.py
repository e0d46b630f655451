"""The workbench's configuration: the files under ``params/``.

A workbench is a folder with ``params/org.yaml`` at its root (like a dbt project); every
command finds it from the current directory upwards. Paths in params are relative to
that root.

Every YAML file from users (params, SLO specs, ``-p`` values) is read by :func:`load_yaml` or
:func:`load_yaml_documents`: PyYAML's safe loader with aliases and nesting bounded
(:class:`SafeYamlLoader`, docs/security.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from yaml.composer import ComposerError
from yaml.nodes import CollectionNode, Node

from srelib.errors import ConfigError, UsageError
from srelib.period import zone

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ModelT = TypeVar("ModelT", bound=BaseModel)

FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A team, SLO or initiative name that names a folder of outputs/ (``outputs/<period>/teams/<team>``):
letters, digits, '.', '_' and '-', not starting with '.', so never a path of its own."""
FOLDER_NAME_RULE = "only letters, digits, '.', '_' and '-', starting with a letter or digit"

# YAML from users (params/, SLO specs) may use anchors and aliases, but an alias repeats what it
# names without writing it out again, so a few KB of nested aliases ("billion laughs") stand for
# billions of values. Every alias counts the values it repeats; past this many in one file the file
# is refused. Real files repeat a few labels or defaults: hundreds of values.
MAX_ALIASED_VALUES = 10_000
MAX_DEPTH = 100  # nesting levels; PyYAML recurses per level, and no spec or params file nests 20 deep


# libyaml's scanner and parser where PyYAML was built with it (it is, in PyYAML's wheels), else PyYAML's own.
_PARSING: tuple[type, ...] = (
    (yaml._yaml.CParser,) if yaml.__with_libyaml__ else (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)
)


class SafeYamlLoader(yaml.composer.Composer, *_PARSING, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):  # type: ignore[misc]
    """PyYAML's safe loader (plain data, no Python objects), with aliases and nesting bounded:
    an alias to a collection that contains it, aliases that repeat more than
    :data:`MAX_ALIASED_VALUES` values in all, or nesting deeper than :data:`MAX_DEPTH` levels are a
    :class:`yaml.composer.ComposerError` at the alias (or level) that crossed the line.

    The text is scanned and parsed by libyaml (PyYAML's ``CParser``, where PyYAML was built with
    it: a fraction of the pure-Python parser's time) and composed here, event by event, so that
    the bounds hold whichever parser reads.
    """

    def __init__(self, stream: str):
        if yaml.__with_libyaml__:
            yaml._yaml.CParser.__init__(self, stream)
        else:
            yaml.reader.Reader.__init__(self, stream)  # type: ignore[arg-type]
            yaml.scanner.Scanner.__init__(self)  # type: ignore[arg-type]
            yaml.parser.Parser.__init__(self)  # type: ignore[arg-type]
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._aliased = 0  # values repeated by aliases so far, in the whole stream
        self._sizes: dict[int, int] = {}  # id(node) → values in it, aliases expanded (this document)
        self._open: set[str] = set()  # anchors of the collections being composed
        self._depth = 0

    def compose_document(self) -> Node | None:
        self._sizes = {}  # node ids are only unique while a document's nodes live
        return super().compose_document()  # type: ignore[no-any-return]

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                self._refuse(f"alias *{event.anchor} is inside the &{event.anchor} it repeats", event)
            if event.anchor in self.anchors:  # else PyYAML's "found undefined alias"
                self._aliased += self._size(self.anchors[event.anchor])
                if self._aliased > MAX_ALIASED_VALUES:
                    self._refuse(
                        f"aliases repeat more than {MAX_ALIASED_VALUES:,} values (an alias bomb?): "
                        "write the repeated part out, or repeat it less",
                        event,
                    )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        self._depth += 1
        if self._depth > MAX_DEPTH:
            self._refuse(f"nested more than {MAX_DEPTH} levels deep", event)
        opened = event.anchor if isinstance(event, yaml.CollectionStartEvent) else None
        if opened is not None:
            self._open.add(opened)
        try:
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1
            self._open.discard(opened)  # type: ignore[arg-type]

    @staticmethod
    def _refuse(problem: str, event: Any) -> NoReturn:
        raise ComposerError(None, None, problem, event.start_mark)

    def _size(self, node: Node) -> int:
        """The values in ``node`` with its aliases written out (each key and value counts one)."""
        if id(node) not in self._sizes:
            children: list[Node] = []
            if isinstance(node, CollectionNode):
                for item in node.value:
                    children += item if isinstance(item, tuple) else [item]
            self._sizes[id(node)] = 1 + sum(self._size(child) for child in children)
        return self._sizes[id(node)]


def load_yaml(text: str) -> Any:
    """The one YAML document in ``text``, read by :class:`SafeYamlLoader` (``yaml.YAMLError`` if not YAML)."""
    return yaml.load(text, Loader=SafeYamlLoader)  # a SafeLoader, bounded


def load_yaml_documents(text: str) -> Iterator[Any]:
    """Each YAML document in ``text`` (``---`` between them), read by :class:`SafeYamlLoader`."""
    return yaml.load_all(text, Loader=SafeYamlLoader)  # a SafeLoader, bounded


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong with a YAML file, on one line: "invalid YAML at line 3, column 7: found ..."."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}"


class Colours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    primary: str = "#1f4e79"
    accent: str = "#e07a1f"
    good: str = "#2e7d32"
    warning: str = "#f9a825"
    bad: str = "#c62828"
    muted: str = "#9e9e9e"

    @field_validator("*")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _HEX_COLOUR.match(value):
            raise ValueError(f"{value!r} is not a #rrggbb colour")
        return value


class OrgConfig(BaseModel):
    """``params/org.yaml``."""

    model_config = ConfigDict(extra="allow")
    name: str = "Our organisation"
    timezone: str = "UTC"
    colours: Colours = Field(default_factory=Colours)
    warehouse: str = "warehouse/workbench.duckdb"
    data: str = "data"
    outputs: str = "outputs"
    programme_start: date | None = Field(default=None, description="first day of the SRE programme, e.g. 2025-12-01")
    baseline_months: int = Field(
        default=6, ge=1, le=36, description="months before programme_start that are the baseline"
    )
    slo_at_risk_below: float = Field(default=0.25, ge=0, le=1)
    trend_periods: int = Field(default=12, ge=2, le=60)
    # Data quality (docs/metrics.md, "Data quality"): when an SLO's figure rests on too little data.
    sli_min_coverage: float = Field(
        default=0.9, gt=0, le=1, description="an SLO with data in fewer of its period's buckets is flagged"
    )
    sli_gap_minutes: float = Field(
        default=30, gt=0, description="missing SLI buckets this long or longer are listed as a gap"
    )
    low_traffic_events: int | None = Field(
        default=None,
        ge=1,
        description="an SLO with fewer events in a period is flagged as low traffic; "
        "default: per SLO, 1 / (1 - target), below which one bad event spends the whole budget",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value


class Service(BaseModel):
    model_config = ConfigDict(extra="allow")
    team: str
    tier: int | None = None
    description: str | None = None

    @field_validator("team")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        if not FOLDER_NAME.fullmatch(value):  # a team's reports are published in outputs/<period>/teams/<team>
            raise ValueError(f"{value!r}: a team names a folder: {FOLDER_NAME_RULE}")
        return value


class ServiceCatalogue(BaseModel):
    """``params/services.yaml``: which team owns which service."""

    model_config = ConfigDict(extra="forbid")
    services: dict[str, Service] = Field(default_factory=dict)

    def team_of(self, service: str) -> str | None:
        entry = self.services.get(service)
        return entry.team if entry else None

    @property
    def teams(self) -> list[str]:
        """The known teams: those that own a service here. A team named only by data (an incident's
        ``team``) is not one: data never decides which teams exist, nor which folders are made."""
        return sorted({s.team for s in self.services.values()})

    def check_team(self, team: str) -> None:
        """A :class:`UsageError` unless ``team`` is one of :attr:`teams`."""
        if team not in self.teams:
            known = ", ".join(self.teams) or "none (params/services.yaml says which team owns which service)"
            raise UsageError(f"unknown team {team!r}: known teams are {known}")


class Assumption(BaseModel):
    """A figure the value rests on, with the range a finance partner would defend: ``low``,
    ``base`` and ``high`` (low ≤ base ≤ high), or one number for all three."""

    model_config = ConfigDict(extra="forbid")
    low: float = Field(ge=0)
    base: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="before")
    @classmethod
    def _one_number(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"low": value, "base": value, "high": value}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Assumption:
        if not self.low <= self.base <= self.high:
            raise ValueError(f"low ≤ base ≤ high does not hold: {self.low:g}, {self.base:g}, {self.high:g}")
        return self

    @property
    def ranged(self) -> bool:
        return self.low != self.high


def _nothing() -> Assumption:
    return Assumption(low=0.0, base=0.0, high=0.0)


class ValueConfig(BaseModel):
    """``params/value.yaml``: what an hour, a minute of downtime and the programme cost, each a
    number or a range (``{low: 60, base: 120, high: 200}``)."""

    model_config = ConfigDict(extra="forbid")
    currency: str = "USD"
    hourly_rate: Assumption = Field(default_factory=_nothing, description="loaded cost of an engineer hour")
    downtime_cost_per_minute: Assumption = Field(
        default_factory=_nothing, description="customer-impacting incident minute"
    )
    programme_cost_per_month: Assumption = Field(
        default_factory=_nothing, description="people, tools and training of the SRE team"
    )


class Initiative(BaseModel):
    """One improvement initiative in ``params/initiatives.yaml``, with the scope its effect is measured on."""

    model_config = ConfigDict(extra="forbid")
    name: str
    title: str | None = None
    kind: str = Field(default="cost", pattern="^(cost|reliability|automation|practice)$")
    start: date
    services: list[str] = Field(default_factory=list, description="FOCUS ServiceName / incident service; empty: all")
    baseline_days: int = Field(default=90, ge=7, le=730)
    owner: str | None = None
    description: str | None = None


class Initiatives(BaseModel):
    model_config = ConfigDict(extra="forbid")
    initiatives: list[Initiative] = Field(default_factory=list)


class ErrorBudgetPolicy(BaseModel):
    """``params/error_budget_policy.yaml``, after the SRE Workbook's example error budget policy."""

    model_config = ConfigDict(extra="forbid")
    window: str = "28d"  # the trailing window the policy looks at: four weeks
    freeze_when_remaining_below: float = 0.0  # exhausted budget: releases stop
    freeze_exceptions: list[str] = Field(default_factory=lambda: ["P0", "security"])
    single_incident_budget_share: float = Field(default=0.2, gt=0, le=1)  # postmortem with a P0 action above this
    # Which incidents need a postmortem whatever their budget share, and how many days after an
    # incident is resolved its postmortem is due (None: due at once). See srelib.metrics.follow_up.
    postmortem_severities: list[str] = Field(default_factory=lambda: ["SEV1", "SEV2"])
    postmortem_due_days: int | None = Field(default=5, ge=0, le=365)
    # An exhausted budget or an incident over the budget share asks for a decision about the service
    # (the decisions file), recorded within this many days (srelib.metrics.ledger).
    decision_due_days: int = Field(default=2, ge=0, le=365)

    @field_validator("postmortem_severities")
    @classmethod
    def _severities(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")]
        if unknown:
            raise ValueError(f"unknown severity {', '.join(unknown)}: use SEV1 to SEV5")
        return value


class FollowUp(BaseModel):
    """``params/follow_up.yaml``: how post-incident follow-up and launch readiness are judged."""

    model_config = ConfigDict(extra="forbid")
    # A repeat incident: an incident of the same service that started within this many days after an
    # earlier one and matches it by one of ``repeat_match`` (cause: the same cause; title: the same
    # title fingerprint; service: any incident of the service).
    repeat_within_days: int = Field(default=90, ge=1, le=730)
    repeat_match: list[str] = Field(default_factory=lambda: ["cause", "title"], min_length=1)
    launch_window_days: int = Field(default=30, ge=1, le=365)  # incidents counted after each launch
    launch_lookback_days: int = Field(default=365, ge=30, le=1830)  # launches compared: whose window ended in this
    review_kinds: list[str] = Field(
        default_factory=lambda: ["production_readiness_review", "architecture_review", "feature_launch_support"]
    )
    review_before_launch_days: int = Field(default=180, ge=0, le=730)  # a review this long before a launch counts
    prr_kind: str = "production_readiness_review"
    prr_valid_days: int | None = Field(default=None, ge=1, le=1830)  # None: a PRR on record counts for good
    prr_tier: int = 1  # the tier whose services need a PRR

    @field_validator("repeat_match")
    @classmethod
    def _known_match(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - {"cause", "title", "service"})
        if unknown:
            raise ValueError(f"unknown repeat_match {', '.join(unknown)}: use cause, title or service")
        return value

    def problems(self, activities: Activities, written: set[str]) -> list[str]:
        """The activity kinds the file names (``written``: its keys) that params/activities.yaml
        does not configure, by kind or alias. The defaults name the seed's kinds: a workbench that
        configures others simply has no reviews of those kinds."""
        known = set(activities.kinds) | set(activities.aliases)
        named = {"prr_kind": [self.prr_kind], "review_kinds": self.review_kinds}
        return [
            f"{key}: {kind!r} is not an activity kind of params/activities.yaml "
            f"(configured: {', '.join(sorted(activities.kinds))})"
            for key, kinds in named.items()
            if key in written
            for kind in kinds
            if kind not in known
        ]

    def with_kinds(self, activities: Activities) -> FollowUp:
        """Aliases (``prr``) read as the kinds they name, as ingest stores the engagement rows."""
        aliases = activities.aliases
        return self.model_copy(
            update={
                "prr_kind": aliases.get(self.prr_kind, self.prr_kind),
                "review_kinds": [aliases.get(k, k) for k in self.review_kinds],
            }
        )


class Target(BaseModel):
    """A KPI's target: ``target`` is a rate's, or a count's per calendar month; a count may also name
    its own target per week, quarter or year (else they follow from the month's: see
    :func:`srelib.metrics.targets.period_target`)."""

    model_config = ConfigDict(extra="forbid")
    target: float
    higher_is_better: bool = True
    per_week: float | None = Field(default=None, ge=0)
    per_quarter: float | None = Field(default=None, ge=0)
    per_year: float | None = Field(default=None, ge=0)


class Targets(BaseModel):
    """``params/targets.yaml``: the awareness and impact KPIs' targets (per month unless a rate)."""

    model_config = ConfigDict(extra="forbid")
    targets: dict[str, Target] = Field(default_factory=dict)


class SloDocument(BaseModel):
    """What an SLO document says beyond the spec (the SRE Workbook's example SLO document)."""

    model_config = ConfigDict(extra="forbid")
    status: str = "Draft"
    owner: str | None = None
    approvers: list[str] = Field(default_factory=list)
    reviewed: date | None = None
    next_review: date | None = None
    rationale: str | None = None
    caveats: list[str] = Field(default_factory=list)
    weight: float = Field(
        default=1.0, gt=0, description="the SLO's weight in the composite attainment of its service, team and org"
    )


class SloDocuments(BaseModel):
    """``params/slo_documents.yaml``: per SLO name, its document's status, approvers, rationale, caveats."""

    model_config = ConfigDict(extra="forbid")
    documents: dict[str, SloDocument] = Field(default_factory=dict)


class Tip(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    text: str


class Tips(BaseModel):
    """``params/tips.yaml``: the tips the newsletter (month by month) and the weekly digest (week by
    week) take in turn (:mod:`srelib.present.tips`)."""

    model_config = ConfigDict(extra="forbid")
    tips: list[Tip] = Field(default_factory=list)


# ---- params/activities.yaml: the programme's activity kinds and its surveys ----------------------

ACTIVITY_FAMILIES = ("awareness", "education", "engagement", "integration")
ACTIVITY_UNITS = ("sessions", "attendees", "completions", "views")
ACTIVITY_KEY = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
ACTIVITY_KEY_RULE = "a snake_case identifier: lower-case letters and digits joined by '_', starting with a letter"
PERIOD_KINDS = ("week", "month", "quarter", "year")


class CalendarTargets(BaseModel):
    """A target per calendar period kind (``per_month: 2``); the others follow from the ones given
    (:func:`srelib.metrics.targets.period_target`)."""

    model_config = ConfigDict(extra="forbid")
    per_week: float | None = Field(default=None, ge=0)
    per_month: float | None = Field(default=None, ge=0)
    per_quarter: float | None = Field(default=None, ge=0)
    per_year: float | None = Field(default=None, ge=0)


class ActivityKind(BaseModel):
    """One kind of programme activity: what a row of ``engagement`` with this ``kind`` is."""

    model_config = ConfigDict(extra="forbid")
    title: str
    family: Literal["awareness", "education", "engagement", "integration"]
    unit: Literal["sessions", "attendees", "completions", "views"] = Field(
        description="what the kind is measured and targeted in: sessions = rows; the others = Σ reached"
    )
    targets: CalendarTargets = Field(default_factory=CalendarTargets)
    aliases: list[str] = Field(default_factory=list, description="other names rows may use (e.g. pairing)")
    lapses: bool = Field(default=True, description="false for kinds held on demand: their silence is no lapse")

    @field_validator("aliases")
    @classmethod
    def _alias_keys(cls, aliases: list[str]) -> list[str]:
        for alias in aliases:
            if not ACTIVITY_KEY.fullmatch(alias):
                raise ValueError(f"alias {alias!r} is not {ACTIVITY_KEY_RULE}")
        return aliases


class LapseAfter(BaseModel):
    """How many periods in a row without a session make an activity that ran before "lapsed", per
    period kind (a monthly activity is not lapsed after two quiet weeks)."""

    model_config = ConfigDict(extra="forbid")
    week: int = Field(default=6, ge=1, le=52)
    month: int = Field(default=2, ge=1, le=11)
    quarter: int = Field(default=1, ge=1, le=3)
    year: int = Field(default=1, ge=1, le=1)

    def of(self, period_kind: str) -> int:
        return int(getattr(self, period_kind, self.month))


class SurveySetting(BaseModel):
    """A survey the programme runs: its title, its score scale and the target of its mean score."""

    model_config = ConfigDict(extra="forbid")
    title: str
    scale: tuple[float, float] = Field(default=(1, 5), description="lowest and highest score")
    target: float | None = Field(default=None, description="the mean score a question should reach")

    @model_validator(mode="after")
    def _target_on_scale(self) -> SurveySetting:
        low, high = self.scale
        if low >= high:
            raise ValueError(f"scale {list(self.scale)}: the lowest score must be below the highest")
        if self.target is not None and not low <= self.target <= high:
            raise ValueError(f"target {self.target:g} is outside the scale {low:g} to {high:g}")
        return self


def _kind(title: str, family: str, unit: str, *aliases: str, lapses: bool = True) -> ActivityKind:
    return ActivityKind(title=title, family=family, unit=unit, aliases=list(aliases), lapses=lapses)  # type: ignore[arg-type]


def default_activity_kinds() -> dict[str, ActivityKind]:
    """The seed strategy's activities (§2–§5), each family the strategy's section: awareness
    (communications, knowledge sharing, digital presence), engagement (stakeholders), education
    (training and hands-on learning), integration (development process). The kinds of the
    ``engagement`` file before activities were configurable keep their names."""
    return {
        # awareness: §2 Internal marketing
        "newsletter": _kind("Newsletter issue", "awareness", "views"),
        "blog": _kind("Blog post", "awareness", "views", "blog_post"),
        "doc_page": _kind("Wiki or documentation page", "awareness", "views", "wiki_page"),
        "podcast_episode": _kind("Podcast or video episode", "awareness", "views", "video_episode"),
        "lunch_and_learn": _kind("Lunch and learn", "awareness", "attendees"),
        "deep_dive": _kind("Technical deep dive", "awareness", "attendees", "technical_deep_dive"),
        "post_incident_review_workshop": _kind("Post-incident review workshop", "awareness", "attendees"),
        "office_hours": _kind("SRE office hours", "awareness", "attendees", "sre_office_hours"),
        "cross_team_pairing": _kind("Cross-team pairing session", "awareness", "sessions", "pairing"),
        # engagement: §3 Stakeholder engagement
        "integration_workshop": _kind("Integration workshop", "engagement", "attendees"),
        "sre_champions": _kind("SRE champions meeting", "engagement", "attendees", "champions"),
        "joint_planning": _kind("Joint planning session", "engagement", "sessions"),
        "reliability_requirement_workshop": _kind("Reliability requirement workshop", "engagement", "attendees"),
        "slo_planning_session": _kind("SLO planning session", "engagement", "sessions"),
        "feature_launch_support": _kind("Feature launch support", "engagement", "sessions", lapses=False),
        "risk_assessment_consultation": _kind("Risk assessment consultation", "engagement", "sessions", lapses=False),
        "workshop": _kind("Workshop (other)", "engagement", "attendees"),
        # education: §4 Education and training
        "training": _kind("Training session", "education", "attendees"),
        "sre_fundamentals_course": _kind("SRE fundamentals course", "education", "completions"),
        "incident_management_training": _kind("Incident management training", "education", "completions"),
        "slo_workshop_series": _kind("SLO workshop series", "education", "completions"),
        "automation_best_practices": _kind("Automation best practices course", "education", "completions"),
        "chaos_engineering_exercise": _kind("Chaos engineering exercise", "education", "sessions", "chaos_exercise"),
        "on_call_shadowing": _kind("On-call shadowing", "education", "sessions"),
        "drill": _kind("Incident simulation drill", "education", "attendees", "incident_simulation_drill", "game_day"),
        # integration: §5 Cross-functional integration
        "architecture_review": _kind("Architecture review", "integration", "sessions", lapses=False),
        "production_readiness_review": _kind(
            "Production readiness review", "integration", "sessions", "prr", lapses=False
        ),
    }


def default_surveys() -> dict[str, SurveySetting]:
    return {
        "devex": SurveySetting(title="Developer experience"),
        "stakeholder": SurveySetting(title="Stakeholder feedback", target=4.0),
        "csat": SurveySetting(title="Customer satisfaction"),
        "nps": SurveySetting(title="Net promoter (likelihood to recommend)", scale=(0, 10)),
    }


class Activities(BaseModel):
    """``params/activities.yaml``: the activity kinds the programme runs (the ``kind`` of an
    ``engagement`` row), when an activity counts as lapsed, and the surveys it runs. Without the
    file (or a key), the seed strategy's kinds and surveys."""

    model_config = ConfigDict(extra="forbid")
    kinds: dict[str, ActivityKind] = Field(default_factory=default_activity_kinds)
    lapse_after: LapseAfter = Field(default_factory=LapseAfter)
    surveys: dict[str, SurveySetting] = Field(default_factory=default_surveys)

    @field_validator("lapse_after", mode="before")
    @classmethod
    def _one_number_for_every_kind(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):  # `lapse_after: 3`: months
            return {"month": value}
        return value

    @model_validator(mode="after")
    def _names(self) -> Activities:
        if not self.kinds:
            raise ValueError("kinds: configure at least one activity kind (or leave the key out for the defaults)")
        seen: dict[str, str] = {}  # alias → kind
        for key, kind in self.kinds.items():
            if not ACTIVITY_KEY.fullmatch(key):
                raise ValueError(f"kinds.{key}: the kind is not {ACTIVITY_KEY_RULE}")
            for alias in kind.aliases:
                if alias in self.kinds:
                    raise ValueError(f"kinds.{key}: alias {alias!r} is itself a configured kind")
                if alias in seen:
                    raise ValueError(f"kinds.{key}: alias {alias!r} already names kind {seen[alias]!r}")
                seen[alias] = key
        return self

    @property
    def aliases(self) -> dict[str, str]:
        """Each alias → the kind it names."""
        return {alias: key for key, kind in self.kinds.items() for alias in kind.aliases}


# ---- params/programme.yaml: the SRE programme's plan and its success criteria ---------------------

PROGRAMME_KEY_RULE = ACTIVITY_KEY_RULE
EVIDENCE_KINDS = ("activity", "report", "table", "survey", "metric", "any_of")
COMPARISONS = ("at_least", "above", "at_most", "below", "equals")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, its day of the month kept (or the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - date(year, month, 1)).days))


class ProgrammePhase(BaseModel):
    """A phase of the plan: programme months ``[first, last]`` (1 = the month programme_start begins),
    or calendar dates ``start`` and ``end`` (its last day)."""

    model_config = ConfigDict(extra="forbid")
    title: str
    months: tuple[int, int] | None = Field(default=None, description="first and last programme month, 1-based")
    start: date | None = None
    end: date | None = Field(default=None, description="the phase's last day")

    @model_validator(mode="after")
    def _one_span(self) -> ProgrammePhase:
        if (self.months is None) == (self.start is None or self.end is None):
            raise ValueError("give either months: [first, last] or both start and end (dates)")
        if self.months is not None and not 1 <= self.months[0] <= self.months[1]:
            raise ValueError(f"months {list(self.months)}: the first month is 1 or later, and not after the last")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def span(self, programme_start: date | None) -> tuple[date, date]:
        """The phase's first and last day."""
        if self.start is not None and self.end is not None:
            return self.start, self.end
        assert self.months is not None and programme_start is not None  # checked by Workbench.load
        first, last = self.months
        return add_months(programme_start, first - 1), add_months(programme_start, last) - timedelta(days=1)


class Evidence(BaseModel):
    """What in the data shows a milestone met, and when first: exactly one of
    ``activity`` (an ``engagement`` row of that kind; ``count`` rows, or rows for ``teams`` teams),
    ``report`` (a published run of the report in ``outputs/runs.jsonl``),
    ``table`` (the canonical table's first row), ``survey`` (the survey's first response; ``count``
    responses), ``metric`` (a PeriodSummary path meeting a comparison, in the earliest period the
    summary holds it for) or ``any_of`` (whichever of several rules came first)."""

    model_config = ConfigDict(extra="forbid")
    activity: str | None = None
    report: str | None = None
    table: str | None = None
    survey: str | None = None
    metric: str | None = None
    any_of: list[Evidence] | None = None
    count: int = Field(default=1, ge=1, description="activity or survey: this many rows or responses")
    teams: int | None = Field(default=None, ge=1, description="activity: rows for this many different teams")
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None
    equals: float | bool | str | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> Evidence:
        given = [k for k in EVIDENCE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(EVIDENCE_KINDS)} (got {', '.join(given) or 'none'})")
        compared = [k for k in COMPARISONS if getattr(self, k) is not None]
        if given[0] == "metric" and len(compared) != 1:
            raise ValueError(f"metric evidence needs exactly one of {', '.join(COMPARISONS)}")
        if given[0] != "metric" and compared:
            raise ValueError(f"{', '.join(compared)} applies to metric evidence only")
        if self.teams is not None and given[0] != "activity":
            raise ValueError("teams applies to activity evidence only")
        if self.any_of is not None and not self.any_of:
            raise ValueError("any_of: list at least one rule")
        return self

    @property
    def rule(self) -> str:
        return next(k for k in EVIDENCE_KINDS if getattr(self, k) is not None)

    def comparison(self) -> tuple[str, float | bool | str]:
        key = next(k for k in COMPARISONS if getattr(self, k) is not None)
        return key, getattr(self, key)

    def leaves(self) -> list[Evidence]:
        """The simple rules in this one (an ``any_of``'s, recursively, or itself)."""
        return [leaf for rule in self.any_of for leaf in rule.leaves()] if self.any_of else [self]


class Milestone(BaseModel):
    """A milestone of the plan: due at its phase's end, or at the end of programme month ``due_month``,
    or on the day ``due``; met when its ``evidence`` first shows in the data."""

    model_config = ConfigDict(extra="forbid")
    title: str
    phase: str | None = None
    due_month: int | None = Field(default=None, ge=1, le=120)
    due: date | None = None
    evidence: Evidence

    @model_validator(mode="after")
    def _has_due(self) -> Milestone:
        if self.due_month is not None and self.due is not None:
            raise ValueError("give due_month or due, not both")
        if self.phase is None and self.due_month is None and self.due is None:
            raise ValueError("give its phase (due at the phase's end), due_month or due")
        return self


Threshold = float | bool | str  # a number, true/false, or a PeriodSummary path (the threshold is that figure)


class Criterion(BaseModel):
    """A success criterion: a PeriodSummary figure (``metric``, a dotted path) compared with a threshold
    by exactly one of ``at_least`` (≥), ``above`` (>), ``at_most`` (≤), ``below`` (<), ``equals``; a
    threshold is a number, true/false, or another path (a target in the summary). ``trend``: a
    path to the figure per period (``{period: value}``), where the summary has one."""

    model_config = ConfigDict(extra="forbid")
    title: str
    term: Literal["short", "long"] = "short"
    metric: str
    at_least: Threshold | None = None
    above: Threshold | None = None
    at_most: Threshold | None = None
    below: Threshold | None = None
    equals: Threshold | None = None
    trend: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> Criterion:
        compared = [k for k in COMPARISONS if getattr(self, k) is not None]
        if len(compared) != 1:
            raise ValueError(f"give exactly one of {', '.join(COMPARISONS)} (got {', '.join(compared) or 'none'})")
        return self

    def comparison(self) -> tuple[str, Threshold]:
        key = next(k for k in COMPARISONS if getattr(self, k) is not None)
        return key, getattr(self, key)


class Communications(BaseModel):
    """Regular communications: the share of scheduled reports published by their due time."""

    model_config = ConfigDict(extra="forbid")
    periods: int = Field(default=3, ge=1, le=24, description="over the due times of the last N months")


def _phase(title: str, first: int, last: int) -> ProgrammePhase:
    return ProgrammePhase(title=title, months=(first, last))


def _milestone(title: str, phase: str, **evidence: Any) -> Milestone:
    return Milestone(title=title, phase=phase, evidence=Evidence.model_validate(evidence))


def _any(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"any_of": list(rules)}


def default_phases() -> dict[str, ProgrammePhase]:
    """The seed strategy's timeline (§7): Foundation months 1–3, Expansion 4–6, Optimisation 7–12."""
    return {
        "foundation": _phase("Foundation", 1, 3),
        "expansion": _phase("Expansion", 4, 6),
        "optimisation": _phase("Optimisation", 7, 12),
    }


def default_milestones() -> dict[str, Milestone]:
    """The seed strategy's milestones (§7), each with the data that shows it met."""
    return {
        # Month 1-3: Foundation
        "metrics_tracking": _milestone("Metrics tracking set up", "foundation", table="sli"),
        "newsletter_launched": _milestone(
            "Newsletter launched", "foundation", **_any({"report": "newsletter"}, {"activity": "newsletter"})
        ),
        "basic_documentation": _milestone("Basic documentation created", "foundation", activity="doc_page"),
        "lunch_and_learns": _milestone("Lunch and learns begun", "foundation", activity="lunch_and_learn"),
        # Month 4-6: Expansion
        "training_launched": _milestone(
            "Training programme launched",
            "expansion",
            **_any({"activity": "sre_fundamentals_course"}, {"activity": "training"}),
        ),
        "executive_reporting": _milestone("Executive reporting started", "expansion", report="executive_summary"),
        "champions_launched": _milestone("SRE champions programme launched", "expansion", activity="sre_champions"),
        "case_studies": _milestone("Case studies developed", "expansion", report="case_study"),
        "stakeholder_feedback": _milestone("Stakeholder feedback collected", "expansion", survey="stakeholder"),
        # Month 7-12: Optimisation
        "cross_team_integration": _milestone(
            "Cross-team integration expanded",
            "optimisation",
            **_any({"activity": "integration_workshop"}, {"activity": "joint_planning"}),
        ),
        "advanced_training": _milestone(
            "Advanced training developed",
            "optimisation",
            **_any(
                {"activity": "slo_workshop_series"},
                {"activity": "automation_best_practices"},
                {"activity": "chaos_engineering_exercise"},
            ),
        ),
    }


def default_criteria() -> dict[str, Criterion]:
    """The seed strategy's success criteria (§10), each a PeriodSummary figure and a threshold."""

    def criterion(title: str, term: str, metric: str, **rest: Any) -> Criterion:
        return Criterion.model_validate({"title": title, "term": term, "metric": metric, **rest})

    return {
        # Short-term (3-6 months)
        "metrics_dashboard": criterion(
            "Basic metrics dashboard established", "short", "programme.milestones.metrics_tracking.met", equals=True
        ),
        "regular_communications": criterion(
            "Regular communications in place",
            "short",
            "programme.communications.on_time_share",
            at_least=0.9,
            trend="programme.communications.trend",
        ),
        "training_launched": criterion(
            "Initial training programme launched", "short", "programme.milestones.training_launched.met", equals=True
        ),
        "stakeholder_feedback": criterion(
            "Stakeholder feedback positive",
            "short",
            "surveys.stakeholder.latest_mean",
            at_least="surveys.stakeholder.target",
            trend="surveys.stakeholder.trend",
        ),
        # Long-term (12+ months)
        "business_impact": criterion("Measurable business impact (ROI above zero)", "long", "value.roi.roi", above=0),
        "mttr_reduced": criterion(
            "MTTR reduced against the baseline (the whole 95 % interval of the change below zero)",
            "long",
            "reliability.comparisons.baseline.mttr.ci_high",
            below=0,
        ),
        "high_engagement": criterion(
            "High engagement (training participation at target)",
            "long",
            "engagement.kpis.training_participation_rate.value",
            at_least="engagement.kpis.training_participation_rate.target",
        ),
        "collaboration_normalised": criterion(
            "Cross-team collaboration normalised (teams engaged per month)",
            "long",
            "engagement.kpis.teams_engaged.value",
            at_least=4,
        ),
        "practices_adopted": criterion(
            "SRE practices widely adopted", "long", "engagement.kpis.practice_adoption_rate.value", at_least=0.8
        ),
    }


class Programme(BaseModel):
    """``params/programme.yaml``: the SRE programme's plan (phases, milestones with the evidence that
    shows each met) and its success criteria. Without the file (or a key), the seed strategy's."""

    model_config = ConfigDict(extra="forbid")
    phases: dict[str, ProgrammePhase] = Field(default_factory=default_phases)
    milestones: dict[str, Milestone] = Field(default_factory=default_milestones)
    criteria: dict[str, Criterion] = Field(default_factory=default_criteria)
    communications: Communications = Field(default_factory=Communications)

    @model_validator(mode="after")
    def _keys(self) -> Programme:
        for section in ("phases", "milestones", "criteria"):
            for key in getattr(self, section):
                if not ACTIVITY_KEY.fullmatch(key):
                    raise ValueError(f"{section}.{key}: the key is not {PROGRAMME_KEY_RULE}")
        for key, milestone in self.milestones.items():
            if milestone.phase is not None and milestone.phase not in self.phases:
                known = ", ".join(self.phases) or "none"
                raise ValueError(f"milestones.{key}.phase: unknown phase {milestone.phase!r} (phases: {known})")
        return self

    @property
    def relative(self) -> bool:
        """Whether a date of the plan counts months from ``programme_start``."""
        return any(p.months is not None for p in self.phases.values()) or any(
            m.due_month is not None for m in self.milestones.values()
        )

    def fitted(self, activities: Activities) -> Programme:
        """The default plan fitted to the configured activities and surveys: a rule naming a kind or
        survey the workbench does not run is left out, and so are the milestones left without a
        rule and the criteria on them (a plan of one's own is checked, never changed)."""
        kinds = set(activities.kinds) | set(activities.aliases)

        def known(rule: Evidence) -> Evidence | None:
            if rule.any_of:
                kept = [k for k in (known(r) for r in rule.any_of) if k is not None]
                return rule.model_copy(update={"any_of": kept}) if kept else None
            if (rule.activity is not None and rule.activity not in kinds) or (
                rule.survey is not None and rule.survey not in activities.surveys
            ):
                return None
            return rule

        milestones = {}
        for key, milestone in self.milestones.items():
            rule = known(milestone.evidence)
            if rule is not None:
                milestones[key] = milestone.model_copy(update={"evidence": rule})

        def runs(path: str | None) -> bool:
            parts = (path or "").split(".")
            if parts[0] == "surveys" and len(parts) > 1:
                return parts[1] in activities.surveys
            if parts[:2] == ["activities", "kinds"] and len(parts) > 2:
                return parts[2] in activities.kinds
            if parts[:2] == ["programme", "milestones"] and len(parts) > 2:
                return parts[2] in milestones
            return True

        def paths(c: Criterion) -> list[str | None]:
            threshold = c.comparison()[1]
            return [c.metric, c.trend, threshold if isinstance(threshold, str) else None]

        criteria = {key: c for key, c in self.criteria.items() if all(runs(p) for p in paths(c))}
        return self.model_copy(update={"milestones": milestones, "criteria": criteria})

    def with_kinds(self, activities: Activities) -> Programme:
        """The plan with each evidence rule's activity alias (``pairing``) read as the kind it names
        (``cross_team_pairing``), as ingest stores the rows."""
        aliases = activities.aliases

        def resolved(rule: Evidence) -> Evidence:
            if rule.any_of:
                return rule.model_copy(update={"any_of": [resolved(r) for r in rule.any_of]})
            if rule.activity in aliases:
                return rule.model_copy(update={"activity": aliases[rule.activity]})
            return rule

        milestones = {k: m.model_copy(update={"evidence": resolved(m.evidence)}) for k, m in self.milestones.items()}
        return self.model_copy(update={"milestones": milestones})

    def problems(self, programme_start: date | None, activities: Activities, written: bool = True) -> list[str]:
        """What is wrong with the plan given the org's ``programme_start`` and the configured
        activities and surveys: each problem names its key. ``written``: the phases or milestones
        are the file's (the defaults' months are no problem without a programme_start)."""
        found = []
        if programme_start is None and written:
            relative = [f"phases.{k}.months" for k, p in self.phases.items() if p.months is not None]
            relative += [f"milestones.{k}.due_month" for k, m in self.milestones.items() if m.due_month is not None]
            found += [
                f"{key}: counts months from programme_start, which params/org.yaml does not set" for key in relative
            ]
        kinds = set(activities.kinds) | set(activities.aliases)
        for key, milestone in self.milestones.items():
            for leaf in milestone.evidence.leaves():
                where = f"milestones.{key}.evidence"
                if leaf.activity is not None and leaf.activity not in kinds:
                    found.append(
                        f"{where}: unknown activity {leaf.activity!r} (params/activities.yaml kinds: "
                        f"{', '.join(sorted(activities.kinds))})"
                    )
                if leaf.survey is not None and leaf.survey not in activities.surveys:
                    found.append(
                        f"{where}: unknown survey {leaf.survey!r} (params/activities.yaml surveys: "
                        f"{', '.join(sorted(activities.surveys)) or 'none'})"
                    )
        return found


def _load_yaml(path: Path) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {yaml_problem(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file") from exc


def _model(cls: type[ModelT], path: Path) -> ModelT:
    if not path.exists():
        return cls()
    try:
        return cls.model_validate(_load_yaml(path))
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" if err["loc"] else err["msg"]
            for err in exc.errors()
        )
        raise ConfigError(f"{path}: {details}") from exc


@dataclass(frozen=True)
class Workbench:
    """A workbench folder and its parsed params."""

    root: Path
    org: OrgConfig
    catalogue: ServiceCatalogue
    value: ValueConfig = field(default_factory=ValueConfig)
    initiatives: Initiatives = field(default_factory=Initiatives)
    policy: ErrorBudgetPolicy = field(default_factory=ErrorBudgetPolicy)
    targets: Targets = field(default_factory=Targets)
    tips: Tips = field(default_factory=Tips)
    slo_documents: SloDocuments = field(default_factory=SloDocuments)
    activities: Activities = field(default_factory=Activities)
    follow_up: FollowUp = field(default_factory=FollowUp)
    programme: Programme = field(default_factory=Programme)

    @classmethod
    def load(cls, root: Path) -> Workbench:
        root = root.resolve()
        params = root / "params"
        workbench = cls(
            root=root,
            org=_model(OrgConfig, params / "org.yaml"),
            catalogue=_model(ServiceCatalogue, params / "services.yaml"),
            value=_model(ValueConfig, params / "value.yaml"),
            initiatives=_model(Initiatives, params / "initiatives.yaml"),
            policy=_model(ErrorBudgetPolicy, params / "error_budget_policy.yaml"),
            targets=_model(Targets, params / "targets.yaml"),
            tips=_model(Tips, params / "tips.yaml"),
            slo_documents=_model(SloDocuments, params / "slo_documents.yaml"),
            activities=_model(Activities, params / "activities.yaml"),
            follow_up=_model(FollowUp, params / "follow_up.yaml"),
            programme=_model(Programme, params / "programme.yaml"),
        )
        plan_file = params / "programme.yaml"
        written = plan_file.exists() and bool({"phases", "milestones"} & set(_load_yaml(plan_file) or {}))
        # a plan written in programme months needs a programme_start; the defaults wait for one, and
        # follow the activities and surveys configured
        if not written:
            workbench = replace(workbench, programme=workbench.programme.fitted(workbench.activities))
        problems = workbench.programme.problems(workbench.org.programme_start, workbench.activities, written)
        if problems:
            raise ConfigError(f"{params / 'programme.yaml'}: {'; '.join(problems)}")
        follow_file = params / "follow_up.yaml"
        written_keys = set(_load_yaml(follow_file) or {}) if follow_file.exists() else set()
        problems = workbench.follow_up.problems(workbench.activities, written_keys)
        if problems:
            raise ConfigError(f"{follow_file}: {'; '.join(problems)}")
        return replace(
            workbench,
            programme=workbench.programme.with_kinds(workbench.activities),
            follow_up=workbench.follow_up.with_kinds(workbench.activities),
        )

    @classmethod
    def find(cls, start: Path | None = None, required: bool = True) -> Workbench:
        """The workbench containing ``start`` (default: the current directory).

        With ``required=False`` and no workbench around, default params rooted at ``start``
        (UTC, no service catalogue): enough for commands that are given their data directly.
        """
        if start is None and os.environ.get("SRELIB_WORKBENCH"):  # set by `srelib dashboard` for its kernels
            start = Path(os.environ["SRELIB_WORKBENCH"])
        start = (start or Path.cwd()).resolve()
        for folder in (start, *start.parents):
            if (folder / "params" / "org.yaml").is_file():
                return cls.load(folder)
        if not required:
            return cls(start, OrgConfig(), ServiceCatalogue())
        raise ConfigError(
            f"no workbench found: neither {start} nor any folder above it has params/org.yaml "
            "(`srelib init DIR` makes one for your own data)"
        )

    def path(self, relative: str) -> Path:
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def warehouse_path(self) -> Path:
        return self.path(self.org.warehouse)

    @property
    def data_path(self) -> Path:
        return self.path(self.org.data)

    @property
    def outputs_path(self) -> Path:
        return self.path(self.org.outputs)
