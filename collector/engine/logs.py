"""otel_logs rows made by the engine from the requests the collector spooled (``logs.sql``).

The same road as traces (:mod:`aitrail.collector.engine.statement`): each
ExportLogsServiceRequest is spooled as it is, beside its tenant and team, and
the drain stores a batch of them with one ``INSERT … SELECT`` that writes the
rows as the contrib ClickHouse exporter does: one row per log record,
``Timestamp`` the record's time or its observed time when it has none,
``Body`` the body's ``AsString`` (an AnyValue like any attribute value, so a
body nesting past the common depth sends its request to the deep statement),
``TraceFlags`` the low byte of ``flags``, ``EventName`` the record's
``event_name`` or, when that is empty, its ``event.name`` attribute (SDKs older
than the field, Claude Code among them, put the name there).

Trace and span ids are optional on logs: absent or all-zero ids are ''. Only a
record whose ids are present but of the wrong length is not a row
(:data:`REFUSED`; :func:`to_spool` counts the same records in the collector).
"""

from __future__ import annotations

from typing import Any

from aitrail.collector.engine import values
from aitrail.collector.engine.statement import CLAIMS, RequestStatement, ids_none_or_whole, stamped
from aitrail.collector.processors import items_of

TABLE = "otel_logs"

COLUMNS = (
    "Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber", "ServiceName", "Body",
    "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
    "LogAttributes", "EventName",
)
"""The exporter's otel_logs columns the statement writes (``TimestampTime`` is the table's default)."""

BAD_TRACE_ID = "invalid trace_id (must be empty or 16 bytes)"
BAD_SPAN_ID = "invalid span_id (must be empty or 8 bytes)"

REFUSED: dict[str, str] = {
    BAD_TRACE_ID: "length(lr.trace_id) NOT IN (0, 16)",
    BAD_SPAN_ID: "length(lr.span_id) NOT IN (0, 8)",
}
"""Why a log record is refused, by the SQL condition that says so (tried in this order)."""

_UNREAD = frozenset({
    "Resource.dropped_attributes_count", "Resource.entity_refs", "InstrumentationScope.dropped_attributes_count",
    "LogRecord.dropped_attributes_count", "KeyValue.key_strindex", "AnyValue.string_value_strindex",
})
"""What otel_logs does not hold: the engine skips it on the wire."""


def _macros(depth: int) -> dict[str, str]:
    return {
        "resource_attributes": stamped(values.attributes("rl.resource.attributes", depth, drop=CLAIMS)),
        "scope_attributes": values.attributes("sl.scope.attributes", depth),
        "log_attributes": values.attributes("lr.attributes", depth, drop=CLAIMS),
        "body": values.as_string("lr.body", depth),
    }


def _refusal(record: Any) -> str | None:
    if len(record.trace_id) not in (0, 16):
        return BAD_TRACE_ID
    if len(record.span_id) not in (0, 8):
        return BAD_SPAN_ID
    return None


STATEMENT = RequestStatement("logs", TABLE, COLUMNS, _UNREAD, _macros,
                             items_of("logs"), _refusal, ids_none_or_whole, "log record", REFUSED)
to_spool = STATEMENT.to_spool
"""What the collector spools of a logs request (the request beside its tenant and team, the part its depth
needs), with the records the statement will refuse told apart."""
