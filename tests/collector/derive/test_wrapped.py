"""Under ``aitrail wrap``, what an assistant's own events lack of the author is taken from the wrapper's span.

The recordings of the three real CLIs (tests/fixtures/native) are replayed as they arrive when the
person and the team never reached the assistant's resource (a collector on the way stripped them, or
the assistant's own settings replaced ``OTEL_RESOURCE_ATTRIBUTES``): ``team`` and ``aitrail.repo.root``
are taken out, ``aitrail.wrap.trace_id`` stays. The wrapper's span is what ``aitrail wrap`` sends (its
run's trace, ``process.exit.code``, the person, the team and the repository), built here as OTLP/JSON.
"""

from __future__ import annotations

import pytest
import replay
from replay import S

from aitrail.collector.derive import Window, derive_once

RECORDINGS = {"claude_code": "claude_code/write_edit.jsonl", "codex": "codex/apply_patch.jsonl",
              "gemini_cli": "gemini_cli/write_replace.jsonl"}
ROWS = {"claude_code": 3, "codex": 4, "gemini_cli": 3}
"""Generations each recording derives (its own tests say why)."""
WRAP_TRACE = "5a1b2c3d4e5f60718293a4b5c6d7e8f9"
AUTHOR = {"user.id": "ana@example.com", "user.email": "ana@example.com", "user.name": "Ana Lima", "aitrail.team": "platform"}
REPOSITORY = {"vcs.repository.url.full": "https://git.example.com/pay/gateway", "vcs.ref.head.name": "main",
              "vcs.ref.head.revision": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"}


def _run(store, now, dialect, **kwargs):
    return derive_once(store, now_ns=now, dialects=(dialect,), **kwargs)[dialect]


def _stripped(dialect, end_ns, wrap_trace=WRAP_TRACE):
    """The recording as it arrives when only the wrap's trace id survived in the resource; and its repository root."""
    entries = replay.load(RECORDINGS[dialect])
    root = replay.resource_attribute(entries, "aitrail.repo.root")
    add = {"aitrail.wrap.trace_id": wrap_trace} if wrap_trace else {}
    return replay.with_resource(replay.rebase(entries, end_ns), drop=("team", "aitrail.repo.root"), add=add), root


def _wrap_span(start_ns, root, trace_id=WRAP_TRACE, attributes=AUTHOR):
    """The wrapper's span, as ``aitrail wrap`` sends it when the run is over."""
    values = {"aitrail.kind": "observed", "aitrail.assistant": "claude-code", "process.exit.code": "0",
              "aitrail.repo.root": root, **REPOSITORY, **attributes}
    span = {"traceId": trace_id, "spanId": "9d8434594749a9e0", "name": "generation claude-code", "kind": 1,
            "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + 200 * S),
            "attributes": [{"key": k, "value": {"stringValue": val}} for k, val in values.items()]}
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "aitrail"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": {"name": "aitrail"}, "spans": [span]}]}]}


@pytest.mark.parametrize("dialect", RECORDINGS)
def test_the_author_team_and_repository_come_from_the_wrap(store, now, dialect):
    entries, root = _stripped(dialect, now - 120 * S)
    replay.ingest_all(store, entries)
    replay.ingest(store, "traces", _wrap_span(now - 300 * S, root))
    assert _run(store, now, dialect) == ROWS[dialect]
    rows = replay.derived(store)
    assert len(rows) == ROWS[dialect]
    for row in rows:
        assert (row["user_email"], row["user_name"], row["team"]) == ("ana@example.com", "Ana Lima", "platform")
        assert (row["repository"], row["branch"], row["commit"]) == tuple(REPOSITORY.values())
        assert row["user_id"]  # the assistant's own id when it sends one (Codex here sends none: the wrap's)
        assert not row["file_path"].startswith("/")  # relative to the root the wrap names
    assert {r["file_path"] for r in rows} - {""}


@pytest.mark.parametrize("dialect", RECORDINGS)
def test_rows_wait_for_the_wrap_that_their_resource_names(store, now, dialect):
    entries, root = _stripped(dialect, now - 1 * S)
    replay.ingest_all(store, entries)
    window = Window(settle=6, wait=60)
    assert _run(store, now + 10 * S, dialect, window=window) == 0  # everything else is there: the wrap is not
    replay.ingest(store, "traces", _wrap_span(now - 200 * S, root))
    assert _run(store, now + 12 * S, dialect, window=window) == ROWS[dialect]
    assert {(r["user_email"], r["team"]) for r in replay.derived(store)} == {("ana@example.com", "platform")}


def test_a_wrap_that_never_comes_is_waited_for_no_longer_than_the_wait(store, now):
    entries, _ = _stripped("gemini_cli", now - 1 * S)
    replay.ingest_all(store, entries)
    window = Window(settle=6, wait=60)
    assert _run(store, now + 30 * S, "gemini_cli", window=window) == 0
    assert _run(store, now + 61 * S, "gemini_cli", window=window) == ROWS["gemini_cli"]
    assert {(r["user_email"], r["team"]) for r in replay.derived(store)} == {("", "")}


def test_what_the_assistant_sent_wins_over_the_wrap(store, now):
    entries = replay.with_resource(replay.rebase(replay.load(RECORDINGS["claude_code"]), now - 120 * S),
                                   add={"aitrail.wrap.trace_id": WRAP_TRACE})  # team=payments kept
    replay.ingest_all(store, entries)
    replay.ingest(store, "traces", _wrap_span(now - 300 * S, "/elsewhere"))
    _run(store, now, "claude_code")
    rows = replay.derived(store)
    user_id = replay.log_attributes(replay.load(RECORDINGS["claude_code"]), "api_request")[0]["user.id"]
    assert {(r["team"], r["user_id"], r["user_email"]) for r in rows} == {("payments", user_id, "ana@example.com")}
    assert {r["file_path"] for r in rows} == {"src/retry.py", ""}  # the root it sent, not the wrap's


def test_a_wrap_of_another_tenant_is_never_read(store, now):
    entries, root = _stripped("claude_code", now - 120 * S)
    replay.ingest_all(store, entries, tenant="acme")
    replay.ingest(store, "traces", _wrap_span(now - 300 * S, root), tenant="globex")
    _run(store, now + 61 * S, "claude_code")
    rows = replay.derived(store, "acme")
    assert len(rows) == ROWS["claude_code"] and {(r["user_email"], r["team"]) for r in rows} == {("", "")}


def test_without_the_wraps_trace_id_the_trace_the_assistant_joined_names_the_wrap(store, now):
    """The assistant's settings replaced OTEL_RESOURCE_ATTRIBUTES, but it joined the wrap's trace (TRACEPARENT)."""
    entries, root = _stripped("codex", now - 120 * S, wrap_trace=None)
    (turn,) = replay.trace_ids(entries, "codex.user_prompt")  # with traces on, a turn's events carry its trace id
    replay.ingest_all(store, entries)
    replay.ingest(store, "traces", _wrap_span(now - 300 * S, root, trace_id=turn))
    assert _run(store, now, "codex") == ROWS["codex"]
    assert {(r["user_email"], r["team"]) for r in replay.derived(store)} == {("ana@example.com", "platform")}
