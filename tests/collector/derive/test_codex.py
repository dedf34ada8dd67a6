"""Codex CLI's native telemetry, recorded from the real CLI (tests/fixtures/native/codex), becomes generations.

The recording: "Add a retry policy for the card gateway, with a test" -> one apply_patch adding
src/retry.py and tests/test_retry.py, a second one updating src/retry.py, a final answer. Codex
0.171.0 against a stand-in of the Responses API, log_user_prompt = true,
OTEL_RESOURCE_ATTRIBUTES=team=payments,aitrail.repo.root=<repo>; once with a trace exporter (its log
records then carry the turn's trace id), once with logs only (no trace ids at all).
"""

from __future__ import annotations

import pytest
import replay
from replay import S

from aitrail.collector.derive import Window, derive_once
from aitrail.sdk.fingerprint import fingerprints

WITH_TRACES = "codex/apply_patch.jsonl"
LOGS_ONLY = "codex/apply_patch_logs_only.jsonl"


def _run(store, now, **kwargs):
    return derive_once(store, now_ns=now, dialects=("codex",), **kwargs)["codex"]


def _sections(patch: str) -> dict[str, list[str]]:
    """Added lines per file of an apply_patch text, parsed here independently of the SQL."""
    files: dict[str, list[str]] = {}
    current = None
    for line in patch.split("\n"):
        for head in ("*** Add File: ", "*** Update File: "):
            if line.startswith(head):
                current = files.setdefault(line[len(head):], [])
        if line.startswith("+") and current is not None:
            current.append(line[1:])
    return files


@pytest.mark.parametrize("recording", [WITH_TRACES, LOGS_ONLY])
def test_each_file_of_each_patch_is_a_generation(store, now, recording):
    entries = replay.load(recording)
    replay.ingest_all(store, replay.rebase(entries, now - 120 * S))
    assert _run(store, now) == 4
    results = replay.log_attributes(entries, "codex.tool_result")
    first, second = (_sections(r["arguments"]) for r in results)
    prompt = replay.log_attributes(entries, "codex.user_prompt")[0]["prompt"]
    tokens = [(int(e["input_token_count"]), int(e["output_token_count"]))
              for e in replay.log_attributes(entries, "codex.sse_event") if "input_token_count" in e]

    rows = replay.derived(store)
    by_file = [(r["file_path"], r) for r in rows]
    assert [f for f, _ in by_file] == ["src/retry.py", "tests/test_retry.py", "src/retry.py", ""]
    added_retry, added_test, update, answer = (r for _, r in by_file)
    assert added_retry["line_fingerprints"] == fingerprints(first["src/retry.py"])
    assert added_test["line_fingerprints"] == fingerprints(first["tests/test_retry.py"])
    assert (added_retry["line_start"], added_retry["line_end"]) == (1, len(first["src/retry.py"]))
    assert update["line_fingerprints"] == fingerprints(second["src/retry.py"])
    assert (update["lines_added"], update["lines_removed"], update["line_start"]) == (2, 1, 0)
    for row in rows:
        assert row["prompt"] == prompt and row["model"] == "gpt-5.5" and row["assistant"] == "codex"
        assert row["team"] == "payments" and row["provider"] == "openai" and row["service_name"] == "codex_exec"
    for row in (added_retry, added_test, update):
        assert row["decision"] == "accepted" and row["language"] == "python"
    # One patch wrote two files: its answer's tokens are on the first of them only.
    assert [(r["input_tokens"], r["output_tokens"]) for r in rows] == [tokens[0], (0, 0), tokens[1], tokens[2]]


def test_resource_attributes_percent_encoded_by_aitrail_wrap_are_decoded(store, now):
    """``aitrail wrap`` percent-encodes what W3C baggage forbids in OTEL_RESOURCE_ATTRIBUTES (a space, a comma);
    Codex passes the values on undecoded. Its generations carry them decoded; a '%' starting no escape stays."""
    from urllib.parse import quote, unquote

    from aitrail.sdk.wrap.child import _BAGGAGE_SAFE

    sent = {"user.name": quote("Alice Smith", safe=_BAGGAGE_SAFE), "team": quote("payments & risk, EU", safe=_BAGGAGE_SAFE),
            "user.email": "alice@example.com"}
    entries = replay.with_resource(replay.load(WITH_TRACES), add={**sent, "service.note": "100% of it"})
    replay.ingest_all(store, replay.rebase(entries, now - 120 * S))
    assert sent["user.name"] == "Alice%20Smith" and _run(store, now) == 4
    for row in replay.derived(store):
        assert (row["user_name"], row["team"], row["user_email"]) == (
            unquote(sent["user.name"]), unquote(sent["team"]), sent["user.email"])
    resources = store.rows("SELECT ResourceAttributes['service.note'] AS note, ResourceAttributes['team'] AS team "
                           "FROM aitrail.otel_traces WHERE SpanName = 'aitrail.derived.generation'")
    assert {(r["note"], r["team"]) for r in resources} == {("100% of it", "payments & risk, EU")}
    raw = store.rows("SELECT DISTINCT ResourceAttributes['team'] AS team FROM aitrail.otel_logs")
    assert [r["team"] for r in raw] == [sent["team"]]  # the raw table keeps what was sent


def test_a_prompt_arriving_after_its_tool_results_is_still_joined(store, now):
    """Logs only (no trace ids): everything but the prompt first; the prompt in a later export."""
    items = replay.split(replay.rebase(replay.load(LOGS_ONLY), now - 1 * S))
    window = Window(settle=6, wait=60)
    for signal, body in items:
        if replay.name(signal, body) != "codex.user_prompt":
            replay.ingest(store, signal, body)
    assert _run(store, now + 10 * S, window=window) == 0
    for signal, body in items:
        if replay.name(signal, body) == "codex.user_prompt":
            replay.ingest(store, signal, body)
    assert _run(store, now + 12 * S, window=window) == 4
    assert all(r["prompt"] for r in replay.derived(store))


def test_with_trace_ids_a_prompt_of_another_turn_is_not_taken(store, now):
    """The turn's prompt has not arrived, an older turn's has: the trace ids differ, so the row waits."""
    entries = replay.rebase(replay.load(WITH_TRACES), now - 1 * S)
    items = replay.split(entries)
    window = Window(settle=6, wait=60)
    older = next(body for signal, body in items if replay.name(signal, body) == "codex.user_prompt")
    older = replay.rebase([{"signal": "logs", "body": older}], now - 30 * S)[0]["body"]
    record = older["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    record["traceId"] = "0" * 31 + "1"
    for kv in record["attributes"]:
        if kv["key"] == "prompt":
            kv["value"] = {"stringValue": "an older prompt"}
    replay.ingest(store, "logs", older)
    for signal, body in items:
        if replay.name(signal, body) != "codex.user_prompt":
            replay.ingest(store, signal, body)
    assert _run(store, now + 10 * S, window=window) == 0  # answers take their request's trace id: no prompt either
    assert _run(store, now + 61 * S, window=window) == 4  # given up waiting: without a prompt, never with the wrong one
    rows = replay.derived(store)
    assert all(r["prompt"] == "" for r in rows) and sum(r["input_tokens"] for r in rows) > 0


def test_deriving_again_adds_nothing(store, now):
    replay.ingest_all(store, replay.rebase(replay.load(LOGS_ONLY), now - 120 * S))
    assert _run(store, now) == 4
    assert _run(store, now) == 0
    assert _run(store, now + 600 * S) == 0
