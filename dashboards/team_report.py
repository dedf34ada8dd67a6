"""The team report: each team's (person's, repository's) AI use, cost, risk and sign-off gaps, read from the
dashboards' panels that compare groups (their variable ``by``), so ``aitrail report`` and Grafana say the same
numbers from the same SQL:

- use: people, generations, tokens, cost and its part estimated from tokens (``usage_by_team``);
- code: committed lines and the share written by AI (``committed_lines``), AI commits lacking dual sign-off
  (``signoff_coverage``);
- risk: findings per thousand committed lines in AI-written versus human-written code, findings caught as the AI
  wrote the code (``findings_per_kloc``); incidents traced to AI code and their cost (``incident_cost_by_team``);
- the checklist: sign-offs of AI commits that answered every question (``checklist_completion``).

Each panel is asked once per group (``by``: team, person or repository) and once for the whole (``by = "total"``:
one row, people counted once even when they work in two teams), over the report's period. The usage panels read
the daily rollups: they answer the whole UTC days of the period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from aitrail.dashboards.catalog import ACCOUNTABILITY, BY_CHOICES, RISK, USAGE
from aitrail.dashboards.macros import TimeRange
from aitrail.dashboards.panels import Panel
from aitrail.dashboards.reports import Reader, panel_sql

BY = BY_CHOICES
"""How the report groups its rows."""

TOTAL = "total"
"""The ``by`` value that asks a panel for one row: the whole."""

QUESTIONS: tuple[tuple[Panel, Mapping[str, str]], ...] = (
    (USAGE.panel("usage_by_team"), {"people": "people", "generations": "generations", "tokens": "tokens",
                                    "cost_usd": "cost_usd", "estimated_cost_usd": "cost_estimated_usd"}),
    (USAGE.panel("committed_lines"), {"lines_added": "lines_added", "ai_lines": "ai_lines", "ai_share": "ai_share"}),
    (ACCOUNTABILITY.panel("signoff_coverage"), {"ai_commits": "ai_commits", "unsigned": "ai_commits_lacking_signoff"}),
    (RISK.panel("findings_per_kloc"), {"ai_findings": "findings_ai", "human_findings": "findings_human",
                                       "ai_per_kloc": "findings_per_kloc_ai", "human_per_kloc": "findings_per_kloc_human",
                                       "at_generation": "caught_at_generation"}),
    (RISK.panel("incident_cost_by_team"), {"incidents": "incidents", "ai_incidents": "incidents_ai",
                                           "ai_cost_usd": "incidents_ai_cost_usd"}),
    (ACCOUNTABILITY.panel("checklist_completion"), {"signoffs": "signoffs", "complete": "checklists_complete",
                                                    "completion": "checklist_completion"}),
)
"""Each panel the report reads, and the report's name for each column it takes (the names of ``--json``)."""

_ZERO: dict[str, Any] = {
    "people": 0, "generations": 0, "tokens": 0, "cost_usd": 0.0, "cost_estimated_usd": 0.0, "lines_added": 0,
    "ai_lines": 0, "ai_share": None, "ai_commits": 0, "ai_commits_lacking_signoff": 0, "findings_ai": 0,
    "findings_human": 0, "findings_per_kloc_ai": None, "findings_per_kloc_human": None, "caught_at_generation": 0,
    "incidents": 0, "incidents_ai": 0, "incidents_ai_cost_usd": 0.0, "signoffs": 0, "checklists_complete": 0,
    "checklist_completion": None,
}


def window(since: datetime | None, until: datetime | None, days: int = 30) -> TimeRange:
    """The report's period, in UTC: ``until`` (default now) and ``since`` (default ``days`` before it)."""
    end = (until or datetime.now(timezone.utc)).astimezone(timezone.utc)
    start = (since.astimezone(timezone.utc) if since else end - timedelta(days=days))
    return TimeRange(start, end)


def variables(team: str = "", repo: str = "", checklist: Sequence[str] = ()) -> dict[str, str | list[str]]:
    """The dashboards' variables for the report's filters: a team, a repository (else All), the checklist's keys."""
    chosen: dict[str, str | list[str]] = {}
    if team:
        chosen["team"] = [team]
    if repo:
        chosen["repository"] = [repo]
    if checklist:
        chosen["checklist"] = ",".join(checklist)
    return chosen


def team_report(location: Any, by: str = "team", team: str = "", repo: str = "", since: datetime | None = None,
                until: datetime | None = None, checklist: Sequence[str] = (), sql_url: str | None = None,
                token: str | None = None) -> dict[str, Any]:
    """The report as a dictionary: the period, the filters, a row per group and the total; read from the store at
    ``location`` (through the collector that owns it, if one does; with a tenant's ``token``, that tenant's rows)."""
    from aitrail.dashboards.reports import reader, reads_one_tenant

    tenant = reads_one_tenant(location, sql_url, token)
    return grouped(reader(location, sql_url, token), window(since, until), by, variables(team, repo, checklist), tenant)


def grouped(read: Reader, time: TimeRange, by: str = "team", chosen: Mapping[str, str | Sequence[str]] | None = None,
            tenant: bool = False) -> dict[str, Any]:
    """The report's rows from the panels, each asked per group and for the total, through ``read``."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}")
    chosen = dict(chosen or {})
    groups: dict[str, dict[str, Any]] = {}
    total = dict(_ZERO)
    for panel, columns in QUESTIONS:
        for grouping in (by, TOTAL):
            for row in read(panel_sql(panel, time, {**chosen, "by": grouping}, tenant)):
                key = str(row[grouping])
                target = total if grouping == TOTAL else groups.setdefault(key, dict(_ZERO))
                target.update({name: _number(row[column]) for column, name in columns.items()})
    return {
        "by": by, "since": time.start.isoformat(), "until": time.end.isoformat(),
        "team": _one(chosen.get("team")), "repository": _one(chosen.get("repository")),
        "groups": [{by: key, **_rounded(values)} for key, values in sorted(groups.items())],
        "total": _rounded(total),
    }


def _one(value: str | Sequence[str] | None) -> str:
    return "" if not value else value if isinstance(value, str) else ", ".join(value)


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    """Money to the cent's hundredth (estimates of a few tokens are fractions of a cent)."""
    return {k: round(v, 4) if isinstance(v, float) and k.endswith("_usd") else v for k, v in row.items()}


def _number(value: object) -> int | float | None:
    """ClickHouse's JSON gives 64-bit integers as strings; NULL (nothing to divide) stays None."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value)
    return float(text) if any(c in text for c in ".eE") or text in ("nan", "inf") else int(text)
