"""The engine marks a span ``model_call`` exactly where the GenAI content processor would have.

A trace request whose bytes name no message is not read by GenAI content while the collector derives
generations: its one possible change, the mark, is left to the traces statement (``MODEL_CALL``). Over random
requests — the processor's keys in every value kind it reads differently (arrays of strings as their lines,
other arrays and lists as JSON, numbers as nothing), duplicates, prompt keys, the assistants' own spans — the
rows the engine stores from the request as sent, flagged, equal the rows of the request the processor marked.
"""

from __future__ import annotations

import random
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from aitrail.collector.engine import ingest, traces
from aitrail.collector.engine.schema import SHALLOW_DEPTH
from aitrail.collector.pipeline import run_processors
from aitrail.collector.processors import IngestContext
from aitrail.collector.processors.genai_content import GenAIContent
from aitrail.collector.spool import Requests

KEYS = ["aitrail.kind", "gen_ai.operation.name", "gen_ai.request.model", "gen_ai.agent.name",
        "aitrail.prompt.text", "aitrail.prompt.hash", "aitrail.prompt.policy", "x"]
STRINGS = ["chat", "text_completion", "generate_content", "embeddings", "", "gemini-cli", "claude-x", "generation"]


def _value(rng: random.Random, target: AnyValue, key: str) -> None:
    kind = rng.choice(["string"] * 5 + ["strings", "mixed", "int", "bool", "list", "nan", "empty"])
    if kind == "string":
        target.string_value = "gemini-cli" if key == "gen_ai.agent.name" and rng.random() < 0.6 else rng.choice(STRINGS)
    elif kind in ("strings", "mixed"):
        for _ in range(rng.randrange(0, 3)):
            item = target.array_value.values.add()
            if kind == "mixed" and rng.random() < 0.5:
                item.int_value = rng.randrange(9)
            else:
                item.string_value = rng.choice(STRINGS)
        if not target.array_value.values:
            target.array_value.SetInParent()  # an empty array is still an array
    elif kind == "int":
        target.int_value = rng.randrange(9)
    elif kind == "bool":
        target.bool_value = rng.random() < 0.5
    elif kind == "list":
        target.kvlist_value.values.add(key="k").value.string_value = rng.choice(STRINGS)
    elif kind == "nan":  # JSON text that fails, read as '' both ways (the only JSON text a rule can tell apart)
        target.array_value.values.add().double_value = float("nan")
    # "empty": no value at all


def _request(rng: random.Random) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for _ in range(rng.randrange(1, 3)):
        scope = request.resource_spans.add().scope_spans.add()
        scope.scope.name = rng.choice(["openai-v2", "com.anthropic.claude_code.events", "aitrail.sdk"])
        for _ in range(rng.randrange(1, 12)):
            span = scope.spans.add(name=rng.choice(["chat gpt", "claude_code.llm_request", "call"]),
                                   trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
            for _ in range(rng.randrange(0, 6)):  # keys drawn with repetition: duplicates, any order
                key = rng.choice(KEYS)
                _value(rng, span.attributes.add(key=key).value, key)
    return request


def _rows(store: Any, table: str, spooled: list[Any]) -> dict[str, dict[str, str]]:
    """The SpanAttributes the engine stores from spooled parts, by span id, drained as one batch per statement."""
    store.command(f"CREATE TABLE IF NOT EXISTS aitrail.{table} AS aitrail.otel_traces")
    store.command(f"TRUNCATE TABLE aitrail.{table}")
    parts: dict[str, list[Requests]] = {}
    for flattened in spooled:
        for part, requests in flattened.tables.items():
            parts.setdefault(part, []).append(requests)
    for part, all_requests in parts.items():
        ingest.insert(store, part, Requests.concat(all_requests), into=table)
    rows = store.rows(f"SELECT SpanId, SpanAttributes FROM aitrail.{table}")
    return {row["SpanId"]: row["SpanAttributes"] for row in rows}


def test_the_engine_marks_exactly_the_spans_the_processor_marks(store):
    rng = random.Random(15)
    processor = GenAIContent("redacted", derive=True)
    processed, flagged = [], []
    for _ in range(300):
        request = _request(rng)
        body = request.SerializeToString()
        read = ExportTraceServiceRequest.FromString(body)  # the processor reads it and marks in Python
        changed, engine_marks = run_processors([processor], "traces", read, IngestContext(), None)
        assert not engine_marks
        processed.append(traces.to_spool(read, "default", None, SHALLOW_DEPTH))
        as_sent = ExportTraceServiceRequest.FromString(body)  # the request as the collector spools it, flagged
        changed, engine_marks = run_processors([processor], "traces", as_sent, IngestContext(), body)
        assert engine_marks and not changed and as_sent.SerializeToString() == body
        flagged.append(traces.to_spool(as_sent, "default", None, SHALLOW_DEPTH, body, True))
    expected, stored = _rows(store, "processed", processed), _rows(store, "marked", flagged)
    assert len(stored) == len(expected) > 1000 and stored == expected
    marked = sum(1 for attributes in expected.values() if attributes.get("aitrail.kind") == "model_call")
    assert 50 < marked < len(expected) - 50  # the rule was exercised both ways


def test_without_the_flag_nothing_is_marked(store):
    """A request the processor read (or one spooled before the flag existed) is left as it is by the engine."""
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(name="chat", trace_id=b"t" * 16, span_id=b"s" * 8)
    span.attributes.add(key="gen_ai.operation.name").value.string_value = "chat"
    rows = _rows(store, "unflagged", [traces.to_spool(request, "default", None, SHALLOW_DEPTH)])
    assert list(rows.values()) == [{"gen_ai.operation.name": "chat"}]
    flagged = _rows(store, "flagged", [traces.to_spool(request, "default", None, SHALLOW_DEPTH, None, True)])
    assert list(flagged.values()) == [{"gen_ai.operation.name": "chat", "aitrail.kind": "model_call"}]
