"""Log records -> otel_logs rows: requests spooled as the collector spools them, stored by the engine in a real
chDB store, read back field by field.

Expected values come from the SDK's own records or are written out by hand, never from the code under test.
"""

from __future__ import annotations

from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import engine_equality

from aitrail.collector.engine import logs

T0 = 1_760_000_000_123_456_789

SELECT = """
SELECT
    toUnixTimestamp64Nano(Timestamp) AS Ns, toUnixTimestamp(TimestampTime) AS Seconds,
    TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body,
    ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes,
    LogAttributes, EventName
FROM aitrail.otel_logs
ORDER BY Ns, Body
"""


def read_back(store) -> list[dict[str, Any]]:  # noqa: ANN001
    rows = store.rows(SELECT)
    for row in rows:
        row["Ns"] = int(row["Ns"])
        row["Seconds"] = int(row["Seconds"])
        row["Tenant"] = row["ResourceAttributes"].pop("aitrail.tenant.id")  # stamped by the engine
    return rows


def spool(request: ExportLogsServiceRequest):  # noqa: ANN201
    """What the collector spools of ``request`` (tenant "default"), as its pipeline does."""
    return engine_equality.spool("logs", logs.to_spool, request)


def insert(store, request: ExportLogsServiceRequest):  # noqa: ANN001, ANN201
    return engine_equality.store_spooled(store, spool(request))


def kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def test_columns_are_the_tables_columns_in_order(store) -> None:  # noqa: ANN001
    described = store.rows("DESCRIBE TABLE aitrail.otel_logs")
    expected = [r["name"] for r in described if r["default_type"] not in ("ALIAS", "DEFAULT", "MATERIALIZED")]
    assert list(logs.COLUMNS) == expected
    assert "TimestampTime" not in logs.COLUMNS


def test_sdk_log_records_round_trip_through_clickhouse(store) -> None:  # noqa: ANN001
    resource = Resource.create({"service.name": "claude-code", "user.id": "u-1"})
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("com.anthropic.claude_code.events", "1.0.9", attributes={"scope.attr": 1})

    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("turn") as span:
        span_context = span.get_span_context()
        logger.emit(
            timestamp=T0,
            observed_timestamp=T0 + 7,
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            body="tool call refused",
            attributes={"tool": "Bash", "exit.code": 1, "ok": False},
            event_name="claude_code.tool_result",
        )
    logger.emit(
        timestamp=T0 + 1,
        severity_number=SeverityNumber.INFO,
        body={"prompt": "fix <it>", "tokens": 12, "tags": ["a", "b"]},
        attributes={"event.name": "claude_code.user_prompt"},  # the name before LogRecord.event_name existed
    )
    logger.emit(observed_timestamp=T0 + 2, body=3.5)  # no timestamp: the observed one is used
    provider.shutdown()
    records = exporter.get_finished_logs()
    assert len(records) == 3

    flattened = insert(store, encode_logs(records))
    assert (flattened.rejected, flattened.errors) == (0, [])
    rows = read_back(store)
    assert len(rows) == 3
    resource_expected = dict(resource.attributes)
    assert all(isinstance(v, str) for v in resource_expected.values())

    for row in rows:
        assert row["Tenant"] == "default"  # the tenant spooled beside the request
        assert row["ServiceName"] == "claude-code"
        assert row["ResourceAttributes"] == resource_expected
        assert (row["ScopeName"], row["ScopeVersion"]) == ("com.anthropic.claude_code.events", "1.0.9")
        assert row["ScopeAttributes"] == {"scope.attr": "1"}
        assert row["ResourceSchemaUrl"] == "" and row["ScopeSchemaUrl"] == ""

    warn, prompt, number = rows
    assert warn["Ns"] == T0
    assert warn["Seconds"] == T0 // 1_000_000_000  # TimestampTime filled in by its DEFAULT
    assert warn["TraceId"] == format(span_context.trace_id, "032x")
    assert warn["SpanId"] == format(span_context.span_id, "016x")
    assert warn["TraceFlags"] == int(span_context.trace_flags)
    assert (warn["SeverityText"], warn["SeverityNumber"]) == ("WARN", SeverityNumber.WARN.value)
    assert warn["Body"] == "tool call refused"
    assert warn["LogAttributes"] == {"tool": "Bash", "exit.code": "1", "ok": "false"}
    assert warn["EventName"] == "claude_code.tool_result"

    assert prompt["Ns"] == T0 + 1
    assert (prompt["TraceId"], prompt["SpanId"], prompt["TraceFlags"]) == ("", "", 0)
    assert prompt["SeverityNumber"] == SeverityNumber.INFO.value
    assert prompt["Body"] == '{"prompt":"fix \\u003cit\\u003e","tags":["a","b"],"tokens":12}'
    assert prompt["EventName"] == "claude_code.user_prompt"

    assert number["Ns"] == T0 + 2
    assert number["Body"] == "3.5"
    assert number["EventName"] == ""


def test_hand_built_records(store) -> None:  # noqa: ANN001
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
    resource_logs.resource.attributes.extend([kv("service.name", string_value="svc"), kv("n", int_value=1)])
    scope_logs = resource_logs.scope_logs.add(schema_url="https://scope/1")
    scope_logs.scope.name = "scope"
    scope_logs.scope.version = "3"
    trace_id = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
    span_id = bytes.fromhex("1112131415161718")
    scope_logs.log_records.extend(
        [
            LogRecord(
                time_unix_nano=T0, body=AnyValue(string_value="a"), trace_id=trace_id, span_id=span_id, flags=0x101
            ),
            LogRecord(time_unix_nano=T0, body=AnyValue(string_value="b"), trace_id=bytes(16), span_id=bytes(8)),
            LogRecord(time_unix_nano=T0, body=AnyValue(string_value="c"), trace_id=trace_id),  # no span
            LogRecord(time_unix_nano=T0, body=AnyValue(string_value="bad trace"), trace_id=b"\x01" * 8),
            LogRecord(time_unix_nano=T0, body=AnyValue(string_value="bad span"), span_id=b"\x01" * 16),
            LogRecord(time_unix_nano=T0 + 1, body=AnyValue(int_value=-3), severity_number=24, severity_text="FATAL4"),
            LogRecord(time_unix_nano=T0 + 2, body=AnyValue(bytes_value=b"\xff\x00")),
            LogRecord(
                time_unix_nano=T0 + 3,
                body=AnyValue(array_value=ArrayValue(values=[AnyValue(bool_value=True), AnyValue()])),
            ),
            LogRecord(
                time_unix_nano=T0 + 4,
                body=AnyValue(kvlist_value=KeyValueList(values=[kv("b", double_value=1e-7), kv("a", string_value="")])),
            ),
            LogRecord(time_unix_nano=T0 + 5),  # no body at all
            LogRecord(
                time_unix_nano=T0 + 6,
                body=AnyValue(string_value="both"),
                event_name="from.field",
                attributes=[kv("event.name", string_value="from.attribute")],
            ),
            LogRecord(time_unix_nano=0, observed_time_unix_nano=T0 + 7, body=AnyValue(string_value="observed")),
        ]
    )
    flattened = insert(store, request)
    assert flattened.rejected == 2
    assert sorted(flattened.errors) == [
        "1 log record rejected: invalid span_id (must be empty or 8 bytes)",
        "1 log record rejected: invalid trace_id (must be empty or 16 bytes)",
    ]
    rows = read_back(store)
    by_body = {row["Body"]: row for row in rows}
    assert len(rows) == 10 and len(by_body) == 10

    a = by_body["a"]
    assert (a["TraceId"], a["SpanId"], a["TraceFlags"]) == (trace_id.hex(), span_id.hex(), 1)
    assert a["ResourceSchemaUrl"] == "https://opentelemetry.io/schemas/1.26.0"
    assert a["ScopeSchemaUrl"] == "https://scope/1"
    assert (a["ScopeName"], a["ScopeVersion"], a["ScopeAttributes"]) == ("scope", "3", {})
    assert a["ResourceAttributes"] == {"service.name": "svc", "n": "1"}
    assert (by_body["b"]["TraceId"], by_body["b"]["SpanId"]) == ("", "")
    assert (by_body["c"]["TraceId"], by_body["c"]["SpanId"]) == (trace_id.hex(), "")
    assert (by_body["-3"]["SeverityNumber"], by_body["-3"]["SeverityText"]) == (24, "FATAL4")
    assert by_body["/wA="]["Ns"] == T0 + 2
    assert by_body["[true,null]"]["Ns"] == T0 + 3
    assert by_body['{"a":"","b":1e-7}']["Ns"] == T0 + 4
    assert by_body[""]["Ns"] == T0 + 5
    assert by_body["both"]["EventName"] == "from.field"
    assert by_body["both"]["LogAttributes"] == {"event.name": "from.attribute"}
    assert by_body["observed"]["Ns"] == T0 + 7


def test_requests_without_records_spool_nothing() -> None:
    request = ExportLogsServiceRequest()
    request.resource_logs.add().scope_logs.add()
    assert spool(request).tables == {}
    assert spool(ExportLogsServiceRequest()).tables == {}

