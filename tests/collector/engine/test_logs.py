"""The engine's otel_logs rows equal the Python flattener's, row for row, on every corpus we have.

The same requests go both ways (``engine_equality``): through the tenant stamp
and the Python flattener the collector used before (``reference_logs.logs_to_table``,
kept as the reference), and as the collector spools them through
``engine.logs``' SQL in chDB (each request to the common statement or, when its
values or its body nest past the common depth, to the deep one). They must be
equal: bodies of every kind, every value type, refused and optional ids, the
secret corpus (in bodies, values, arrays, lists, scopes, resources), records
made by the OpenTelemetry SDK, the recorded native telemetry of Claude Code,
Codex and Gemini CLI, the fuzzing corpus, and a payload's tenant and team claims.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
import engine_equality
from otlp_corpus import valid_logs
from reference_logs import logs_to_table
from secret_corpus import corpus

from aitrail.collector.engine import logs
from aitrail.collector.engine.schema import SHALLOW_DEPTH
from aitrail.collector.otlp import Limits, decode_request
from aitrail.collector.spool import Requests
from aitrail.sdk import vocabulary as v

T0 = 1_760_000_000_123_456_789
NATIVE = Path(__file__).resolve().parents[2] / "fixtures" / "native"


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _nested() -> KeyValueList:
    """A list with duplicate keys, an array, a list, every scalar, escapes and an unset value."""
    return KeyValueList(values=[
        _kv("z", array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(double_value=2.5)])),
        _kv("a", string_value="x&y\u2028\"\\\x07"), _kv("a", string_value="last wins"),
        _kv("m", kvlist_value=KeyValueList(values=[_kv("inner", bool_value=True), _kv("b", bytes_value=b"")])),
        _kv("é", bytes_value=b"\x00\xff"), KeyValue(key="unset"),
    ])


BODIES: dict[str, AnyValue] = {
    "string": AnyValue(string_value="héllo ☃ <b>"), "empty string": AnyValue(string_value=""),
    "int": AnyValue(int_value=-(2**63)), "bool": AnyValue(bool_value=False), "double": AnyValue(double_value=100.0),
    "big": AnyValue(double_value=1e21), "small": AnyValue(double_value=1.2345678901234567e-5),
    "nan": AnyValue(double_value=math.nan), "inf": AnyValue(double_value=-math.inf),
    "bytes": AnyValue(bytes_value=b"\x00\xffhi"), "empty bytes": AnyValue(bytes_value=b""),
    "list": AnyValue(kvlist_value=_nested()), "array": AnyValue(array_value=ArrayValue(values=[
        AnyValue(string_value="a"), AnyValue(), AnyValue(bool_value=True), AnyValue(kvlist_value=_nested())])),
    "array with nan": AnyValue(array_value=ArrayValue(values=[AnyValue(double_value=math.nan)])),
    "empty array": AnyValue(array_value=ArrayValue()), "empty list": AnyValue(kvlist_value=KeyValueList()),
    "unset": AnyValue(),
}
"""A body of every kind, by the severity text its record carries."""


def typed_request() -> ExportLogsServiceRequest:
    """Every body and value type by hand, duplicate keys, optional and refused ids, claims, odd times and flags."""
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
    resource_logs.resource.attributes.extend([_kv(v.TENANT, string_value="other"), _kv("service.name", int_value=7),
                                              _kv("team.name", string_value="alias claim"),
                                              _kv(v.TEAM, string_value="claimed-team")])
    scope_logs = resource_logs.scope_logs.add(schema_url="https://scope/1")
    scope_logs.scope.name, scope_logs.scope.version = "scope", "3"
    scope_logs.scope.attributes.extend([_kv("n", int_value=1), _kv("l", kvlist_value=_nested())])
    records = scope_logs.log_records
    for text, body in BODIES.items():
        records.add(severity_text=text, time_unix_nano=T0, body=body)
    good = {"trace_id": b"\x01" * 16, "span_id": b"\x02" * 8}
    records.add(severity_text="attributes", time_unix_nano=2**64 - 1, flags=0x1FF, severity_number=300,
                **good).attributes.extend([
        _kv("int", int_value=-(2**63)), _kv("bool", bool_value=True), _kv("nan", double_value=math.nan),
        _kv("pinf", double_value=math.inf), _kv("bytes", bytes_value=b"\x00\xffhi"), _kv("kvlist", kvlist_value=_nested()),
        _kv("array.empty", array_value=ArrayValue()), KeyValue(key="unset"), _kv("dup", string_value="first"),
        _kv("dup", int_value=2), _kv(v.TENANT, string_value="claimed"), _kv(v.TEAM, string_value="claimed-team"),
        _kv("team.name", string_value="alias"), _kv("event.name", string_value="from.attribute"),
    ])
    records.add(severity_text="event field", time_unix_nano=T0, event_name="from.field").attributes.append(
        _kv("event.name", string_value="from.attribute"))
    records.add(severity_text="observed", observed_time_unix_nano=T0 + 7)
    records.add(severity_text="no time")
    records.add(severity_text="zero ids", trace_id=bytes(16), span_id=bytes(8))
    records.add(severity_text="trace only", trace_id=b"\x03" * 16)
    records.add(severity_text="bad trace id", trace_id=b"\x01" * 8)
    records.add(severity_text="zero short trace id", trace_id=bytes(8))
    records.add(severity_text="bad span id", span_id=b"\x01" * 16)
    records.add(severity_text="bad both", trace_id=b"\x01", span_id=b"\x01")
    request.resource_logs.add().scope_logs.add().log_records.add(severity_text="second resource", time_unix_nano=T0)
    return request


def sdk_request() -> ExportLogsServiceRequest:
    """Records made by the OpenTelemetry SDK: severities, bodies of several kinds, event names, scope attributes."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "claude-code", "user.id": "u-1"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("com.anthropic.claude_code.events", "1.0.9", attributes={"scope.attr": 1})
    logger.emit(timestamp=T0, severity_number=SeverityNumber.WARN, severity_text="WARN", body="tool call refused",
                attributes={"tool": "Bash", "exit.code": 1, "ok": False, "ratio": 0.25, "tags": ["a", "b<c>"]},
                event_name="claude_code.tool_result")
    logger.emit(timestamp=T0 + 1, severity_number=SeverityNumber.INFO,
                body={"prompt": "fix <it>", "tokens": 12, "tags": ["a", "b"]},
                attributes={"event.name": "claude_code.user_prompt"})
    logger.emit(observed_timestamp=T0 + 2, body=3.5)
    provider.shutdown()
    return encode_logs(exporter.get_finished_logs())


def secret_request() -> ExportLogsServiceRequest:
    """Every fake secret as a body, a value, inside an array and a list, on the scope and on the resource."""
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    scope_logs = resource_logs.scope_logs.add()
    for i, secret in enumerate(corpus()):
        resource_logs.resource.attributes.add(key=f"r{i}").value.string_value = secret.line
        scope_logs.scope.attributes.add(key=f"s{i}").value.string_value = secret.line
        record = scope_logs.log_records.add(severity_text=secret.name, time_unix_nano=T0 + i,
                                            body=AnyValue(string_value=secret.line))
        record.attributes.extend([
            _kv("prompt", string_value=secret.line),
            _kv("lines", array_value=ArrayValue(values=[AnyValue(string_value=secret.line)])),
            _kv("env", kvlist_value=KeyValueList(values=[_kv("SECRET", string_value=secret.line)])),
        ])
        scope_logs.log_records.add(severity_text=secret.name, time_unix_nano=T0 + i, body=AnyValue(
            kvlist_value=KeyValueList(values=[_kv("SECRET", string_value=secret.line)])))
    return request


def native_requests() -> list[ExportLogsServiceRequest]:
    """The logs requests Claude Code, Codex and Gemini CLI sent (the recordings the derivation tests replay)."""
    recordings = sorted(NATIVE.glob("*/*.jsonl"))
    assert {path.parent.name for path in recordings} >= {"claude_code", "codex", "gemini_cli"}
    entries = [json.loads(line) for path in recordings for line in path.read_text().splitlines() if line.strip()]
    return [decode_request("logs", json.dumps(entry["body"]).encode(), "application/json", None, Limits())
            for entry in entries if entry["signal"] == "logs"]


def fuzz_requests(count: int) -> list[ExportLogsServiceRequest]:
    rng = random.Random(15)
    return [valid_logs(rng, f"fuzz-{i}") for i in range(count)]


def _read(store: Any, table: str) -> list[dict[str, Any]]:
    rows = store.rows(f"SELECT *, toUnixTimestamp64Nano(Timestamp) AS ns FROM {table} "
                      "ORDER BY ns, SeverityText, Body, TraceId, SpanId, toString(LogAttributes), ScopeName")
    for row in rows:
        del row["Timestamp"]
    return rows


def spooled(requests: list[ExportLogsServiceRequest], tenant: str, team: str | None) -> dict[str, Requests]:
    return engine_equality.spooled("logs", logs.to_spool, requests, tenant, team)


def test_only_values_nesting_past_the_common_depth_go_to_the_deep_statement() -> None:
    common, deep = logs.STATEMENT.entries[False], logs.STATEMENT.entries[True]
    assert set(spooled([secret_request()], "acme", None)) == {common}  # lists of scalars
    for place in ("body", "record", "scope", "resource"):
        for nesting, part in ((SHALLOW_DEPTH, common), (SHALLOW_DEPTH + 1, deep)):
            value = AnyValue(string_value="bottom")
            for level in range(nesting - 1):
                value = AnyValue(array_value=ArrayValue(values=[value]))
            request = ExportLogsServiceRequest()
            resource_logs = request.resource_logs.add()
            scope_logs = resource_logs.scope_logs.add()
            record = scope_logs.log_records.add(time_unix_nano=T0)
            if place == "body":
                record.body.CopyFrom(value)
            else:
                attributes = {"record": record.attributes, "scope": scope_logs.scope.attributes,
                              "resource": resource_logs.resource.attributes}[place]
                attributes.add(key="nested").value.CopyFrom(value)
            assert set(spooled([request], "acme", None)) == {part}, (place, nesting)


@pytest.mark.parametrize("team", [None, "payments"])
def test_engine_rows_equal_the_python_rows(store, team: str | None) -> None:  # noqa: ANN001
    requests = [typed_request(), sdk_request(), secret_request(), *native_requests(), *fuzz_requests(150)]
    python_rows, engine_rows, statements = engine_equality.both_ways(
        store, "logs", logs.TABLE, logs_to_table, logs.to_spool, _read, requests, "acme", team)
    assert statements == set(logs.STATEMENT.entries.values())  # both statements had requests to take
    texts = {row["SeverityText"] for row in python_rows}
    assert {*BODIES, "attributes", "observed", "WARN", "fuzz-0", "second resource"} <= texts  # every corpus stored
    assert not {"bad trace id", "zero short trace id", "bad span id", "bad both"} & texts  # and refused what it must
    events = {row["LogAttributes"].get("event.name") for row in python_rows}
    assert {"api_request", "tool_result", "user_prompt", "codex.api_request", "gemini_cli.api_request"} <= events
    assert len(engine_rows) == len(python_rows)
    for python_row, engine_row in zip(python_rows, engine_rows):
        assert engine_row == python_row
