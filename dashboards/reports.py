"""Panels answered outside Grafana: their SQL expanded as the data source expands it, run through any read path
(the embedded store, a collector's SQL endpoint with a token, a ClickHouse server).

``aitrail usage``, ``aitrail report`` (:mod:`.team_report`), the demo and the HTML report read panels through here,
so they show what Grafana shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aitrail.dashboards.catalog import USAGE as USAGE_DASHBOARD, defaults
from aitrail.dashboards.macros import TimeRange, expand
from aitrail.dashboards.panels import Panel

USAGE: tuple[Panel, ...] = (USAGE_DASHBOARD.panel("usage_by_team"), USAGE_DASHBOARD.panel("usage_by_assistant"))
"""The panels ``aitrail usage`` prints: usage by team, by assistant and model."""

Reader = Callable[[str], list[dict[str, Any]]]
"""Runs one read-only statement and returns its rows."""

_QUALIFIED = re.compile(r"\baitrail\.(?=\w)")


def tenant_sql(sql: str) -> str:
    """The same question for a tenant's reader: its tables unqualified, which the SQL endpoint resolves to the
    tenant's own views (it refuses ``aitrail.<table>`` to a tenant, whose rows are only a part of it)."""
    return _QUALIFIED.sub("", sql)


@dataclass(frozen=True)
class Report:
    """A named question that is no panel (``aitrail check`` asks about given commits, not a time range): one SQL
    file, ``sql/<name>.sql``, with bound parameters."""

    name: str
    title: str

    @property
    def sql(self) -> str:
        return resources.files("aitrail.dashboards").joinpath("sql", f"{self.name}.sql").read_text()

    @property
    def tenant_sql(self) -> str:
        return tenant_sql(self.sql)


def panel_sql(panel: Panel, time: TimeRange, variables: Mapping[str, str | Sequence[str]] | None = None,
              tenant: bool = False) -> str:
    """The statement Grafana would send for ``panel`` over ``time`` (variables not given are All, or their default:
    a row per team, the policy's checklist)."""
    sql = expand(panel.sql, time, {**defaults(), **(variables or {})})
    return tenant_sql(sql) if tenant else sql


def reader(location: Any, sql_url: str | None = None, token: str | None = None) -> Reader:
    """Read-only rows from the store at ``location`` (through the collector that owns it, if one does)."""
    from aitrail.collector.query import read_only_query

    def read(sql: str) -> list[dict[str, Any]]:
        data = read_only_query(location, sql, "JSONEachRow", sql_url=sql_url, token=token)
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    return read


def reads_one_tenant(location: Any, sql_url: str | None, token: str | None) -> bool:
    """Whether ``token`` reads one tenant's views (its current database is the tenant's) or every tenant's (admin)."""
    from aitrail.collector.query import read_only_query
    from aitrail.collector.sqlendpoint.tenancy import TENANT_DATABASE_PREFIX

    if token is None:
        return False
    data = read_only_query(location, "SELECT currentDatabase() AS db", "JSONEachRow", sql_url=sql_url, token=token)
    return json.loads(data or b"{}").get("db", "").startswith(TENANT_DATABASE_PREFIX)


def usage_summary(
    location: Any, days: int = 30, sql_url: str | None = None, token: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Each usage panel's rows over the last ``days`` UTC days, by panel name; with a tenant's ``token``, that
    tenant's usage."""
    tenant = reads_one_tenant(location, sql_url, token)
    time = TimeRange.last_days(days)
    read = reader(location, sql_url, token)
    return {panel.name: read(panel_sql(panel, time, tenant=tenant)) for panel in USAGE}
