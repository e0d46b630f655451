"""What a metric query covers: which periods, and which team's incidents and SLOs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from srelib.config import ServiceCatalogue
from srelib.period import Period, Window


@dataclass(frozen=True)
class Scope:
    """A team (None: the whole org) and the service → team catalogue that resolves it.

    docs/metrics.md: with a team, the incidents whose ``team`` is that team (an incident's own
    team column wins; the catalogue fills it in when empty), and the SLOs of the team's
    services.
    """

    team: str | None = None
    catalogue: ServiceCatalogue = field(default_factory=ServiceCatalogue)

    def catalogue_sql(self) -> tuple[str, list[Any]]:
        """A relation ``(service, team)`` of the catalogue, as SQL with its parameters."""
        services = list(self.catalogue.services)
        teams = [self.catalogue.services[s].team for s in services]
        return ("(SELECT unnest(?::VARCHAR[]) AS service, unnest(?::VARCHAR[]) AS team)", [services, teams])


def periods_sql(periods: Sequence[Period | Window]) -> tuple[str, list[Any]]:
    """A relation ``(period, start_at, end_at)`` with each period's UTC boundaries."""
    return (
        "(SELECT unnest(?::VARCHAR[]) AS period, unnest(?::TIMESTAMP[]) AS start_at, unnest(?::TIMESTAMP[]) AS end_at)",
        [[p.label for p in periods], [p.start_utc for p in periods], [p.end_utc for p in periods]],
    )
