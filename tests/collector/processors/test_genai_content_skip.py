"""The GenAI content processor leaves a span at its first aitrail prompt key: over mixed requests (the SDK's spans,
GenAI spans with messages on attributes or events, duplicate keys, prompt keys anywhere, the assistants' own spans),
it changes exactly the spans the GenAI rules say it must, decided here from each span's attributes as a whole."""

from __future__ import annotations

import json
import random

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from aitrail.collector.processors import IngestContext
from aitrail.collector.processors.genai_content import MESSAGE_ATTRIBUTES, MESSAGE_EVENTS, GenAIContent

MESSAGES = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "write a loop"}]}])
ANSWER = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "```py\nfor i in x:\n    go(i)\n```"}]}])
CHOICES = [
    ("aitrail.prompt.text", ["p", ""]), ("aitrail.prompt.hash", ["h"]), ("aitrail.kind", ["", "generation", "commit"]),
    ("gen_ai.operation.name", ["chat", "embeddings", "generate_content", ""]), ("gen_ai.request.model", ["m", ""]),
    ("gen_ai.agent.name", ["gemini-cli", "other"]), ("gen_ai.input.messages", [MESSAGES, "[]"]),
    ("gen_ai.output.messages", [ANSWER]), ("gen_ai.prompt", ["say hi"]), ("x", ["y"]), ("user.id", ["u"]),
]


def _request(rng: random.Random, messages: bool = True) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    allowed = [(key, values) for key, values in CHOICES if messages or key not in MESSAGE_ATTRIBUTES]
    for _ in range(rng.randrange(1, 3)):
        scope = request.resource_spans.add().scope_spans.add()
        scope.scope.name = rng.choice(["aitrail.sdk", "com.anthropic.claude_code", "openai-v2"])
        for _ in range(rng.randrange(1, 6)):
            span = scope.spans.add(name=rng.choice(["chat", "claude_code.llm_request"]))
            choices = allowed if rng.random() < 0.4 else allowed[3:]  # the SDK's marks on some spans only
            for _ in range(rng.randrange(0, 12)):  # keys drawn with repetition: duplicates, in any order
                key, values = rng.choice(choices)
                span.attributes.add(key=key).value.string_value = rng.choice(values)
            if messages and rng.random() < 0.3:
                span.events.add(name="gen_ai.user.message").attributes.add(key="content").value.string_value = "hi"
    return request


def _must_change(span, scope: str) -> bool:
    """The GenAI rules, from the span's whole attribute list (the last of duplicate keys wins)."""
    keys = [kv.key for kv in span.attributes]
    last = {kv.key: kv.value.string_value for kv in span.attributes}
    if "aitrail.prompt.text" in keys or "aitrail.prompt.hash" in keys or last.get("aitrail.kind"):
        return False
    operation = last.get("gen_ai.operation.name", "")
    generic = operation in ("chat", "text_completion", "generate_content") or (not operation and last.get("gen_ai.request.model"))
    own = span.name.startswith("claude_code.") or scope.startswith("com.anthropic.claude_code") \
        or last.get("gen_ai.agent.name") == "gemini-cli"
    return bool(generic) and not own  # with derive on, such a span gets its content or the model_call mark


@pytest.mark.parametrize("policy", ["redacted", "full"])
def test_exactly_the_spans_the_rules_name_are_changed(policy):
    rng = random.Random(policy)
    processor = GenAIContent(policy, derive=True)
    changed = unchanged = 0
    for _ in range(300):
        request = _request(rng)
        before = ExportTraceServiceRequest()
        before.CopyFrom(request)
        processor.process("traces", request, IngestContext())
        for rs_before, rs_after in zip(before.resource_spans, request.resource_spans):
            for ss_before, ss_after in zip(rs_before.scope_spans, rs_after.scope_spans):
                for span_before, span_after in zip(ss_before.spans, ss_after.spans):
                    must = _must_change(span_before, ss_before.scope.name)
                    assert (span_after != span_before) == must, (span_before, span_after)
                    changed, unchanged = changed + must, unchanged + (not must)
    assert changed > 50 and unchanged > 50  # both kinds were tried, many times


def _logs_request(rng: random.Random) -> ExportLogsServiceRequest:
    """Records of the assistants' own events and of GenAI message events, names on the field or the attribute."""
    request = ExportLogsServiceRequest()
    names = ["claude_code.api_request", "codex.tool_result", "gen_ai.user.message", "gen_ai.choice",
             "gen_ai.client.inference.operation.details", "gen_ai.system.message"]
    records = request.resource_logs.add().scope_logs.add().log_records
    for _ in range(rng.randrange(1, 6)):
        record = records.add()
        name = rng.choice(names[:2] if rng.random() < 0.5 else names)  # half the requests: no message event
        if rng.random() < 0.5:
            record.event_name = name
        else:
            record.attributes.add(key="event.name").value.string_value = name
        record.body.string_value = rng.choice([MESSAGES, ANSWER, '{"content": "hello"}', "plain"])
        if rng.random() < 0.2:
            record.attributes.add(key="gen_ai.input.messages").value.string_value = rng.choice([MESSAGES, "[]"])
    return request


@pytest.mark.parametrize("signal,derive", [("logs", True), ("logs", False), ("traces", False), ("traces", True)])
def test_a_request_whose_bytes_name_no_message_is_processed_with_the_same_result(signal, derive):
    """Given the request's bytes, the processor skips a record (and a span, when it does not derive) only where
    reading it would have changed nothing: deriving, a span without messages may still get the model_call mark."""
    rng = random.Random(f"{signal} {derive}")
    processor = GenAIContent("redacted", derive=derive)
    make = _logs_request if signal == "logs" else (lambda rng: _request(rng, messages=rng.random() < 0.5))
    changed = skipped = 0
    for _ in range(300):
        request = make(rng)
        body = request.SerializeToString()
        read, given = type(request).FromString(body), type(request).FromString(body)
        read_changed = processor.process(signal, read, IngestContext())
        given_changed = processor.process(signal, given, IngestContext(), body)
        assert (given_changed, given) == (read_changed, read)
        changed += read_changed
        skipped += all(name.encode() not in body for name in (*MESSAGE_EVENTS, *MESSAGE_ATTRIBUTES))
    assert changed > 20 and skipped > 20  # both kinds were tried, many times
