"""ExportLogsServiceRequest -> rows of ``otel_logs``, as the contrib ClickHouse exporter writes them.

One row per log record. ``Timestamp`` is the record's time, or its observed
time when the record has none; ``Body`` is the body's AsString; ``TraceFlags``
is the low byte of ``flags``; ``EventName`` is the record's ``event_name``, or
its ``event.name`` attribute when that field is empty (SDKs older than the
field, Claude Code among them, put the name there).

Trace and span ids are optional on logs: absent or all-zero ids are ''. Only a
record whose ids are present but of the wrong length is refused.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from opentelemetry.proto.logs.v1 import logs_pb2

from aitrail.collector.rows.common import (
    STRING,
    Flattened,
    MapColumn,
    any_value_str,
    attributes,
    span_id_hex,
    summarize,
    timestamps,
    trace_id_hex,
)

TABLE = "otel_logs"

COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "TraceFlags",
    "SeverityText",
    "SeverityNumber",
    "ServiceName",
    "Body",
    "ResourceSchemaUrl",
    "ResourceAttributes",
    "ScopeSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "LogAttributes",
    "EventName",
)

HAS_EVENT_NAME = "event_name" in logs_pb2.LogRecord.DESCRIPTOR.fields_by_name
"""Whether the installed OTLP protos know ``LogRecord.event_name`` (opentelemetry-proto 1.5+)."""

_BAD_TRACE_ID = "invalid trace_id (must be empty or 16 bytes)"
_BAD_SPAN_ID = "invalid span_id (must be empty or 8 bytes)"


def logs_to_table(request: Any) -> Flattened:
    """Flatten an ExportLogsServiceRequest into the ``otel_logs`` table."""
    times: list[int] = []
    trace_ids: list[str] = []
    span_ids: list[str] = []
    flags: list[int] = []
    severity_texts: list[str] = []
    severity_numbers: list[int] = []
    services: list[str] = []
    bodies: list[str] = []
    resource_urls: list[str] = []
    resource_attrs = MapColumn()
    scope_urls: list[str] = []
    scope_names: list[str] = []
    scope_versions: list[str] = []
    scope_attrs = MapColumn()
    log_attrs = MapColumn()
    event_names: list[str] = []
    refused: dict[str, int] = {}
    has_event_name = HAS_EVENT_NAME

    for resource_logs in request.resource_logs:
        res = attributes(resource_logs.resource.attributes)
        res_keys = list(res)
        res_values = list(res.values())
        service = res.get("service.name", "")
        resource_url = resource_logs.schema_url
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_name = scope.name
            scope_version = scope.version
            scope_url = scope_logs.schema_url
            scope_attr = attributes(scope.attributes)
            scope_keys = list(scope_attr)
            scope_values = list(scope_attr.values())
            for record in scope_logs.log_records:
                trace_id = trace_id_hex(record.trace_id)
                if trace_id is None:
                    refused[_BAD_TRACE_ID] = refused.get(_BAD_TRACE_ID, 0) + 1
                    continue
                span_id = span_id_hex(record.span_id)
                if span_id is None:
                    refused[_BAD_SPAN_ID] = refused.get(_BAD_SPAN_ID, 0) + 1
                    continue
                timestamp = record.time_unix_nano
                times.append(timestamp if timestamp else record.observed_time_unix_nano)
                trace_ids.append(trace_id)
                span_ids.append(span_id)
                flags.append(record.flags & 0xFF)
                severity_texts.append(record.severity_text)
                severity_numbers.append(record.severity_number & 0xFF)
                services.append(service)
                body = record.body
                text = body.string_value
                bodies.append(text if text else any_value_str(body))
                resource_urls.append(resource_url)
                resource_attrs.keys.extend(res_keys)
                resource_attrs.values.extend(res_values)
                resource_attrs.offsets.append(len(resource_attrs.keys))
                scope_urls.append(scope_url)
                scope_names.append(scope_name)
                scope_versions.append(scope_version)
                scope_attrs.keys.extend(scope_keys)
                scope_attrs.values.extend(scope_values)
                scope_attrs.offsets.append(len(scope_attrs.keys))
                attrs = attributes(record.attributes)
                log_attrs.add(attrs)
                name = record.event_name if has_event_name else ""
                event_names.append(name if name else attrs.get("event.name", ""))

    flattened = Flattened(rejected=sum(refused.values()), errors=summarize(refused, "log record"))
    if not times:
        return flattened
    columns = [
        timestamps(times),
        pa.array(trace_ids, STRING),
        pa.array(span_ids, STRING),
        pa.array(flags, pa.uint8()),
        pa.array(severity_texts, STRING),
        pa.array(severity_numbers, pa.uint8()),
        pa.array(services, STRING),
        pa.array(bodies, STRING),
        pa.array(resource_urls, STRING),
        resource_attrs.array(),
        pa.array(scope_urls, STRING),
        pa.array(scope_names, STRING),
        pa.array(scope_versions, STRING),
        scope_attrs.array(),
        log_attrs.array(),
        pa.array(event_names, STRING),
    ]
    flattened.tables[TABLE] = pa.Table.from_arrays(columns, names=list(COLUMNS))
    return flattened
