"""Commits as data: a committed generation counts as accepted in the usage reports (query time, so a commit sent
twice counts nothing twice), and the daily rollup of commits sums what the commit rows say. Expected values come
from the spans the test sends, counted here."""

from __future__ import annotations

import json
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link

from aitrail.collector.query import read_only_query
from aitrail.collector.store import StoreLocation
from aitrail.dashboards.macros import TimeRange
from aitrail.dashboards.reports import USAGE, panel_sql
from aitrail.sdk import vocabulary as v


def tracer(collector):
    provider = TracerProvider(resource=Resource.create({v.TEAM: "web"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")))
    return provider, provider.get_tracer("commits-test")


def test_committed_generations_count_as_accepted_and_commits_roll_up_by_day(collector, ch, tmp_path):
    provider, t = tracer(collector)
    now = time.time_ns()
    decisions = ["", "", "", "accepted", "rejected"]  # a wrapped assistant's generations say nothing
    generations = []
    for i, decision in enumerate(decisions):
        attributes = {v.KIND: v.KIND_GENERATION, v.ASSISTANT: "codex", v.GEN_AI_REQUEST_MODEL: "gpt-5",
                      v.USER_ID: "ana", v.LINES_ADDED: 2}
        if decision:
            attributes[v.DECISION] = decision
        span = t.start_span(f"gen {i}", attributes=attributes, start_time=now - 1000 + i)
        span.end(end_time=now - 1000 + i)
        generations.append(span)
    committed = [generations[0], generations[1], generations[3]]  # two unmarked, one already accepted
    for sha, added, ai in (("a" * 40, 10, 4), ("b" * 40, 6, 2)):
        commit = {v.KIND: v.KIND_COMMIT, v.VCS_REF_HEAD_REVISION: sha, v.VCS_REPOSITORY_URL_FULL: "repo",
                  v.USER_EMAIL: "ana@example.com", v.LINES_ADDED: added, v.AI_LINES: ai,
                  v.COMMIT_FILES: json.dumps([{"path": "x.py", "added": added, "ai": ai}])}
        for _ in range(2 if sha[0] == "a" else 1):  # the first commit recorded twice
            span = t.start_span("commit", attributes=commit, links=[Link(g.get_span_context()) for g in committed],
                                start_time=now)
            span.end(end_time=now)
    provider.shutdown()

    usage_by_team = next(panel for panel in USAGE if panel.name == "usage_by_team")
    data = read_only_query(StoreLocation(data_dir=tmp_path / "store"), panel_sql(usage_by_team, TimeRange.last_days(1)))
    (row,) = [json.loads(line) for line in data.splitlines()]
    accepted = {id(g) for g in committed} | {id(g) for g, d in zip(generations, decisions) if d == "accepted"}
    assert row["accepted_share"] == round(len(accepted) / len(generations), 3)

    (daily,) = list(ch.query("SELECT repository, author_email, uniqExactMerge(commits) AS commits, "
                             "sum(ai_lines) AS ai FROM aitrail.ai_commits_daily GROUP BY repository, author_email")
                    .named_results())
    assert (daily["repository"], daily["author_email"], daily["commits"]) == ("repo", "ana@example.com", 2)
    assert daily["ai"] == 4 * 2 + 2  # the commit recorded twice is summed twice (documented in the migration)
