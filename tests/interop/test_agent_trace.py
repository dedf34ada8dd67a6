"""Agent Trace records out of and into aitrail, through real collectors and a real git repository.

Exported records are validated against the JSON schema of the specification (tests/fixtures/agent_trace,
with format checks); the round trip aitrail -> Agent Trace -> aitrail is checked against the lines and
commits the test made, not against aitrail's own answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

import aitrail
from aitrail.cli import app
from aitrail.errors import InvalidImport
from aitrail.interop.agent_trace import export_records, import_agent_trace, parse_since, write_records
from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.hooks import record_commit

from interop_support import (WITH_AND_WITHOUT_COLLECTOR, collector_process, commit_files, destination_of, import_twice,
                             rows, typed_rows, wait_rows)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "agent_trace"
SCHEMA = json.loads((FIXTURES / "trace-record.schema.json").read_text())
REPO_URL = "https://git.example.com/acme/shop.git"

OLD_CART = ["def total(items):", "    return sum(i.price for i in items)"]
NEW_CART = ["def total(items):", "    return sum(i.price * i.qty for i in items)", "", "def vat(total):",
            "    return round(total * 0.2, 2)"]
UTIL = ["def clamp(value, low, high):", "    return max(low, min(value, high))"]
REPORT = ["def report(orders):", "    return {o.id: o.total for o in orders}"]


def validator() -> Draft202012Validator:
    return Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def fingerprints_of(lines: list[str]) -> list[int]:
    return [fp for fp in map(line_fingerprint, lines) if fp is not None]


def make_generations(repo: Path, collector) -> str:
    """Two generations through the SDK (one writes two files), committed through the post-commit hook's code."""
    commit_files(repo, {"shop/cart.py": OLD_CART}, "base")
    aitrail.configure(endpoint=collector.http_url)
    with aitrail.track(assistant="claude-code", prompt="add vat", model="claude-sonnet-4-5", provider="anthropic",
                       session_id="sess-1", cwd=repo) as gen:
        gen.record_edit(repo / "shop/cart.py", "\n".join(NEW_CART) + "\n", old_text="\n".join(OLD_CART) + "\n")
        gen.record_edit(repo / "shop/util.py", "\n".join(UTIL) + "\n")
    with aitrail.track(assistant="codex", prompt="report", model="gpt-5", session_id="sess-2", cwd=repo) as gen:
        gen.record_edit(repo / "shop/report.py", "\n".join(REPORT) + "\n")
    assert aitrail.flush()
    sha = commit_files(repo, {"shop/cart.py": NEW_CART, "shop/util.py": UTIL, "shop/report.py": REPORT}, "vat")
    record_commit(repo)
    assert aitrail.flush()
    return sha


EXPECTED = {
    # file -> (first line, last line, model, provider, assistant, session, lines)
    "shop/cart.py": (2, 5, "claude-sonnet-4-5", "anthropic", "claude-code", "sess-1", NEW_CART[1:5]),
    "shop/util.py": (1, 2, "claude-sonnet-4-5", "anthropic", "claude-code", "sess-1", UTIL),
    "shop/report.py": (1, 2, "gpt-5", "", "codex", "sess-2", REPORT),
}
GENERATION_COLUMNS = ("file_path, line_start, line_end, model, provider, assistant, session_id, line_fingerprints, "
                      "commit, repository")


def test_round_trip_keeps_every_attribution_and_reimports_add_nothing(repo, collector, ch, tmp_path):
    with collector_process(tmp_path / "source", tmp_path / "source.log") as source:
        sha = make_generations(repo, source)
        read_source = destination_of(source).read
        wait_rows(read_source, "SELECT commit FROM aitrail.ai_commits", 1)
        assert len(wait_rows(read_source, "SELECT span_id FROM aitrail.ai_generations", len(EXPECTED))) == len(EXPECTED)

        records = export_records(read_source)

        assert len(records) == len(EXPECTED)
        for record in records:
            assert not list(validator().iter_errors(record)), record
            assert record["vcs"] == {"type": "git", "revision": sha}  # the commit that carried the lines
        by_path = {r["files"][0]["path"]: r["files"][0]["conversations"][0] for r in records}
        for path, (first, last, model, provider, *_) in EXPECTED.items():
            assert by_path[path]["ranges"] == [{"start_line": first, "end_line": last}]
            assert by_path[path]["contributor"] == {"type": "ai",
                                                    "model_id": f"{provider}/{model}" if provider else model}
        out = tmp_path / "export" / "traces.jsonl"
        write_records(records, out)

        summary = import_agent_trace(out, destination_of(collector), repo_path=repo)
        assert (summary.records, summary.generations, summary.sent, summary.lines_without_fingerprints) == (3, 3, 3, 0)
        got = rows(ch, f"SELECT {GENERATION_COLUMNS} FROM aitrail.ai_generations ORDER BY file_path", 3)
        assert sorted(tuple(g.values()) for g in got) == sorted(
            (path, first, last, model, provider, assistant, session, fingerprints_of(lines), sha, REPO_URL)
            for path, (first, last, model, provider, assistant, session, lines) in EXPECTED.items())
        kinds = ch.query("SELECT DISTINCT SpanAttributes['aitrail.contributor.type'] FROM aitrail.otel_traces").result_rows
        assert kinds == [("ai",)]
        # ... and out again: the same records (ids, ranges, contributors, revisions, metadata).
        assert export_records(destination_of(collector).read) == records

        assert import_agent_trace(out, destination_of(collector), repo_path=repo).sent == 0  # a re-import adds nothing
        assert import_agent_trace(out, destination_of(source), repo_path=repo).sent == 0  # nor into the origin


OTHER_TOOLS_LINES = ["import os", "def main():", "    print(os.getcwd())", "    # by hand", "    return 0",
                     "if __name__ == '__main__':", "    main()"]


def another_tools_records(repo: Path) -> str:
    """Commit OTHER_TOOLS_LINES (then rewrite them), and write Agent Trace records of another tool about them to
    ``.agent-trace/traces.jsonl``: lines 1-3 and 6-7 by AI, 5 mixed, 4 human; the same record twice. Returns the
    commit."""
    sha = commit_files(repo, {"app/main.py": OTHER_TOOLS_LINES}, "main")
    commit_files(repo, {"app/main.py": ["# rewritten later"]}, "later")  # the working tree no longer has them
    record = {
        "version": "0.1.0", "id": "550e8400-e29b-41d4-a716-446655440000", "timestamp": "2026-01-23T14:30:00Z",
        "vcs": {"type": "git", "revision": sha}, "tool": {"name": "cursor", "version": "2.4.0"},
        "files": [{"path": "app/main.py", "conversations": [
            {"url": "https://api.cursor.com/v1/conversations/12345",
             "contributor": {"type": "ai", "model_id": "anthropic/claude-opus-4-5-20251101"},
             "ranges": [{"start_line": 1, "end_line": 3}, {"start_line": 6, "end_line": 7, "content_hash": "murmur3:9f"},
                        {"start_line": 5, "end_line": 5, "contributor": {"type": "mixed", "model_id": "openai/gpt-4o"}}]},
            {"contributor": {"type": "human"}, "ranges": [{"start_line": 4, "end_line": 4}]},
        ]}],
    }
    path = repo / ".agent-trace" / "traces.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps(record) + "\n" + json.dumps(record, indent=None) + "\n")  # the same record twice
    return sha


def test_records_of_another_tool_take_their_fingerprints_from_the_repository_at_the_revision(repo, collector, ch):
    lines = OTHER_TOOLS_LINES
    sha = another_tools_records(repo)

    summary = import_agent_trace(repo / ".agent-trace", destination_of(collector))

    assert (summary.records, summary.generations, summary.sent, summary.lines_without_fingerprints) == (2, 2, 2, 0)
    got = rows(ch, "SELECT file_path, line_start, line_end, model, provider, assistant, commit, line_fingerprints, "
                   "trace_id, span_id FROM aitrail.ai_generations ORDER BY line_start", 2)
    assert [tuple(g.values())[:8] for g in got] == [
        ("app/main.py", 1, 7, "claude-opus-4-5-20251101", "anthropic", "cursor", sha,
         fingerprints_of(lines[0:3] + lines[5:7])),
        ("app/main.py", 5, 5, "gpt-4o", "openai", "cursor", sha, fingerprints_of(lines[4:5])),
    ]
    attributes = {r[0]: r[1:] for r in ch.query(
        "SELECT SpanId, SpanAttributes['aitrail.contributor.type'], SpanAttributes['aitrail.code.line_ranges'], "
        "SpanAttributes['aitrail.conversation.url'] FROM aitrail.otel_traces").result_rows}
    assert attributes[got[0]["span_id"]] == ("ai", "[[1,3],[6,7]]", "https://api.cursor.com/v1/conversations/12345")
    assert attributes[got[1]["span_id"]] == ("mixed", "", "https://api.cursor.com/v1/conversations/12345")
    # Out again: the ranges and contributor types as they came in.
    conversations = {r["files"][0]["conversations"][0]["contributor"]["type"]: r["files"][0]["conversations"][0]
                     for r in export_records(destination_of(collector).read)}
    assert conversations["ai"]["ranges"] == [{"start_line": 1, "end_line": 3}, {"start_line": 6, "end_line": 7}]
    assert conversations["mixed"]["contributor"] == {"type": "mixed", "model_id": "openai/gpt-4o"}


@WITH_AND_WITHOUT_COLLECTOR
def test_the_command_imports_with_or_without_a_collector_owning_the_data_directory(repo, tmp_path, request, running):
    sha = another_tools_records(repo)
    store = tmp_path / "store"
    import_twice(request, running, store, ["import", "agent-trace", str(repo / ".agent-trace")])

    got = typed_rows(request, store, "SELECT file_path, line_start, line_end, commit, model, line_fingerprints "
                                     "FROM aitrail.ai_generations ORDER BY line_start")
    ai, mixed = OTHER_TOOLS_LINES[0:3] + OTHER_TOOLS_LINES[5:7], OTHER_TOOLS_LINES[4:5]
    assert got == [("app/main.py", 1, 7, sha, "claude-opus-4-5-20251101", fingerprints_of(ai)),
                   ("app/main.py", 5, 5, sha, "gpt-4o", fingerprints_of(mixed))]


def test_the_specification_s_examples_import_with_unknown_fingerprints_when_the_lines_are_not_there(tmp_path):
    example = import_agent_trace(FIXTURES / "example-6.2.json", None)
    assert (example.records, example.generations, example.lines_without_fingerprints) == (1, 2, (67 - 42 + 1) + (25 - 10 + 1))
    minimal = import_agent_trace(FIXTURES / "minimal-appendix-a.json", None)
    assert (minimal.generations, minimal.lines_without_fingerprints, minimal.dry_run) == (1, 50, True)


BAD = [
    ({"files": [{"path": "a.py", "conversations": [{"ranges": [{"start_line": 3, "end_line": 2}]}]}]},
     "$.files[0].conversations[0].ranges[0].end_line: 2 is before start_line 3"),
    ({"files": [{"path": "a.py", "conversations": [{"contributor": {"type": "robot"}, "ranges": []}]}]},
     "$.files[0].conversations[0].contributor.type: must be one of human, ai, mixed, unknown"),
    ({"files": [{"path": "/etc/passwd", "conversations": []}]}, "$.files[0].path: '/etc/passwd' is not a path relative"),
    ({"files": [{"path": "a.py", "conversations": [{"ranges": [{"start_line": True, "end_line": 1}]}]}]},
     "$.files[0].conversations[0].ranges[0].start_line: must be a line number"),
    ({"timestamp": "yesterday", "files": []}, "$.timestamp: 'yesterday' is not an RFC 3339 date-time"),
    ({"files": {}}, "$.files: must be an array"),
]


@pytest.mark.parametrize("change, message", BAD)
def test_a_malformed_record_refuses_the_whole_file_and_names_its_line_and_json_path(collector, ch, tmp_path, change,
                                                                                    message):
    good = {"version": "0.1.0", "id": "r1", "timestamp": "2026-01-25T10:00:00Z",
            "files": [{"path": "src/app.ts", "conversations": [{"contributor": {"type": "ai"},
                                                               "ranges": [{"start_line": 1, "end_line": 50}]}]}]}
    source = tmp_path / "traces.jsonl"
    source.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "id": "r2", **change}) + "\n")
    with pytest.raises(InvalidImport) as caught:
        import_agent_trace(source, destination_of(collector))
    assert f"{source}: line 3: {message}" in str(caught.value)
    assert ch.query("SELECT count() FROM aitrail.otel_traces").result_rows == [(0,)]  # not even the good one


def test_the_commands_export_to_a_directory_and_refuse_bad_input_with_exit_status_2(repo, collector, tmp_path):
    make_generations(repo, collector)
    out = tmp_path / "records"
    runner = CliRunner()
    exported = runner.invoke(app, ["export", "agent-trace", "--sql-url", collector.sql_url, "--repo", str(repo),
                                   "--since", "1d", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    files = sorted(out.iterdir())
    assert len(files) == len(EXPECTED)
    for file in files:
        record = json.loads(file.read_text())
        assert file.name == f"{record['id']}.json" and not list(validator().iter_errors(record))
    other_repo = runner.invoke(app, ["export", "agent-trace", "--sql-url", collector.sql_url,
                                     "--repo", "https://elsewhere.example.com/x.git"])
    assert other_repo.exit_code == 0 and other_repo.output == ""

    broken = tmp_path / "broken.json"
    broken.write_text('{"version": "0.1.0", "id": "x", "timestamp": "2026-01-25T10:00:00Z", "files": [{"path": 1}]}')
    refused = runner.invoke(app, ["import", "agent-trace", str(broken), "--dry-run"])
    assert refused.exit_code == 2
    assert "$.files[0].path: must be a string" in refused.output and "Traceback" not in refused.output


def test_since_takes_durations_and_dates():
    now = 1_800_000_000.0
    assert parse_since("7d", now) == int((now - 7 * 86400) * 10**9)
    assert parse_since("2026-01-31", now) == 1_769_817_600 * 10**9
    assert parse_since("2026-01-31T01:00:00+01:00", now) == 1_769_817_600 * 10**9
    with pytest.raises(Exception, match="--since 'soon'"):
        parse_since("soon", now)
