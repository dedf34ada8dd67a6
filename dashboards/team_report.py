"""The team report: each team's (person's, repository's) AI use, cost, risk and sign-off gaps.

Five questions, each one SQL file in ``sql/`` (``report_*.sql``), asked once per group and once for the
whole (``by = "all"``: people are counted once even when they work in two teams), and put together here:

- use: people, generations, tokens, cost and its part estimated from tokens (``report_generations``);
- code: committed lines, the share written by AI, AI commits lacking sign-off (``report_commits``);
- risk: findings per thousand committed lines in AI-written versus human-written code, findings caught as
  the AI wrote the code (``report_findings``); incidents traced to AI code and their cost (``report_incidents``);
- the checklist: sign-offs of AI commits that answered every question (``report_checklist``).

The Grafana panels and the HTML report ask the same files. They use no ``FINAL``: a tenant reads the tables
through views, which take none; each question groups by the record's id instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from aitrail.dashboards.reports import Report

GENERATIONS = Report("report_generations", "AI use")
COMMITS = Report("report_commits", "committed lines and sign-off gaps")
FINDINGS = Report("report_findings", "findings in AI-written and human-written code")
INCIDENTS = Report("report_incidents", "incidents traced to AI-written code")
CHECKLIST = Report("report_checklist", "the AI checklist on sign-offs")
TEAM_REPORT = (GENERATIONS, COMMITS, FINDINGS, INCIDENTS, CHECKLIST)
BY = ("team", "person", "repository")
"""How the report groups its rows."""

_ZERO = {
    "people": 0, "generations": 0, "tokens": 0, "cost_usd": 0.0, "cost_estimated_usd": 0.0, "lines_added": 0,
    "ai_lines": 0, "ai_commits": 0, "ai_commits_lacking_signoff": 0, "findings_ai": 0, "findings_human": 0,
    "caught_at_generation": 0, "incidents": 0, "incidents_ai": 0, "incidents_ai_cost_usd": 0.0, "signoffs": 0,
    "checklists_complete": 0,
}


def window(since: datetime | None, until: datetime | None, days: int = 30) -> tuple[datetime, datetime]:
    """The report's period, in UTC: ``until`` (default now) and ``since`` (default ``days`` before it)."""
    end = (until or datetime.now(timezone.utc)).astimezone(timezone.utc)
    start = (since.astimezone(timezone.utc) if since else end - timedelta(days=days))
    return start, end


def _ratio(part: float, whole: float, scale: float = 1.0) -> float | None:
    return round(part / whole * scale, 3) if whole else None


def derived(row: dict[str, Any]) -> dict[str, Any]:
    """A group's sums with the rates people read: AI share, findings per thousand lines, checklist completion."""
    human_lines = row["lines_added"] - row["ai_lines"]
    return {
        **row,
        "cost_usd": round(row["cost_usd"], 4),
        "cost_estimated_usd": round(row["cost_estimated_usd"], 4),
        "incidents_ai_cost_usd": round(row["incidents_ai_cost_usd"], 2),
        "ai_share": _ratio(row["ai_lines"], row["lines_added"]),
        "findings_per_kloc_ai": _ratio(row["findings_ai"], row["ai_lines"], 1000),
        "findings_per_kloc_human": _ratio(row["findings_human"], human_lines, 1000),
        "checklist_completion": _ratio(row["checklists_complete"], row["signoffs"]),
    }


def team_report(location: Any, by: str = "team", team: str = "", repo: str = "", since: datetime | None = None,
                until: datetime | None = None, checklist: Sequence[str] = (), sql_url: str | None = None,
                token: str | None = None) -> dict[str, Any]:
    """The report as a dictionary: the period, the filters, a row per group and the total."""
    from aitrail.collector.query import read_only_query
    from aitrail.dashboards.reports import reads_one_tenant

    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}")
    start, end = window(since, until)
    tenant = token is not None and reads_one_tenant(location, sql_url, token)
    params: dict[str, object] = {
        "team": team, "repo": repo, "since": start.strftime("%Y-%m-%d %H:%M:%S.%f")[:23],
        "until": end.strftime("%Y-%m-%d %H:%M:%S.%f")[:23], "checklist": ",".join(checklist),
    }
    groups: dict[str, dict[str, Any]] = {}
    total = dict(_ZERO)
    for report in TEAM_REPORT:
        for grouping in (by, "all"):
            data = read_only_query(location, report.tenant_sql if tenant else report.sql, "JSONEachRow",
                                   {**params, "by": grouping}, sql_url=sql_url, token=token)
            for line in data.splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                key = str(row.pop("key"))
                target = total if grouping == "all" else groups.setdefault(key, dict(_ZERO))
                target.update({name: _number(value) for name, value in row.items()})
    return {
        "by": by, "since": start.isoformat(), "until": end.isoformat(), "team": team, "repository": repo,
        "groups": [{by: key, **derived(values)} for key, values in sorted(groups.items())],
        "total": derived(total),
    }


def _number(value: object) -> int | float:
    """ClickHouse's JSON gives 64-bit integers as strings."""
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return float(text) if any(c in text for c in ".eE") else int(text)
