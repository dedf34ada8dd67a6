"""Metrics reach a ClickHouse server through the engine's statements: ``aitrail serve --clickhouse-url`` in front of
the server stand-in (chserver.py: ClickHouse's HTTP interface over chDB, in a subprocess), which takes the
``INSERT … SELECT … FROM input() FORMAT Protobuf`` a server gets, one per kind of data point, the spooled
requests as its body.

One request holding a sum and a histogram: the rows are what the data points say, each in its kind's table, the
tenant is the collector's, and a data point with an impossible exemplar id is refused in ``partial_success``.
"""

from __future__ import annotations

import urllib.request

import pytest
from faultkit import serving_a_server
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

T0 = 1_760_000_000_000_000_000


@pytest.mark.timeout(300)
def test_metrics_are_stored_by_the_engine_on_a_clickhouse_server(tmp_path):
    import clickhouse_connect

    with serving_a_server(tmp_path) as (collector, ch_port):
        request = ExportMetricsServiceRequest()
        resource_metrics = request.resource_metrics.add()
        resource_metrics.resource.attributes.add(key="service.name").value.string_value = "claude-code"
        resource_metrics.resource.attributes.add(key="aitrail.tenant.id").value.string_value = "claimed"
        metrics = resource_metrics.scope_metrics.add().metrics
        tokens = metrics.add(name="claude_code.token.usage", unit="tokens").sum
        tokens.is_monotonic, tokens.aggregation_temporality = True, 1
        tokens.data_points.add(time_unix_nano=T0, as_int=1200).attributes.add(key="type").value.string_value = "input"
        tokens.data_points.add(time_unix_nano=T0, as_double=2.5).exemplars.add(span_id=b"\x01" * 3)  # refused
        latency = metrics.add(name="gemini_cli.api.request.latency", unit="ms").histogram
        latency.data_points.add(time_unix_nano=T0, count=3, sum=42.0, bucket_counts=[1, 2], explicit_bounds=[10.0])
        http_request = urllib.request.Request(f"{collector.url}/v1/metrics", data=request.SerializeToString(),
                                              headers={"Content-Type": "application/x-protobuf"})
        with urllib.request.urlopen(http_request, timeout=30) as response:
            answer = ExportMetricsServiceResponse.FromString(response.read())
        assert answer.partial_success.rejected_data_points == 1
        collector.wait_drained(120)
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
        sums = client.query("SELECT MetricName, Value, Attributes, IsMonotonic, AggregationTemporality, "
                            "ResourceAttributes['aitrail.tenant.id'] FROM aitrail.otel_metrics_sum").result_rows
        histograms = client.query("SELECT MetricName, Count, Sum, BucketCounts, ExplicitBounds, "
                                  "ResourceAttributes['aitrail.tenant.id'] FROM aitrail.otel_metrics_histogram").result_rows
        client.close()
    assert [list(row) for row in sums] == [["claude_code.token.usage", 1200.0, {"type": "input"}, True, 1, "default"]]
    assert [list(row) for row in histograms] == [["gemini_cli.api.request.latency", 3, 42.0, [1, 2], [10.0], "default"]]
