"""The usage summary: the usage panels of ``aitrail.dashboards.catalog``, read from the store and printed."""

from __future__ import annotations

import json
from typing import Any

from aitrail.cli import output
from aitrail.collector.query import read_only_query
from aitrail.collector.store import StoreLocation
from aitrail.dashboards.macros import TimeRange
from aitrail.dashboards.reports import USAGE, panel_sql, reader


def reads_one_tenant(location: StoreLocation, sql_url: str | None, token: str | None) -> bool:
    """Whether ``token`` reads one tenant's views (its current database is the tenant's) or every tenant's (admin)."""
    from aitrail.collector.sqlendpoint.tenancy import TENANT_DATABASE_PREFIX

    if token is None:
        return False
    data = read_only_query(location, "SELECT currentDatabase() AS db", "JSONEachRow", sql_url=sql_url, token=token)
    return json.loads(data or b"{}").get("db", "").startswith(TENANT_DATABASE_PREFIX)


def usage_summary(
    location: StoreLocation, days: int = 30, sql_url: str | None = None, token: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Each usage panel's rows over the last ``days`` UTC days, by panel name; with a tenant's ``token``, that
    tenant's usage."""
    tenant = reads_one_tenant(location, sql_url, token)
    time = TimeRange.last_days(days)
    read = reader(location, sql_url, token)
    return {panel.name: read(panel_sql(panel, time, tenant=tenant)) for panel in USAGE}


def print_usage(summary: dict[str, list[dict[str, Any]]]) -> None:
    for panel in USAGE:
        rows = summary.get(panel.name, [])
        columns = list(rows[0]) if rows else []
        output.print_table(panel.title, columns, [list(r.values()) for r in rows])
