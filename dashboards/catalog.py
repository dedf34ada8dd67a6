"""aitrail's dashboards: every panel defined once, here (its SQL beside it in ``sql/<dashboard>/``).

Grafana (``aitrail dashboards build`` / ``push``), the HTML report, ``aitrail usage`` and the tests all read these.
"""

from __future__ import annotations

from aitrail.dashboards.panels import Dashboard, Link, Panel, Threshold, Variable, Visual

TRACES_UID = "aitrail-traces"

TEAM = Variable("team", "Team", "SELECT DISTINCT team FROM aitrail.ai_usage_daily WHERE team != '' ORDER BY team")
ASSISTANT = Variable("assistant", "Assistant",
                     "SELECT DISTINCT assistant FROM aitrail.ai_usage_daily WHERE assistant != '' ORDER BY assistant")
MODEL = Variable("model", "Model", "SELECT DISTINCT model FROM aitrail.ai_usage_daily WHERE model != '' ORDER BY model")
REPOSITORY = Variable("repository", "Repository",
                      "SELECT DISTINCT repository FROM aitrail.ai_repositories_daily WHERE repository != '' "
                      "ORDER BY repository")
TRACE_ID = Variable("trace_id", "Trace id", "", multi=False, text=True)

_TRACE_LINK = Link("Open the trace", f"/d/{TRACES_UID}?var-trace_id=${{__data.fields.trace_id}}&${{__url_time_range}}",
                   "trace_id")


def _usage(name: str, title: str, description: str, visual: Visual, **more: object) -> Panel:
    return Panel("usage", name, title, description, visual, **more)  # type: ignore[arg-type]


USAGE = Dashboard(
    uid="aitrail-usage",
    title="aitrail · AI usage",
    description="How much AI each team uses, with which assistants and models, at what cost, and what it wrote.",
    variables=(TEAM, ASSISTANT, MODEL, REPOSITORY),
    panels=(
        _usage("headline", "At a glance", "Generations, people, tokens, cost and lines AI wrote in the time range "
               "(whole UTC days).", Visual.stat, width=24, height=4,
               units=(("cost_usd", "currencyUSD"),)),
        _usage("generations_by_team", "Generations per team", "AI generations each UTC day, per team.",
               Visual.timeseries),
        _usage("active_people", "Active AI users per team", "People who used an AI assistant each UTC day, per team.",
               Visual.timeseries),
        _usage("usage_by_team", "AI usage by team", "Generations, people, tokens, cost, lines written and the share "
               "of generations accepted, per team.", Visual.table, width=24,
               units=(("cost_usd", "currencyUSD"), ("accepted_share", "percentunit")),
               thresholds=(Threshold(None, "red"), Threshold(0.3, "yellow"), Threshold(0.6, "green"))),
        _usage("usage_by_assistant", "AI usage by assistant and model", "Which assistants and models wrote the code.",
               Visual.table, units=(("cost_usd", "currencyUSD"),)),
        _usage("cost_by_person", "Tokens and cost per person", "The 20 people whose AI use cost most in the time "
               "range, with their team.", Visual.table, units=(("cost_usd", "currencyUSD"),),
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

DASHBOARDS: tuple[Dashboard, ...] = (USAGE, TRACES)
"""Every dashboard, in the order the report shows them."""


def find_panel(dashboard_uid: str, name: str) -> Panel:
    """A panel by dashboard uid and name."""
    return next(d for d in DASHBOARDS if d.uid == dashboard_uid).panel(name)
