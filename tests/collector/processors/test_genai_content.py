"""A generic GenAI application's prompt and answer reach ai_generations: spans sent by the real OpenTelemetry SDK
and OTLP exporter to a real collector, read back from ClickHouse."""

from __future__ import annotations

import json

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from aitrail.sdk.fingerprint import fingerprints

CODE = ["def retry(call, attempts=3):", "    for attempt in range(attempts):", "        try:",
        "            return call()", "        except TimeoutError:", "            continue"]
ANSWER = "Here is a helper:\n\n```python\n" + "\n".join(CODE) + "\n```\nUse it around the gateway call."
PROMPT = "Write a retry helper for the card gateway; questions to ana@example.com"


def _send(collector, attributes: dict, events: list[tuple[str, dict]] = ()) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "chat-app"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")))
    with provider.get_tracer("test").start_as_current_span("chat gpt-4o", attributes=attributes) as span:
        for name, values in events:
            span.add_event(name, values)
    provider.shutdown()
    assert collector.wait_drained()


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
                       {"role": role, "parts": [{"type": "text", "content": text}]}])


CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.provider.name": "openai"}


@pytest.mark.parametrize(("attributes", "events"), [
    ({**CHAT, "gen_ai.input.messages": _messages("user", PROMPT),
      "gen_ai.output.messages": _messages("assistant", ANSWER)}, []),
    (CHAT, [("gen_ai.client.inference.operation.details",
             {"gen_ai.input.messages": _messages("user", PROMPT), "gen_ai.output.messages": _messages("assistant", ANSWER)})]),
    ({**CHAT, "gen_ai.prompt": PROMPT}, [("gen_ai.content.completion", {"gen_ai.completion": ANSWER})]),
    (CHAT, [("gen_ai.user.message", {"content": PROMPT}), ("gen_ai.choice", {"message": json.dumps({"content": ANSWER})})]),
], ids=["current-attributes", "current-event", "older-attribute", "older-events"])
def test_the_prompt_under_the_policy_and_the_answers_code_as_fingerprints(make_collector, attributes, events):
    collector = make_collector()  # prompt_policy "redacted" by default
    _send(collector, attributes, events)
    (row,) = collector.store.rows("SELECT prompt, prompt_policy, prompt_hash, line_fingerprints, lines_added, model "
                                  "FROM aitrail.ai_generations")
    assert row["prompt"] == PROMPT.replace("ana@example.com", "[REDACTED:email]")
    assert row["prompt_policy"] == "redacted" and len(row["prompt_hash"]) == 64 and row["model"] == "gpt-4o"
    assert row["line_fingerprints"] == fingerprints(CODE) and row["lines_added"] == len(CODE)
    raw = json.dumps(collector.store.rows("SELECT SpanAttributes, Events.Attributes FROM aitrail.otel_traces"))
    assert "ana@example.com" not in raw  # the messages themselves are not kept beside the redacted prompt


def test_under_the_hash_policy_only_the_hash_is_kept_and_under_full_the_messages_stay(make_collector):
    hashed = make_collector(prompt_policy="hash")
    _send(hashed, {**CHAT, "gen_ai.input.messages": _messages("user", PROMPT)})
    (row,) = hashed.store.rows("SELECT prompt, prompt_policy, prompt_hash FROM aitrail.ai_generations")
    assert (row["prompt"], row["prompt_policy"], len(row["prompt_hash"])) == ("", "hash", 64)
    assert "card gateway" not in json.dumps(hashed.store.rows("SELECT SpanAttributes FROM aitrail.otel_traces"))


def test_a_span_that_already_carries_aitrails_prompt_is_left_alone(make_collector):
    collector = make_collector()
    _send(collector, {**CHAT, "aitrail.prompt.text": "the SDK's prompt", "aitrail.prompt.policy": "full",
                      "gen_ai.input.messages": _messages("user", PROMPT)})
    (row,) = collector.store.rows("SELECT prompt FROM aitrail.ai_generations")
    assert row["prompt"] == "the SDK's prompt"
