"""Vocabulary normalization, on real OTLP request messages (the tenant stamp is the engine's: tests/collector/engine/test_tenant_stamp.py)."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from aitrail.collector.processors import IngestContext
from aitrail.collector.processors.normalize import Normalize


def _kv(key, value):
    kv = KeyValue(key=key)
    kv.value.string_value = value
    return kv


def _attrs(attributes):
    return {kv.key: kv.value.string_value for kv in attributes}


def _traces(resource, span):
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend([_kv(k, v) for k, v in resource.items()])
    rs.scope_spans.add().spans.add(name="s").attributes.extend([_kv(k, v) for k, v in span.items()])
    return request


def test_aliases_become_the_canonical_names():
    request = _traces({"team": "payments"}, {"gen_ai.system": "anthropic", "gen_ai.usage.prompt_tokens": "3", "x": "y"})
    Normalize().process("traces", request, IngestContext())
    assert _attrs(request.resource_spans[0].resource.attributes) == {"aitrail.team": "payments"}
    span = _attrs(request.resource_spans[0].scope_spans[0].spans[0].attributes)
    assert span == {"gen_ai.provider.name": "anthropic", "gen_ai.usage.input_tokens": "3", "x": "y"}


def test_the_canonical_name_wins_and_the_alias_stays():
    request = _traces({}, {"gen_ai.provider.name": "openai", "gen_ai.system": "azure"})
    Normalize().process("traces", request, IngestContext())
    span = _attrs(request.resource_spans[0].scope_spans[0].spans[0].attributes)
    assert span == {"gen_ai.provider.name": "openai", "gen_ai.system": "azure"}


def test_logs_are_normalized_too():
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.append(_kv("team.name", "mobile"))
    rl.scope_logs.add().log_records.add().attributes.append(_kv("gen_ai.conversation.id", "c1"))
    Normalize().process("logs", request, IngestContext())
    assert _attrs(rl.resource.attributes) == {"aitrail.team": "mobile"}
    assert _attrs(rl.scope_logs[0].log_records[0].attributes) == {"session.id": "c1"}
