"""The team report on the real engine: two teams' generations, commits, sign-offs, findings and incidents sent as
spans by the real OTLP exporter through a running collector, read back by ``team_report`` (which asks the dashboards'
panels) and written as HTML by ``aitrail report --html``. Every expected value is
computed here from the seed (and prices.csv read with the csv module), not read back from aitrail."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from aitrail.dashboards.team_report import team_report
from aitrail.sdk import vocabulary as v
from aitrail.sdk.accountability.policy import DEFAULT_CHECKLIST
from aitrail.sdk.fingerprint import fingerprints, to_signed

R1, R2 = "https://git.example.com/acme/shop", "https://git.example.com/acme/search"
PRICES = {row["model"]: row for row in csv.DictReader(
    (Path(__file__).parents[2] / "collector" / "store" / "prices.csv").open())}
AI_LINE = "cursor.execute('SELECT * FROM t WHERE id=' + user_id)"
HUMAN_LINE = "subprocess.call(command_line, shell=True)"
ALL_ANSWERS = {key: "yes" for key in DEFAULT_CHECKLIST}

GENERATIONS = [  # (id, team, repo, person, model, input, output, cost or None, lines)
    ("g1", "payments", R1, "ana@example.com", "gpt-4o", 1000, 500, None, [AI_LINE, "return rows.fetchall()"]),
    ("g2", "payments", R1, "ana@example.com", "claude-sonnet-4-5", 300, 200, 0.5, ["total = price * qty"]),
    ("g3", "payments", R1, "bo@example.com", "claude-sonnet-4-5-20250929", 2000, 1000, None, ["tax = total * rate"]),
    ("g4", "search", R2, "cy@example.com", "gemini-2.5-pro", 400, 100, 1.0, ["index.rebuild(force=True)"]),
]
COMMITS = [  # (sha, team, repo, author, lines added, ai lines)
    ("c1" * 20, "payments", R1, "ana@example.com", 10, 6),
    ("c2" * 20, "payments", R1, "bo@example.com", 5, 0),
    ("c3" * 20, "search", R2, "cy@example.com", 8, 8),
]
SIGNOFFS = [  # (commit, role, signer, checklist)
    ("c1" * 20, "reviewer", "bo@example.com", ALL_ANSWERS),
    ("c1" * 20, "approver", "dee@example.com", {"tests": "yes"}),
    ("c3" * 20, "reviewer", "cy@example.com", ALL_ANSWERS),  # the author: does not count
    ("c3" * 20, "approver", "eve@example.com", ALL_ANSWERS),
]
FINDINGS = [  # (id, team, repo, commit, line, caught_at, generation)
    ("f1", "payments", R1, "c1" * 20, AI_LINE, "scan", ""),
    ("f2", "payments", R1, "c2" * 20, HUMAN_LINE, "scan", ""),
    ("f3", "search", R2, "", "index.rebuild(force=True)", "generation", "g4"),
]
INCIDENTS = [("INC-1", "payments", R1, ["c1" * 20], ["f1"], 1000.0), ("INC-2", "search", R2, [], [], 50.0)]


def seed(collector) -> dict[str, str]:
    provider = TracerProvider(resource=Resource.create({"service.name": "report-test"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")))
    tracer = provider.get_tracer("report-test")
    now = time.time_ns() - 3600 * 10**9
    span_ids = {}

    def emit(name: str, attributes: dict) -> str:
        span = tracer.start_span(name, attributes=attributes, start_time=now)
        span.end(end_time=now)
        return format(span.get_span_context().span_id, "016x")

    for gid, team, repo, person, model, tokens_in, tokens_out, cost, lines in GENERATIONS:
        attributes = {v.KIND: v.KIND_GENERATION, v.TEAM: team, v.VCS_REPOSITORY_URL_FULL: repo, v.USER_EMAIL: person,
                      v.GEN_AI_REQUEST_MODEL: model, v.GEN_AI_USAGE_INPUT_TOKENS: tokens_in,
                      v.GEN_AI_USAGE_OUTPUT_TOKENS: tokens_out, v.ASSISTANT: gid,
                      v.LINE_FINGERPRINTS: [to_signed(fp) for fp in fingerprints(lines)]}
        if cost is not None:
            attributes[v.COST_USD] = cost
        span_ids[gid] = emit("chat", attributes)
    for sha, team, repo, author, added, ai in COMMITS:
        emit("commit", {v.KIND: v.KIND_COMMIT, v.TEAM: team, v.VCS_REPOSITORY_URL_FULL: repo,
                        v.VCS_REF_HEAD_REVISION: sha, v.USER_EMAIL: author, v.LINES_ADDED: added, v.AI_LINES: ai})
    for n, (sha, role, signer, answers) in enumerate(SIGNOFFS):
        emit("signoff", {v.KIND: v.KIND_SIGNOFF, v.SIGNOFF_ID: f"s{n}", v.SIGNOFF_ROLE: role, v.SIGNOFF_SOURCE: "cli",
                         v.VCS_REF_HEAD_REVISION: sha, v.USER_EMAIL: signer, v.SIGNOFF_CHECKLIST: json.dumps(answers)})
    for fid, team, repo, sha, line, caught_at, generation in FINDINGS:
        emit("finding", {v.KIND: v.KIND_FINDING, v.FINDING_ID: fid, v.TEAM: team, v.VCS_REPOSITORY_URL_FULL: repo,
                         v.VCS_REF_HEAD_REVISION: sha, v.FINDING_CAUGHT_AT: caught_at, v.FINDING_SOURCE: "bandit",
                         v.LINE_FINGERPRINTS: [to_signed(fp) for fp in fingerprints([line])],
                         v.GENERATION_SPAN_ID: span_ids.get(generation, "")})
    for iid, team, repo, commits, finding_ids, cost in INCIDENTS:
        emit("incident", {v.KIND: v.KIND_INCIDENT, v.INCIDENT_ID: iid, v.TEAM: team, v.VCS_REPOSITORY_URL_FULL: repo,
                          v.INCIDENT_COMMITS: commits, v.INCIDENT_FINDINGS: finding_ids, v.COST_USD: cost})
    provider.shutdown()
    return span_ids


def estimated(model: str, tokens_in: int, tokens_out: int) -> float:
    family = model.rsplit("-2025", 1)[0]
    price = PRICES[family]
    return (tokens_in * float(price["input_usd_per_mtok"]) + tokens_out * float(price["output_usd_per_mtok"])) / 1e6


def expected_for(team: str | None) -> dict:
    """What the report must say for one team (None: everyone), from the seed alone."""
    gens = [g for g in GENERATIONS if team in (None, g[1])]
    commits = [c for c in COMMITS if team in (None, c[1])]
    ai_line_fps = {fp for g in GENERATIONS for fp in fingerprints(g[8])}
    ai_commits = {c[0] for c in COMMITS if c[5] > 0}
    lacking = 0
    for sha, _, _, author, _, ai in commits:
        if ai == 0:
            continue
        counted = {(role, signer) for s_sha, role, signer, _ in SIGNOFFS if s_sha == sha and signer != author}
        people = {signer for _, signer in counted}
        if not ({r for r, _ in counted} >= {"reviewer", "approver"} and len(people) >= 2):
            lacking += 1
    findings = [f for f in FINDINGS if team in (None, f[1])]
    committed = [f for f in findings if f[5] != "generation"]
    in_ai = [f for f in committed if set(fingerprints([f[4]])) & ai_line_fps]
    signoffs = [s for s in SIGNOFFS if s[0] in ai_commits and team in (None, next(c[1] for c in COMMITS if c[0] == s[0]))]
    incidents = [i for i in INCIDENTS if team in (None, i[1])]
    on_ai = {f[0] for f in FINDINGS if f[5] == "generation" or set(fingerprints([f[4]])) & ai_line_fps}
    share = {i[0]: len(set(i[4]) & on_ai) / max(len(i[4]), 1) for i in incidents}  # of its findings, those on AI code
    traced = [i for i in incidents if share[i[0]] > 0]
    lines_added, ai_lines = sum(c[4] for c in commits), sum(c[5] for c in commits)
    return {
        "people": len({g[3] for g in gens}), "generations": len(gens), "tokens": sum(g[5] + g[6] for g in gens),
        "cost_usd": pytest.approx(sum(g[7] if g[7] is not None else estimated(g[4], g[5], g[6]) for g in gens), abs=1e-4),
        "cost_estimated_usd": pytest.approx(sum(estimated(g[4], g[5], g[6]) for g in gens if g[7] is None), abs=1e-4),
        "lines_added": lines_added, "ai_lines": ai_lines, "ai_share": round(ai_lines / lines_added, 3),
        "ai_commits": sum(c[5] > 0 for c in commits), "ai_commits_lacking_signoff": lacking,
        "findings_ai": len(in_ai), "findings_human": len(committed) - len(in_ai),
        "findings_per_kloc_ai": round(len(in_ai) / ai_lines * 1000, 2) if ai_lines else None,
        "findings_per_kloc_human": round((len(committed) - len(in_ai)) / (lines_added - ai_lines) * 1000, 2)
        if lines_added - ai_lines else None,
        "caught_at_generation": len(findings) - len(committed),
        "incidents": len(incidents), "incidents_ai": len(traced),
        "incidents_ai_cost_usd": round(sum(i[5] * share[i[0]] for i in incidents), 2),
        "signoffs": len(signoffs),
        "checklists_complete": sum(set(s[3]) >= set(DEFAULT_CHECKLIST) for s in signoffs),
    }


def test_the_team_report_says_what_the_seed_did(collector, tmp_path):
    seed(collector)
    from aitrail.collector.store import StoreLocation

    location = StoreLocation(data_dir=collector.config.location.data_dir)
    deadline = time.monotonic() + 10
    while True:
        report = team_report(location, checklist=list(DEFAULT_CHECKLIST), sql_url=collector.sql_url)
        if report["total"]["incidents"] == len(INCIDENTS) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [g["team"] for g in report["groups"]] == ["payments", "search"]
    for row in report["groups"]:
        want = expected_for(row["team"])
        assert {k: row[k] for k in want} == want, row["team"]
    want = expected_for(None)
    assert {k: report["total"][k] for k in want} == want

    only = team_report(location, team="search", checklist=list(DEFAULT_CHECKLIST), sql_url=collector.sql_url)
    assert [g["team"] for g in only["groups"]] == ["search"]
    by_person = team_report(location, by="person", sql_url=collector.sql_url)
    people = {g["person"]: g for g in by_person["groups"]}
    assert people["ana@example.com"]["generations"] == sum(g[3] == "ana@example.com" for g in GENERATIONS)
    assert people["ana@example.com"]["ai_lines"] == sum(c[5] for c in COMMITS if c[3] == "ana@example.com")

    from typer.testing import CliRunner

    from aitrail.cli import app

    runner = CliRunner()
    as_json = runner.invoke(app, ["report", "--sql-url", collector.sql_url, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["total"]["generations"] == len(GENERATIONS)
    table = runner.invoke(app, ["report", "--sql-url", collector.sql_url, "--by", "repository"])
    assert table.exit_code == 0 and "█" in table.stdout and "total" in table.stdout and "AI share" in table.stdout
    page = tmp_path / "report.html"
    written = runner.invoke(app, ["report", "--sql-url", collector.sql_url, "--html", str(page), "--team", "search"])
    assert written.exit_code == 0, written.output
    data = json.loads(page.read_text().split('id="report-data">', 1)[1].split("</script>", 1)[0])
    usage = next(p for s in data for p in s["panels"] if p["name"] == "usage_by_team")
    assert [(r["team"], int(r["generations"])) for r in usage["rows"]] == [
        ("search", sum(g[1] == "search" for g in GENERATIONS))]
    assert usage["title"] == "AI usage by team"
    alias = tmp_path / "alias.html"
    assert runner.invoke(app, ["dashboards", "html", str(alias), "--sql-url", collector.sql_url]).exit_code == 0
    assert 'id="report-data">' in alias.read_text()
    wrong = runner.invoke(app, ["report", "--by", "planet"])
    assert wrong.exit_code == 2 and "Traceback" not in wrong.output


def test_a_tenant_s_token_reads_the_report_of_its_own_tenant(make_collector, monkeypatch):
    """Through a collector that requires tokens, each tenant's report counts its own generations and commits
    (the SQL reads the tenant's views), with the cost estimated from tokens."""
    tokens = {"acme": "acme-secret-token-0000000000000000", "zeta": "zeta-secret-token-0000000000000000"}
    monkeypatch.setenv("AITRAIL_TOKENS", ";".join(f"{t}:ingest,query={s}" for t, s in tokens.items()))
    collector = make_collector()
    sent = {"acme": [("gpt-4o", 1_000_000, 0), ("gpt-4o", 0, 1_000_000)], "zeta": [("gpt-4o-mini", 2_000_000, 0)]}
    for tenant, generations in sent.items():
        provider = TracerProvider(resource=Resource.create({"service.name": "tenant-test"}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(
            endpoint=f"{collector.http_url}/v1/traces", headers={"Authorization": f"Bearer {tokens[tenant]}"})))
        tracer = provider.get_tracer("tenant-test")
        for model, tokens_in, tokens_out in generations:
            tracer.start_span("chat", attributes={v.KIND: v.KIND_GENERATION, v.TEAM: tenant, v.USER_EMAIL: f"dev@{tenant}",
                                                  v.GEN_AI_REQUEST_MODEL: model, v.GEN_AI_USAGE_INPUT_TOKENS: tokens_in,
                                                  v.GEN_AI_USAGE_OUTPUT_TOKENS: tokens_out}).end()
        provider.shutdown()
    from aitrail.collector.store import StoreLocation

    location = StoreLocation(data_dir=collector.config.location.data_dir)
    for tenant, generations in sent.items():
        report = team_report(location, sql_url=collector.sql_url, token=tokens[tenant])
        assert [g["team"] for g in report["groups"]] == [tenant]
        assert report["total"]["generations"] == len(generations)
        assert report["total"]["cost_estimated_usd"] == pytest.approx(sum(estimated(*g) for g in generations), abs=1e-4)
