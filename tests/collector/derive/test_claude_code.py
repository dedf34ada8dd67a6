"""Claude Code's native telemetry, recorded from the real CLI (tests/fixtures/native/claude_code), becomes generations.

The recording: "Add a retry policy for the card gateway in src/retry.py" -> Write src/retry.py
(23 lines, 703 characters: more than Claude Code puts in a log record), then Edit of one line into
two, then a final answer. Claude Code ran with OTEL_LOG_USER_PROMPTS, OTEL_LOG_TOOL_DETAILS,
OTEL_LOG_TOOL_CONTENT and traces on, OTEL_RESOURCE_ATTRIBUTES=team=payments,aitrail.repo.root=<repo>.
"""

from __future__ import annotations

import json

import pytest
import replay
from replay import S

from aitrail.collector.derive import Window, derive_once
from aitrail.sdk.fingerprint import fingerprints

WRITE_EDIT = "claude_code/write_edit.jsonl"
REJECTED = "claude_code/rejected.jsonl"


def _lines(text: str) -> list[str]:
    return (text[:-1] if text.endswith("\n") else text).split("\n") if text else []


def _run(store, now, **kwargs):
    return derive_once(store, now_ns=now, dialects=("claude_code",), **kwargs)["claude_code"]


@pytest.fixture
def recording():
    return replay.load(WRITE_EDIT)


def _expected(entries):
    """What the derivation must find, read straight from the recorded payloads (not from our SQL)."""
    outputs = replay.span_events(entries, "claude_code.tool", "tool.output")
    content = next(o["content"] for o in outputs if "content" in o)
    hunks = json.loads(next(o["diff"] for o in outputs if "diff" in o))
    edit_added = [line[1:] for h in hunks for line in h["lines"] if line.startswith("+")]
    requests = replay.log_attributes(entries, "api_request")
    return content, edit_added, requests


def test_a_write_and_an_edit_become_two_generations_and_the_last_answer_a_third(store, now, recording):
    replay.ingest_all(store, replay.rebase(recording, now - 120 * S))
    assert _run(store, now) == 3
    content, edit_added, requests = _expected(recording)
    prompt = replay.log_attributes(recording, "user_prompt")[0]["prompt"]
    write, edit, answer = replay.derived(store)

    assert write["file_path"] == "src/retry.py"  # absolute in the payload, relative to aitrail.repo.root
    assert write["line_fingerprints"] == fingerprints(_lines(content))  # the whole file, from the span's content
    assert (write["line_start"], write["line_end"], write["lines_added"]) == (1, 23, 23)
    assert edit["file_path"] == "src/retry.py" and edit["line_fingerprints"] == fingerprints(edit_added)
    assert (edit["line_start"], edit["line_end"], edit["lines_added"], edit["lines_removed"]) == (6, 7, 2, 1)
    for row in (write, edit):
        assert row["decision"] == "accepted" and row["status"] == "Ok" and row["language"] == "python"
    assert answer["file_path"] == "" and answer["line_fingerprints"] == []  # an answer that wrote no code

    for row in (write, edit, answer):
        assert row["prompt"] == prompt and row["prompt_policy"] == "full"
        assert row["assistant"] == "claude-code" and row["provider"] == "anthropic"
        assert row["model"] == requests[0]["model"] and row["team"] == "payments"
        assert row["user_id"] == requests[0]["user.id"] and row["session_id"] == requests[0]["session.id"]
        assert row["tenant"] == "default" and row["service_name"] == "claude-code"
    # Each answer's tokens and cost, once: the Write's answer, the Edit's answer, the final answer.
    assert [(r["input_tokens"], r["output_tokens"]) for r in (write, edit, answer)] == [
        (int(q["input_tokens"]) + int(q["cache_read_tokens"]) + int(q["cache_creation_tokens"]), int(q["output_tokens"]))
        for q in requests
    ]
    assert sum(r["cost_usd"] for r in (write, edit, answer)) == pytest.approx(sum(float(q["cost_usd"]) for q in requests))
    # Same trace as Claude Code's interaction span, and the tool call names the generation.
    interaction = replay.log_attributes(recording, "tool_result")
    attrs = {s["SpanAttributes"].get("gen_ai.tool.call.id"): s for s in replay.spans(store)}
    assert {r["tool_use_id"] for r in interaction} <= set(attrs)


def test_the_generic_llm_request_spans_of_claude_code_are_no_longer_generations(store, now, recording):
    replay.ingest_all(store, replay.rebase(recording, now - 120 * S))
    assert store.rows("SELECT count() AS n FROM aitrail.otel_traces WHERE SpanName = 'claude_code.llm_request'")[0]["n"] == 3
    _run(store, now)
    assert store.rows("SELECT count() AS n FROM aitrail.ai_generations")[0]["n"] == 3  # only the derived ones


def test_without_traces_a_long_write_has_its_file_but_no_fingerprints(store, now, recording):
    """Logs only: Claude Code cut the Write's 703-character content to 128 and a marker, so no line can be trusted."""
    logs = [e for e in recording if e["signal"] == "logs"]
    replay.ingest_all(store, replay.rebase(logs, now - 1 * S))
    window = Window(settle=6, wait=60)
    assert _run(store, now + 10 * S, window=window) == 2  # the Edit, whose text fits in the log, and the last answer
    edit = next(r for r in replay.derived(store) if r["file_path"])
    assert edit["line_fingerprints"] == fingerprints(_expected(recording)[1])
    assert (edit["lines_added"], edit["lines_removed"], edit["line_start"]) == (2, 1, 0)  # no line numbers in the log
    assert _run(store, now + 30 * S, window=window) == 0  # the Write waits for a span that may bring its content
    assert _run(store, now + 61 * S, window=window) == 1  # ... until the wait is over
    write = next(r for r in replay.derived(store) if r["timestamp"] < edit["timestamp"] and r["file_path"])
    assert write["file_path"] == "src/retry.py" and write["line_fingerprints"] == [] and write["decision"] == "accepted"
    assert write["input_tokens"] > 0  # its answer's tokens are still counted, once


def test_events_arriving_out_of_order_and_apart_still_join(store, now, recording):
    """Tool results first, the answers later, the prompt after them, the spans last: each export seconds apart."""
    items = replay.split(replay.rebase(recording, now - 1 * S))
    by = lambda *names: [(s, b) for s, b in items if replay.name(s, b) in names]  # noqa: E731
    window = Window(settle=6, wait=60)

    for signal, body in by("tool_result", "tool_decision"):
        replay.ingest(store, signal, body)
    assert _run(store, now + 10 * S, window=window) == 0  # no prompt, no answer yet
    for signal, body in by("api_request"):
        replay.ingest(store, signal, body)
    assert _run(store, now + 12 * S, window=window) == 0  # still no prompt
    for signal, body in by("user_prompt"):
        replay.ingest(store, signal, body)
    assert _run(store, now + 14 * S, window=window) == 2  # the Edit (its text is in the log) and the final answer
    for signal, body in by("claude_code.tool", "claude_code.interaction", "claude_code.llm_request"):
        replay.ingest(store, signal, body)
    assert _run(store, now + 16 * S, window=window) == 1  # the Write, now with its whole content
    content, _, requests = _expected(recording)
    rows = replay.derived(store)
    write = next(r for r in rows if r["lines_added"] == 23)
    assert write["line_fingerprints"] == fingerprints(_lines(content)) and write["prompt"]
    assert sorted(r["input_tokens"] for r in rows) == sorted(int(q["input_tokens"]) for q in requests)


def test_deriving_again_or_over_more_history_adds_nothing(store, now, recording):
    replay.ingest_all(store, replay.rebase(recording, now - 120 * S))
    assert _run(store, now) == 3
    first = replay.spans(store)
    assert _run(store, now) == 0
    assert _run(store, now + 3600 * S, window=Window(lookback=7 * 86_400)) == 0
    assert replay.spans(store) == first


def test_a_retried_export_is_not_a_second_generation(store, now, recording):
    rebased = replay.rebase(recording, now - 120 * S)
    replay.ingest_all(store, rebased)
    replay.ingest_all(store, rebased)  # the same requests again, as an exporter retrying would send them
    assert _run(store, now) == 3
    assert sum(r["input_tokens"] for r in replay.derived(store)) == 3 * 321


def test_two_tenants_are_never_joined(store, now, recording):
    """Same session, prompt and tool ids under two tenants: each tenant's rows only join its own events."""
    items = replay.split(replay.rebase(recording, now - 120 * S))
    for signal, body in items:
        if replay.name(signal, body) in ("tool_result", "tool_decision", "claude_code.tool"):
            replay.ingest(store, signal, body, tenant="acme")  # acme has the tool calls...
        else:
            replay.ingest(store, signal, body, tenant="globex")  # ...globex the prompt and the answers
    _run(store, now)
    acme, globex = replay.derived(store, "acme"), replay.derived(store, "globex")
    assert len(acme) == 2 and all(r["prompt"] == "" and r["input_tokens"] == 0 and r["model"] == "" for r in acme)
    assert len(globex) == 3 and all(r["file_path"] == "" for r in globex)
    assert {s["ResourceAttributes"]["aitrail.tenant.id"] for s in replay.spans(store)} == {"acme", "globex"}

    replay.ingest_all(store, replay.rebase(recording, now - 120 * S), tenant="initech")
    assert _run(store, now) == 3
    assert len(replay.derived(store, "initech")) == 3 and len(replay.derived(store, "acme")) == 2


def test_a_rejected_write_is_a_rejected_generation(store, now):
    """Print mode without permission: Claude Code rejects the Write; no tool_result, the span names the file."""
    recording = replay.load(REJECTED)
    replay.ingest_all(store, replay.rebase(recording, now - 120 * S))
    _run(store, now)
    rows = replay.derived(store)
    rejected = [r for r in rows if r["decision"] == "rejected"]
    assert len(rejected) == 1
    assert rejected[0]["file_path"] == "src/retry.py" and rejected[0]["line_fingerprints"] == []
    assert rejected[0]["status"] == "Unset"
    requests = replay.log_attributes(recording, "api_request")
    assert sum(r["input_tokens"] for r in rows) == sum(int(q["input_tokens"]) for q in requests)


def test_without_tool_details_or_traces_only_the_fact_of_each_write_remains(store, now, recording):
    """OTEL_LOG_TOOL_DETAILS unset and no traces: Claude Code says a Write and an Edit ran, not where or what."""
    logs = [e for e in recording if e["signal"] == "logs"]
    items = [(s, b) for s, b in replay.split(replay.rebase(logs, now - 120 * S))]
    for signal, body in items:
        record = body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
        record["attributes"] = [kv for kv in record["attributes"] if kv["key"] != "tool_input"]
        replay.ingest(store, signal, body)
    assert _run(store, now) == 3
    writes = [r for r in replay.derived(store) if r["decision"]]
    assert len(writes) == 2 and all(r["file_path"] == "" and r["line_fingerprints"] == [] for r in writes)
    assert all(r["prompt"] and r["input_tokens"] == 321 for r in writes)
