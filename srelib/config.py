"""The workbench's configuration: the files under ``params/``.

A workbench is a folder with ``params/org.yaml`` at its root (like a dbt project); every
command finds it from the current directory upwards. Paths in params are relative to
that root.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from srelib.errors import ConfigError
from srelib.period import zone

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ModelT = TypeVar("ModelT", bound=BaseModel)


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


class ServiceCatalogue(BaseModel):
    """``params/services.yaml``: which team owns which service."""

    model_config = ConfigDict(extra="forbid")
    services: dict[str, Service] = Field(default_factory=dict)

    def team_of(self, service: str) -> str | None:
        entry = self.services.get(service)
        return entry.team if entry else None

    @property
    def teams(self) -> list[str]:
        return sorted({s.team for s in self.services.values()})


class ValueConfig(BaseModel):
    """``params/value.yaml``: what an hour, a minute of downtime and the programme cost."""

    model_config = ConfigDict(extra="forbid")
    currency: str = "USD"
    hourly_rate: float = Field(default=0.0, ge=0, description="loaded cost of an engineer hour")
    downtime_cost_per_minute: float = Field(default=0.0, ge=0, description="customer-impacting incident minute")
    programme_cost_per_month: float = Field(default=0.0, ge=0, description="people, tools and training of the SRE team")


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


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: float
    higher_is_better: bool = True


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


class SloDocuments(BaseModel):
    """``params/slo_documents.yaml``: per SLO name, its document's status, approvers, rationale, caveats."""

    model_config = ConfigDict(extra="forbid")
    documents: dict[str, SloDocument] = Field(default_factory=dict)


class Tip(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    text: str


class Tips(BaseModel):
    """``params/tips.yaml``: the newsletter's tips, used in turn."""

    model_config = ConfigDict(extra="forbid")
    tips: list[Tip] = Field(default_factory=list)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file") from exc


def _model(cls: type[ModelT], path: Path) -> ModelT:
    if not path.exists():
        return cls()
    try:
        return cls.model_validate(_load_yaml(path))
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
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

    @classmethod
    def load(cls, root: Path) -> Workbench:
        root = root.resolve()
        params = root / "params"
        return cls(
            root=root,
            org=_model(OrgConfig, params / "org.yaml"),
            catalogue=_model(ServiceCatalogue, params / "services.yaml"),
            value=_model(ValueConfig, params / "value.yaml"),
            initiatives=_model(Initiatives, params / "initiatives.yaml"),
            policy=_model(ErrorBudgetPolicy, params / "error_budget_policy.yaml"),
            targets=_model(Targets, params / "targets.yaml"),
            tips=_model(Tips, params / "tips.yaml"),
            slo_documents=_model(SloDocuments, params / "slo_documents.yaml"),
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
