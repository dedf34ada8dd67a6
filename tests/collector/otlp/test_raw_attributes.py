"""A request's attributes as their bytes: every KeyValue and log body the engine stores, none it does not."""

from __future__ import annotations

import random

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from aitrail.collector.otlp.raw_attributes import raw_attributes

import otlp_corpus  # tests/fixtures, on the path by tests/conftest.py

VALID = {"traces": otlp_corpus.valid_traces, "logs": otlp_corpus.valid_logs, "metrics": otlp_corpus.valid_metrics}


def _expected(signal: str, request) -> tuple[set[bytes], set[bytes]]:  # noqa: ANN001
    """Every attribute list and log body, found by naming each field the way the OTLP messages nest."""
    lists, bodies = [], []
    groups = {"traces": ("resource_spans", "scope_spans"), "logs": ("resource_logs", "scope_logs"),
              "metrics": ("resource_metrics", "scope_metrics")}[signal]
    for group in getattr(request, groups[0]):
        lists.append(group.resource.attributes)
        for scope in getattr(group, groups[1]):
            lists.append(scope.scope.attributes)
            if signal == "traces":
                for span in scope.spans:
                    lists += [span.attributes, *(e.attributes for e in span.events), *(li.attributes for li in span.links)]
            elif signal == "logs":
                for record in scope.log_records:
                    lists.append(record.attributes)
                    bodies += [record.body.SerializeToString()] if record.HasField("body") else []
            else:
                for metric in scope.metrics:
                    kind = metric.WhichOneof("data")
                    for point in getattr(metric, kind).data_points if kind else ():
                        lists.append(point.attributes)
                        lists += [e.filtered_attributes for e in getattr(point, "exemplars", ())]
    return {kv.SerializeToString() for attributes in lists for kv in attributes}, set(filter(None, bodies))


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_every_attribute_and_log_body_is_gathered_as_sent(signal: str):
    rng = random.Random(signal)
    gathered = 0
    for _ in range(200):
        request = VALID[signal](rng, "marker")
        raw = raw_attributes(signal, request.SerializeToString())
        assert (raw.attributes, raw.values) == _expected(signal, request)
        gathered += len(raw.attributes) + len(raw.values)
    assert gathered > 500


def test_a_metrics_metadata_is_not_gathered():
    """Metric.metadata is in no store column: nothing reads it, redaction included."""
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="m")
    metric.metadata.add(key="note").value.string_value = "kept out"
    metric.gauge.data_points.add(as_int=1).attributes.add(key="k").value.string_value = "v"
    raw = raw_attributes("metrics", request.SerializeToString())
    assert raw.attributes == {metric.gauge.data_points[0].attributes[0].SerializeToString()}
