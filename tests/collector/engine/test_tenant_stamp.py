"""A payload cannot choose its tenant, nor the team a token fixes: the engine stamps both, for every signal.

Each request claims a tenant and a team (under every alias) on its resource and
on its item; it goes through the collector's pipeline, is stored by the engine,
and the stored row carries the tenant (and team) the receiver established.
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from aitrail.collector.engine import ingest
from aitrail.collector.pipeline import Pipeline
from aitrail.collector.processors import IngestContext
from aitrail.collector.telemetry import SelfMetrics
from aitrail.sdk import vocabulary as v

CLAIMS = {v.TENANT: "someone-else", v.TEAM: "b", "team": "b", "team.name": "b", "service.name": "x"}


def _claims() -> list[KeyValue]:
    claims = []
    for key, value in CLAIMS.items():
        claims.append(KeyValue(key=key))
        claims[-1].value.string_value = value
    return claims


def _request(signal: str) -> tuple[Any, str, str]:
    """A request of ``signal`` claiming everywhere, the table its row goes to, and that row's item attributes."""
    if signal == "traces":
        request = ExportTraceServiceRequest()
        group = request.resource_spans.add()
        group.scope_spans.add().spans.add(name="s", trace_id=b"\x01" * 16, span_id=b"\x02" * 8).attributes.extend(_claims())
        return request, "otel_traces", "SpanAttributes"
    if signal == "logs":
        request = ExportLogsServiceRequest()
        group = request.resource_logs.add()
        group.scope_logs.add().log_records.add().attributes.extend(_claims())
        return request, "otel_logs", "LogAttributes"
    request = ExportMetricsServiceRequest()
    group = request.resource_metrics.add()
    group.scope_metrics.add().metrics.add(name="m").sum.data_points.add(as_int=1).attributes.extend(_claims())
    return request, "otel_metrics_sum", "Attributes"


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
@pytest.mark.parametrize("team", [None, "a"])
def test_the_payloads_claims_give_way_to_the_tenant_and_team_the_receiver_established(store, signal: str,  # noqa: ANN001
                                                                                       team: str | None) -> None:
    request, table, item_column = _request(signal)
    group = (request.resource_spans if signal == "traces" else request.resource_logs if signal == "logs"
             else request.resource_metrics)[0]
    group.resource.attributes.extend(_claims())
    flattened = Pipeline([], None, SelfMetrics()).prepare(signal, request, IngestContext(tenant="acme", team=team))  # type: ignore[arg-type]
    for part, data in flattened.tables.items():
        ingest.insert(store, part, data)
    (row,) = store.rows(f"SELECT ResourceAttributes AS resource, {item_column} AS item FROM aitrail.{table}")
    owned = {v.TENANT: "acme", **({v.TEAM: team} if team else {})}
    kept = {k: value for k, value in CLAIMS.items() if k not in owned and not (team and k in v.TEAM_ALIASES)}
    assert row["resource"] == {**kept, **owned}
    assert row["item"] == {k: value for k, value in CLAIMS.items() if k != v.TENANT and not (
        team and (k == v.TEAM or k in v.TEAM_ALIASES))}
