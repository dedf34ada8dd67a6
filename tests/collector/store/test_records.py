"""Migrations 0008 and 0009 on the real engine: commit, finding, incident and sign-off spans sent by the real
OTLP exporter through a running collector become typed rows, a re-sent record replaces (never doubles) its row,
and a generation's lines become rows of the fingerprint lookup. Expected values are the attributes the test
sent, written out again here, not read back from aitrail."""

from __future__ import annotations

import json

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanContext, TraceFlags

from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import fingerprints, to_signed

REPO = "https://git.example.com/acme/shop"
T0 = 1_760_000_000_000_000_000


def send(collector, spans: list[tuple[dict, list[Link]]]) -> list:
    provider = TracerProvider(resource=Resource.create({"service.name": "aitrail", v.TEAM: "payments"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")))
    tracer = provider.get_tracer("records-test")
    sent = []
    for i, (attributes, links) in enumerate(spans):
        span = tracer.start_span(str(attributes[v.KIND]), attributes=attributes, links=links, start_time=T0 + i)
        span.end(end_time=T0 + i)
        sent.append(span)
    provider.shutdown()
    return sent


def test_a_commit_span_becomes_a_commit_row_and_one_row_per_file(collector, ch):
    files = [{"path": "shop/cart.py", "added": 7, "ai": 5}, {"path": "README.md", "added": 2, "ai": 0}]
    generation = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    commit = {
        v.KIND: v.KIND_COMMIT, v.VCS_REPOSITORY_URL_FULL: REPO, v.VCS_REF_HEAD_REVISION: "c" * 40,
        v.VCS_REF_HEAD_NAME: "main", v.COMMIT_PARENTS: ["p" * 40], v.USER_EMAIL: "ana@example.com",
        v.USER_NAME: "Ana", v.USER_ID: "u-ana", v.COMMITTER_EMAIL: "bot@example.com", v.LINES_ADDED: 9,
        v.AI_LINES: 5, v.COMMIT_FILES: json.dumps(files), v.COMMIT_ASSISTANTS: ["claude-code"],
        v.COMMIT_TRAILERS: ["Reviewed-by: Bo <bo@example.com>"],
    }
    send(collector, [(commit, [Link(generation)]), (commit, [Link(generation)])])  # the hook ran twice
    rows = list(ch.query("SELECT * FROM aitrail.ai_commits FINAL").named_results())
    assert len(rows) == 1
    row = rows[0]
    assert {k: row[k] for k in ("repository", "commit", "parents", "branch", "author_email", "author_name", "user_id",
                                "committer_email", "team", "lines_added", "ai_lines", "generation_ids", "assistants",
                                "trailers")} == {
        "repository": REPO, "commit": "c" * 40, "parents": ["p" * 40], "branch": "main",
        "author_email": "ana@example.com", "author_name": "Ana", "user_id": "u-ana",
        "committer_email": "bot@example.com", "team": "payments", "lines_added": 9, "ai_lines": 5,
        "generation_ids": [format(0xDEF, "016x")], "assistants": ["claude-code"],
        "trailers": ["Reviewed-by: Bo <bo@example.com>"],
    }
    per_file = ch.query("SELECT file_path, lines_added, ai_lines FROM aitrail.ai_commit_files FINAL "
                        "ORDER BY file_path").result_rows
    assert [tuple(r) for r in per_file] == sorted((f["path"], f["added"], f["ai"]) for f in files)


def test_a_generation_s_lines_land_in_the_fingerprint_lookup(collector, ch):
    lines = ["def total(items):", "    return sum(i.price for i in items)", "}", "x = 1"]
    generation = {
        v.KIND: v.KIND_GENERATION, v.ASSISTANT: "codex", v.GEN_AI_REQUEST_MODEL: "gpt-5",
        v.VCS_REPOSITORY_URL_FULL: REPO, v.CODE_FILE_PATH: "shop/cart.py", v.USER_EMAIL: "ana@example.com",
        v.LINE_FINGERPRINTS: [to_signed(fp) for fp in fingerprints(lines)],
    }
    (span,) = send(collector, [(generation, [])])
    rows = ch.query("SELECT fingerprint, span_id, assistant, model, file_path, user_email, team "
                    "FROM aitrail.ai_line_origins ORDER BY fingerprint").result_rows
    span_id = format(span.get_span_context().span_id, "016x")
    assert [tuple(r) for r in rows] == sorted(
        (fp, span_id, "codex", "gpt-5", "shop/cart.py", "ana@example.com", "payments") for fp in fingerprints(lines))


def test_findings_incidents_and_signoffs_become_typed_rows_and_a_later_record_replaces_an_earlier(collector, ch):
    line = "subprocess.call(cmd, shell=True)"
    finding = {
        v.KIND: v.KIND_FINDING, v.FINDING_ID: "f1", v.FINDING_SOURCE: "bandit", v.FINDING_RULE: "B602",
        v.FINDING_CWE: ["CWE-78"], v.SEVERITY: "high", v.FINDING_MESSAGE: "shell=True", v.VCS_REPOSITORY_URL_FULL: REPO,
        v.VCS_REF_HEAD_REVISION: "c" * 40, v.CODE_FILE_PATH: "shop/run.py", v.LINE_START: 3, v.LINE_END: 3,
        v.LINE_FINGERPRINTS: [to_signed(fp) for fp in fingerprints([line])], v.FINDING_LINE_TEXT: line,
        v.FINDING_RESOLVED: True, v.FINDING_CAUGHT_AT: "scan", v.STATUS: "open",
    }
    incident = {
        v.KIND: v.KIND_INCIDENT, v.INCIDENT_ID: "INC-7", v.INCIDENT_TITLE: "RCE in checkout", v.SEVERITY: "critical",
        v.STATUS: "open", v.COST_USD: 125000.5, v.INCIDENT_FINDINGS: ["f1"], v.INCIDENT_COMMITS: ["c" * 40],
        v.INCIDENT_LOCATIONS: json.dumps([{"path": "shop/run.py", "line": 3}]), v.VCS_REPOSITORY_URL_FULL: REPO,
    }
    signoff = {
        v.KIND: v.KIND_SIGNOFF, v.SIGNOFF_ID: "s1", v.SIGNOFF_ROLE: "approver", v.SIGNOFF_SOURCE: "cli",
        v.VCS_REPOSITORY_URL_FULL: REPO, v.VCS_REF_HEAD_REVISION: "c" * 40, v.USER_EMAIL: "bo@example.com",
        v.USER_NAME: "Bo", v.SIGNOFF_CHECKLIST: json.dumps({"tests": "yes", "secrets": "n/a"}), v.SIGNOFF_NOTE: "ok",
    }
    send(collector, [(finding, []), (incident, []), (signoff, []), ({**finding, v.STATUS: "fixed"}, [])])

    findings = list(ch.query("SELECT * FROM aitrail.ai_findings FINAL").named_results())
    assert len(findings) == 1
    assert {k: findings[0][k] for k in ("finding_id", "source", "rule", "cwe", "severity", "file_path", "line_start",
                                        "line_fingerprints", "line_text", "resolved", "caught_at", "status", "team")} == {
        "finding_id": "f1", "source": "bandit", "rule": "B602", "cwe": ["CWE-78"], "severity": "high",
        "file_path": "shop/run.py", "line_start": 3, "line_fingerprints": fingerprints([line]), "line_text": line,
        "resolved": 1, "caught_at": "scan", "status": "fixed", "team": "payments",
    }
    (inc,) = ch.query("SELECT incident_id, title, cost_usd, finding_ids, commits, JSONExtractString(locations, 1, 'path') "
                      "FROM aitrail.ai_incidents FINAL").result_rows
    assert tuple(inc) == ("INC-7", "RCE in checkout", 125000.5, ["f1"], ["c" * 40], "shop/run.py")
    (so,) = ch.query("SELECT commit, role, signer_email, signer_name, source, checklist, note "
                     "FROM aitrail.ai_signoffs FINAL").result_rows
    assert tuple(so) == ("c" * 40, "approver", "bo@example.com", "Bo", "cli", {"tests": "yes", "secrets": "n/a"}, "ok")
