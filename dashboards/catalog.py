"""aitrail's dashboards: every panel defined once, here (its SQL beside it in ``sql/<dashboard>/``).

Grafana (``aitrail dashboards build`` / ``push``), the HTML report, ``aitrail usage`` and the tests all read these.
"""

from __future__ import annotations

from aitrail.dashboards.panels import Dashboard, Link, Panel, Threshold, Variable, Visual
from aitrail.sdk.accountability.policy import DEFAULT_CHECKLIST

TRACES_UID = "aitrail-traces"
BY_CHOICES = ("team", "person", "repository")
"""The groups a comparing panel (and the team report) can show: a row per team, per person or per repository."""

TEAM = Variable("team", "Team", "SELECT DISTINCT team FROM aitrail.ai_usage_daily WHERE team != '' ORDER BY team")
ASSISTANT = Variable("assistant", "Assistant",
                     "SELECT DISTINCT assistant FROM aitrail.ai_usage_daily WHERE assistant != '' ORDER BY assistant")
MODEL = Variable("model", "Model", "SELECT DISTINCT model FROM aitrail.ai_usage_daily WHERE model != '' ORDER BY model")
REPOSITORY = Variable("repository", "Repository",
                      "SELECT DISTINCT repository FROM aitrail.ai_repositories_daily WHERE repository != '' "
                      "ORDER BY repository")
TRACE_ID = Variable("trace_id", "Trace id", multi=False, text=True)
BY = Variable("by", "Per", multi=False, choices=BY_CHOICES)
"""How the panels that compare groups group their rows (the team report asks them once per choice it is given)."""
CHECKLIST = Variable("checklist", "Checklist", multi=False, constant=",".join(DEFAULT_CHECKLIST))
"""The checklist questions a complete sign-off answers: the policy's defaults (a repository's own policy is what
``aitrail check`` enforces)."""

_TRACE_LINK = Link("Open the trace", f"/d/{TRACES_UID}?var-trace_id=${{__data.fields.trace_id}}&${{__url_time_range}}",
                   "trace_id")


_COST = (("cost_usd", "currencyUSD"), ("estimated_cost_usd", "currencyUSD"))


def _usage(name: str, title: str, description: str, visual: Visual, **more: object) -> Panel:
    return Panel("usage", name, title, description, visual, **more)  # type: ignore[arg-type]


USAGE = Dashboard(
    uid="aitrail-usage",
    title="aitrail · AI usage",
    description="How much AI each team uses, with which assistants and models, at what cost, and what it wrote.",
    variables=(TEAM, ASSISTANT, MODEL, REPOSITORY, BY),
    panels=(
        _usage("headline", "At a glance", "Generations, people, tokens, cost (estimated_cost_usd: the part estimated "
               "from tokens by the price table) and lines AI wrote in the time range (whole UTC days).", Visual.stat,
               width=24, height=4, units=_COST),
        _usage("generations_by_team", "Generations per team", "AI generations each UTC day, per team.",
               Visual.timeseries),
        _usage("active_people", "Active AI users per team", "People who used an AI assistant each UTC day, per team.",
               Visual.timeseries),
        _usage("usage_by_team", "AI usage by ${by}", "Generations, people, tokens, cost (estimated_cost_usd: the part "
               "estimated from tokens by the price table), lines written and the share of generations accepted, per "
               "team, person or repository (Per).", Visual.table, width=24,
               units=(*_COST, ("accepted_share", "percentunit")),
               thresholds=(Threshold(None, "red"), Threshold(0.3, "yellow"), Threshold(0.6, "green"))),
        _usage("committed_lines", "AI share of committed lines by ${by}", "Lines the commits of the time range "
               "added, and the share AI generations wrote, per team, person (author) or repository (Per).",
               Visual.table, units=(("ai_share", "percentunit"),),
               thresholds=(Threshold(None, "green"), Threshold(0.5, "yellow"), Threshold(0.8, "orange"))),
        _usage("usage_by_assistant", "AI usage by assistant and model", "Which assistants and models wrote the code; "
               "the cost estimated from tokens is known per model only (a row without assistant).",
               Visual.table, units=_COST),
        _usage("cost_by_person", "Tokens and cost per person", "The 20 people whose AI use cost most in the time "
               "range (whole UTC days), with their team and the part of the cost estimated from tokens.", Visual.table,
               units=_COST,
               thresholds=(Threshold(None, "green"), Threshold(100, "yellow"), Threshold(500, "red"))),
        _usage("top_repositories", "Lines written by AI per repository", "Lines AI generations added, and how many "
               "of them were accepted, per repository.", Visual.barchart),
        _usage("top_files", "Files AI wrote most into", "The 20 files with most accepted AI lines.", Visual.table),
        _usage("adoption", "Adoption", "People and teams using AI each week.", Visual.timeseries, width=24),
    ),
)

TRACES = Dashboard(
    uid=TRACES_UID,
    title="aitrail · Traces",
    description="The spans and logs assistants sent, in the data source's trace and log views: pick a generation "
                "to see its trace.",
    variables=(TEAM, ASSISTANT, TRACE_ID),
    in_report=False,
    time_from="now-7d",
    panels=(
        Panel("traces", "generations", "Latest AI generations", "The latest generations; click a trace id to open "
              "its trace below.", Visual.table, width=24, links=(_TRACE_LINK,)),
        Panel("traces", "trace", "Trace", "The trace chosen above (variable trace_id), as a span tree.",
              Visual.traces, width=24, height=12),
        Panel("traces", "logs", "Assistant log events", "Log events the assistants sent (prompts, tool calls, "
              "API requests), newest first.", Visual.logs, width=24, height=12),
    ),
)

RISK = Dashboard(
    uid="aitrail-risk",
    title="aitrail · Risk and incident linkage",
    description="Which findings and incidents trace back to AI generations, to which prompts and people, and what "
                "they cost.",
    variables=(TEAM, REPOSITORY, BY),
    panels=(
        Panel("risk", "findings_per_kloc", "Findings per thousand lines, AI against human, by ${by}", "Findings on "
              "AI-written lines per thousand AI lines committed, the same for human-written lines, and where findings "
              "were caught: as the AI wrote the code (counted apart from the rates), by a later scan, or only in an "
              "incident.", Visual.table, width=24, units=(("ai_per_kloc", "short"), ("human_per_kloc", "short")),
              thresholds=(Threshold(None, "green"), Threshold(5, "yellow"), Threshold(10, "red"))),
        Panel("risk", "incident_cost_by_team", "Incident cost attributed to AI code by ${by}", "Incidents, those with "
              "a finding on AI code, and their cost in proportion to the incident's findings on AI code, and the "
              "rest.", Visual.table, units=(("ai_cost_usd", "currencyUSD"), ("other_cost_usd", "currencyUSD"))),
        Panel("risk", "findings_traced", "Findings traced to AI generations", "Each finding with the chain: prompt "
              "(open its trace), who asked, assistant and model, commit author, reviewers and approvers, and the "
              "owning team.",
              Visual.table, width=24, height=10, links=(_TRACE_LINK,)),
        Panel("risk", "incidents", "Incidents and their AI share", "Incidents, their findings, how many trace to AI "
              "generations, and the cost attributed to AI code.", Visual.table, width=24,
              units=(("cost_usd", "currencyUSD"), ("ai_cost_usd", "currencyUSD"))),
    ),
)

ACCOUNTABILITY = Dashboard(
    uid="aitrail-accountability",
    title="aitrail · Accountability",
    description="Who signed off AI changes: dual sign-off coverage, changes shipped without it, the checklist, "
                "reviewers' load and ownership gaps.",
    variables=(TEAM, REPOSITORY, BY, CHECKLIST),
    panels=(
        Panel("accountability", "signoff_coverage", "Dual sign-off coverage of AI changes by ${by}", "Commits with "
              "AI-written lines, reviewed and approved by people other than the author, both by two people (dual "
              "sign-off), those without it, and the share with it.", Visual.table, width=24,
              units=(("coverage", "percentunit"),),
              thresholds=(Threshold(None, "red"), Threshold(0.8, "yellow"), Threshold(0.95, "green"))),
        Panel("accountability", "unsigned_changes", "AI changes shipped without dual sign-off", "Commits with AI "
              "lines missing a reviewer's or an approver's sign-off (other than the author's, by two people), most AI "
              "lines first.", Visual.table, width=24,
              links=(_TRACE_LINK,)),
        Panel("accountability", "checklist_completion", "Checklist completion by ${by}", "Sign-offs of AI changes "
              "that answered every question of the checklist.", Visual.table, units=(("completion", "percentunit"),),
              thresholds=(Threshold(None, "red"), Threshold(0.8, "yellow"), Threshold(0.95, "green"))),
        Panel("accountability", "checklist", "Checklist answers", "How reviewers and approvers answered each "
              "checklist question.", Visual.barchart),
        Panel("accountability", "reviewer_load", "Reviewers' load", "Sign-offs, commits and AI lines per signer.",
              Visual.table),
        Panel("accountability", "ownership_gaps", "Ownership gaps", "Per repository: AI changes without a team, "
              "and AI changes signed off only by their own author.", Visual.table, width=24),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (USAGE, RISK, ACCOUNTABILITY, TRACES)
"""Every dashboard, in the order the report shows them."""


def defaults() -> dict[str, str]:
    """The value each fixed-choice or constant variable has when none is chosen (the data source needs one)."""
    return {v.name: v.default for d in DASHBOARDS for v in d.variables if v.default is not None}


def tables_read() -> set[str]:
    """Every table some dashboard reads: what Grafana's read-only ClickHouse user needs SELECT on, and no more."""
    return set().union(*(d.tables for d in DASHBOARDS))
