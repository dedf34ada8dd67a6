"""Logs reach a ClickHouse server through the engine's statement: ``aitrail serve --clickhouse-url`` in front of
the server stand-in (chserver.py: ClickHouse's HTTP interface over chDB, in a subprocess), which takes the
``INSERT … SELECT … FROM input() FORMAT Protobuf`` a server gets, the spooled requests as its body.

One request in protobuf, one in OTLP/JSON (converted to protobuf on the way in): the rows are what the records
say, the tenant is the collector's, and a record with an impossible id is refused in ``partial_success``.
"""

from __future__ import annotations

import json
import signal
import urllib.request

import pytest
from faultkit import Collector, chserver, free_port, wait_port
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse

T0 = 1_760_000_000_000_000_000


def _post(url: str, body: bytes, content_type: str) -> bytes:
    request = urllib.request.Request(f"{url}/v1/logs", data=body, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


@pytest.mark.timeout(300)
def test_logs_are_stored_by_the_engine_on_a_clickhouse_server(tmp_path):
    import clickhouse_connect

    ch_port, port = free_port(), free_port()
    store = chserver(tmp_path / "chserver.log", tmp_path / "ch", ch_port).start()
    wait_port(ch_port)
    collector = Collector(tmp_path / "collector.log", port, "--clickhouse-url", f"http://default:@127.0.0.1:{ch_port}",
                          "--spool-dir", str(tmp_path / "spool")).start()
    try:
        assert collector.wait_ready(), collector.tail()
        request = ExportLogsServiceRequest()
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.add(key="service.name").value.string_value = "claude-code"
        resource_logs.resource.attributes.add(key="aitrail.tenant.id").value.string_value = "claimed"
        records = resource_logs.scope_logs.add().log_records
        records.add(time_unix_nano=T0, body={"string_value": "claude_code.user_prompt"}, trace_id=b"\x01" * 16)
        records.add(time_unix_nano=T0 + 1, body={"int_value": 7}).attributes.add(key="event.name").value.string_value = "n"
        records.add(time_unix_nano=T0 + 2, trace_id=b"\x01" * 3)  # refused: a trace id of 3 bytes
        answer = ExportLogsServiceResponse.FromString(
            _post(collector.url, request.SerializeToString(), "application/x-protobuf"))
        assert answer.partial_success.rejected_log_records == 1
        document = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name",
                                                                   "value": {"stringValue": "gemini-cli"}}]},
                                      "scopeLogs": [{"logRecords": [{
                                          "timeUnixNano": str(T0 + 3), "spanId": "0102030405060708",
                                          "severityNumber": "SEVERITY_NUMBER_WARN",
                                          "body": {"kvlistValue": {"values": [{"key": "b", "value": {"boolValue": True}},
                                                                              {"key": "a", "value": {"intValue": "1"}}]}},
                                      }]}]}]}
        assert json.loads(_post(collector.url, json.dumps(document).encode(), "application/json")) == {}
        collector.wait_drained(120)
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
        rows = client.query("SELECT toUnixTimestamp64Nano(Timestamp), ServiceName, Body, TraceId, SpanId, "
                            "SeverityNumber, EventName, ResourceAttributes['aitrail.tenant.id'] "
                            "FROM aitrail.otel_logs ORDER BY Timestamp").result_rows
        client.close()
    finally:
        collector.kill(signal.SIGTERM)
        store.kill(signal.SIGTERM)
    assert [list(row) for row in rows] == [
        [T0, "claude-code", "claude_code.user_prompt", "01" * 16, "", 0, "", "default"],
        [T0 + 1, "claude-code", "7", "", "", 0, "n", "default"],
        [T0 + 3, "gemini-cli", '{"a":1,"b":true}', "", "0102030405060708", 13, "", "default"],
    ]
