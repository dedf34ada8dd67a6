"""Gemini CLI's native telemetry, recorded from the real CLI (tests/fixtures/native/gemini_cli), becomes generations.

The recording: "Write a greeting module in src/greet.py" -> write_file src/greet.py, replace of one
line by two, a final answer. Gemini CLI 0.61.0 against a stand-in of the Gemini API, telemetry to an
OTLP/HTTP endpoint, prompts logged, OTEL_RESOURCE_ATTRIBUTES=team=payments,aitrail.repo.root=<repo>.
"""

from __future__ import annotations

import json

import replay
from replay import S

from aitrail.collector.derive import Window, derive_once
from aitrail.collector.processors.mapping import Mapping
from aitrail.sdk.fingerprint import fingerprints

RECORDING = "gemini_cli/write_replace.jsonl"


def _run(store, now, **kwargs):
    return derive_once(store, now_ns=now, dialects=("gemini_cli",), **kwargs)["gemini_cli"]


def _lines(text: str) -> list[str]:
    return (text[:-1] if text.endswith("\n") else text).split("\n") if text else []


def test_write_file_and_replace_become_generations(store, now):
    entries = replay.load(RECORDING)
    replay.ingest_all(store, replay.rebase(entries, now - 120 * S))
    assert _run(store, now) == 3
    calls = replay.log_attributes(entries, "gemini_cli.tool_call")
    write_args, replace_args = (json.loads(c["function_args"]) for c in calls)
    prompt = replay.log_attributes(entries, "gemini_cli.user_prompt")[0]
    responses = replay.log_attributes(entries, "gemini_cli.api_response")

    write, edit, answer = replay.derived(store)
    assert write["file_path"] == edit["file_path"] == "src/greet.py" and answer["file_path"] == ""
    assert write["line_fingerprints"] == fingerprints(_lines(write_args["content"]))
    assert (write["line_start"], write["line_end"]) == (1, len(_lines(write_args["content"])))
    new, old = _lines(replace_args["new_string"]), _lines(replace_args["old_string"])
    assert edit["line_fingerprints"] == fingerprints([line for line in new if line not in old])
    metadata = json.loads(calls[1]["metadata"])
    assert (edit["lines_added"], edit["lines_removed"]) == (metadata["model_added_lines"], metadata["model_removed_lines"])
    for row in (write, edit, answer):
        assert row["prompt"] == prompt["prompt"] and row["session_id"] == prompt["session.id"]
        assert row["user_id"] == prompt["installation.id"]  # what Gemini CLI knows of a person signed in by API key
        assert row["assistant"] == "gemini-cli" and row["provider"] == "gcp.gemini" and row["model"] == "gemini-2.5-pro"
        assert row["team"] == "payments"
    assert [r["decision"] for r in (write, edit)] == ["accepted", "accepted"]
    assert [(r["input_tokens"], r["output_tokens"]) for r in (write, edit, answer)] == [
        (int(q["input_token_count"]), int(q["output_token_count"]) + int(q["thoughts_token_count"])) for q in responses
    ]


def test_answers_arriving_after_the_tool_calls_still_join(store, now):
    items = replay.split(replay.rebase(replay.load(RECORDING), now - 1 * S))
    window = Window(settle=6, wait=60)
    late = ("gemini_cli.api_response",)
    for signal, body in items:
        if replay.name(signal, body) not in late:
            replay.ingest(store, signal, body)
    assert _run(store, now + 10 * S, window=window) == 0
    for signal, body in items:
        if replay.name(signal, body) in late:
            replay.ingest(store, signal, body)
    assert _run(store, now + 12 * S, window=window) == 3
    assert sum(r["input_tokens"] for r in replay.derived(store)) == 3 * 500


def test_the_people_table_names_the_installation(store, now):
    entries = replay.load(RECORDING)
    install = replay.log_attributes(entries, "gemini_cli.user_prompt")[0]["installation.id"]
    mapping = Mapping(people={install: {"email": "ben@example.com", "name": "Ben"}})
    replay.ingest_all(store, replay.rebase(entries, now - 120 * S), processors=[mapping])
    _run(store, now)
    assert {(r["user_email"], r["user_name"]) for r in replay.derived(store)} == {("ben@example.com", "Ben")}


def test_deriving_again_adds_nothing(store, now):
    replay.ingest_all(store, replay.rebase(replay.load(RECORDING), now - 120 * S))
    assert _run(store, now) == 3
    assert _run(store, now) == 0
