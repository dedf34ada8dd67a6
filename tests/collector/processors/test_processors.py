"""Tenant stamping, on real OTLP request messages (aliases are resolved in the views: tests/collector/store/test_aliases.py)."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from aitrail.collector.processors import IngestContext
from aitrail.collector.processors.tenant import TenantStamp


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


def test_payload_cannot_choose_its_tenant():
    request = _traces({"aitrail.tenant.id": "someone-else", "service.name": "x"}, {})
    TenantStamp().stamp("traces", request, IngestContext(tenant="acme"))
    attrs = request.resource_spans[0].resource.attributes
    assert [kv.value.string_value for kv in attrs if kv.key == "aitrail.tenant.id"] == ["acme"]
    assert _attrs(attrs)["service.name"] == "x"


def test_a_token_team_overrides_every_team_claim():
    request = _traces({"team": "b", "aitrail.team": "b"}, {})
    TenantStamp().stamp("traces", request, IngestContext(tenant="acme", team="a"))
    attrs = _attrs(request.resource_spans[0].resource.attributes)
    assert attrs["aitrail.team"] == "a" and "team" not in attrs


def test_a_token_team_drops_the_claims_under_every_alias_on_logs_too():
    """The views read a team under its aliases (``team``, ``team.name``): a payload must not claim one there."""
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.extend([_kv("team.name", "mobile"), _kv("team", "mobile"), _kv("x", "y")])
    rl.scope_logs.add().log_records.add().attributes.extend(
        [_kv("team", "other"), _kv("team.name", "other"), _kv("aitrail.team", "other"), _kv("k", "v")])
    TenantStamp().process("logs", request, IngestContext(tenant="acme", team="a"))
    assert _attrs(rl.resource.attributes) == {"x": "y", "aitrail.tenant.id": "acme", "aitrail.team": "a"}
    assert _attrs(rl.scope_logs[0].log_records[0].attributes) == {"k": "v"}
