"""The GenAI content processor leaves a span at its first aitrail prompt key: over mixed requests (the SDK's spans,
GenAI spans with messages on attributes or events, duplicate keys, prompt keys anywhere, the assistants' own spans),
it changes exactly the spans the GenAI rules say it must, decided here from each span's attributes as a whole."""

from __future__ import annotations

import json
import random

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from aitrail.collector.processors import IngestContext
from aitrail.collector.processors.genai_content import GenAIContent

MESSAGES = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "write a loop"}]}])
ANSWER = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "```py\nfor i in x:\n    go(i)\n```"}]}])
CHOICES = [
    ("aitrail.prompt.text", ["p", ""]), ("aitrail.prompt.hash", ["h"]), ("aitrail.kind", ["", "generation", "commit"]),
    ("gen_ai.operation.name", ["chat", "embeddings", "generate_content", ""]), ("gen_ai.request.model", ["m", ""]),
    ("gen_ai.agent.name", ["gemini-cli", "other"]), ("gen_ai.input.messages", [MESSAGES, "[]"]),
    ("gen_ai.output.messages", [ANSWER]), ("gen_ai.prompt", ["say hi"]), ("x", ["y"]), ("user.id", ["u"]),
]


def _request(rng: random.Random) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for _ in range(rng.randrange(1, 3)):
        scope = request.resource_spans.add().scope_spans.add()
        scope.scope.name = rng.choice(["aitrail.sdk", "com.anthropic.claude_code", "openai-v2"])
        for _ in range(rng.randrange(1, 6)):
            span = scope.spans.add(name=rng.choice(["chat", "claude_code.llm_request"]))
            choices = CHOICES if rng.random() < 0.4 else CHOICES[3:]  # the SDK's marks on some spans only
            for _ in range(rng.randrange(0, 12)):  # keys drawn with repetition: duplicates, in any order
                key, values = rng.choice(choices)
                span.attributes.add(key=key).value.string_value = rng.choice(values)
            if rng.random() < 0.3:
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
