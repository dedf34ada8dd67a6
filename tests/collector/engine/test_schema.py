"""The format schema ClickHouse reads requests with is opentelemetry-proto's, field for field.

The generated ``otlp.proto`` is read back here with a small parser of its own
and walked beside the descriptors compiled from opentelemetry-proto: every
field of every message the requests reach must be there with its name,
number, repetition and a type of the same wire encoding. The shipped file must
be what the generator writes today (regenerate it after upgrading
opentelemetry-proto), and the engine must accept it for every signal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from aitrail.collector.engine import schema
from aitrail.collector.store.base import settings_clause

_FIELD = re.compile(r"^\s+(repeated |optional )?(\w+) (\w+) = (\d+);$")
_WIRE = {"string": 2, "bytes": 2, "bool": 0, "int32": 0, "int64": 0, "uint32": 0, "uint64": 0, "sint32": 0,
         "sint64": 0, "fixed32": 5, "sfixed32": 5, "fixed64": 1, "sfixed64": 1, "double": 1, "float": 5}
_DESCRIPTOR_WIRE = {
    FieldDescriptor.TYPE_STRING: 2, FieldDescriptor.TYPE_BYTES: 2, FieldDescriptor.TYPE_MESSAGE: 2,
    FieldDescriptor.TYPE_BOOL: 0, FieldDescriptor.TYPE_INT32: 0, FieldDescriptor.TYPE_INT64: 0,
    FieldDescriptor.TYPE_UINT32: 0, FieldDescriptor.TYPE_UINT64: 0, FieldDescriptor.TYPE_ENUM: 0,
    FieldDescriptor.TYPE_SINT32: 0, FieldDescriptor.TYPE_SINT64: 0, FieldDescriptor.TYPE_FIXED32: 5,
    FieldDescriptor.TYPE_SFIXED32: 5, FieldDescriptor.TYPE_FLOAT: 5, FieldDescriptor.TYPE_FIXED64: 1,
    FieldDescriptor.TYPE_SFIXED64: 1, FieldDescriptor.TYPE_DOUBLE: 1,
}


def parse(text: str) -> dict[str, dict[str, tuple[str, str, int]]]:
    """message name -> field name -> (label, type, number), from the generated text."""
    messages: dict[str, dict[str, tuple[str, str, int]]] = {}
    current: dict[str, tuple[str, str, int]] = {}
    for line in text.splitlines():
        if line.startswith("message "):
            current = messages.setdefault(line.split()[1], {})
        elif match := _FIELD.match(line):
            repeated, kind, name, number = match.groups()
            current[name] = (repeated or "", kind, int(number))
    return messages


def walk(descriptor: Descriptor, name: str, messages: dict, level: int, seen: set[str]) -> int:
    """Check ``name`` in the generated file against ``descriptor``; return how many fields were checked."""
    if name in seen:
        return 0
    seen.add(name)
    generated = messages[name]
    assert set(generated) == {f.name for f in descriptor.fields}, name
    checked = 0
    for field in descriptor.fields:
        repeated, kind, number = generated[field.name]
        assert (repeated == "repeated ", number) == (field.is_repeated, field.number), f"{name}.{field.name}"
        checked += 1
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            assert _WIRE[kind] == _DESCRIPTOR_WIRE[field.type], f"{name}.{field.name}"
            continue
        target, next_level = field.message_type, level
        if target.name == "AnyValue":
            next_level += 1
            if next_level > schema.VALUE_DEPTH:
                assert kind == "bytes", f"{name}.{field.name} past the unrolled depth"
                continue
        expected = target.name if next_level == 0 else f"{target.name}_{next_level}"
        assert kind == expected, f"{name}.{field.name}"
        checked += walk(target, kind, messages, next_level, seen)
    return checked


@pytest.mark.parametrize("request_type", [ExportTraceServiceRequest, ExportLogsServiceRequest,
                                          ExportMetricsServiceRequest])
def test_every_field_has_the_protocols_name_number_and_wire_type(request_type: type) -> None:
    messages = parse(schema.proto_text())
    descriptor = request_type.DESCRIPTOR
    assert walk(descriptor, descriptor.name, messages, 0, set()) > 20


def test_the_shipped_file_is_what_the_generator_writes() -> None:
    assert schema.proto_path().read_text() == schema.proto_text(), (
        "collector/engine/otlp.proto is stale: write aitrail.collector.engine.schema.proto_text() to it")


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_the_engine_reads_a_request_of_every_signal(store, tmp_path: Path, signal: str) -> None:  # noqa: ANN001
    request = schema.REQUESTS[signal]
    message = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest,
               "metrics": ExportMetricsServiceRequest}[signal]()
    group = message.DESCRIPTOR.fields[0].name  # resource_spans, resource_logs, resource_metrics
    getattr(message, group).add().resource.attributes.add(key="service.name").value.string_value = "checkout"
    body = message.SerializeToString()
    path = tmp_path / f"{signal}.protobuf"
    path.write_bytes(schema.length_delimited([body]))
    structure = schema.STRUCTURES[signal].replace("'", "\\'")
    rows = store.rows(f"SELECT {group}[1].resource.attributes[1].value.string_value AS service "
                      f"FROM file('{path}', Protobuf, '{structure}') {settings_clause(schema.format_settings(signal))}")
    assert request.name == type(message).__name__
    assert rows == [{"service": "checkout"}]
