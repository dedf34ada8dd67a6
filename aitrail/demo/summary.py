"""The usage summary: the reports of ``aitrail.dashboards.reports``, read from the store and printed."""

from __future__ import annotations

import json
from typing import Any

from aitrail.cli import output
from aitrail.collector.query import read_only_query
from aitrail.collector.store import StoreLocation
from aitrail.dashboards.reports import USAGE


def usage_summary(location: StoreLocation, days: int = 30, sql_url: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each usage report's rows, by report name."""
    summary = {}
    for report in USAGE:
        data = read_only_query(location, report.sql, "JSONEachRow", {"days": days}, sql_url=sql_url)
        summary[report.name] = [json.loads(line) for line in data.splitlines() if line.strip()]
    return summary


def print_usage(summary: dict[str, list[dict[str, Any]]]) -> None:
    for report in USAGE:
        rows = summary.get(report.name, [])
        columns = list(rows[0]) if rows else []
        output.print_table(report.title, columns, [list(r.values()) for r in rows])
