"""Migrations on the real engine: recorded, idempotent, refusing a newer schema; the derived table is fed by any writer."""

from __future__ import annotations

import pyarrow as pa
import pytest

from aitrail.collector.store import StoreLocation, open_store
from aitrail.collector.store.schema import SCHEMA_VERSION, applied_versions, known_migrations, migrate, pending
from aitrail.errors import SchemaError

# The OpenTelemetry Collector (contrib) ClickHouse exporter's columns, in order, from its
# sqltemplates/traces_table.sql: the standard collector must be able to write our table.
CONTRIB_TRACES = [
    ("Timestamp", "DateTime64(9)"), ("TraceId", "String"), ("SpanId", "String"), ("ParentSpanId", "String"),
    ("TraceState", "String"), ("SpanName", "LowCardinality(String)"), ("SpanKind", "LowCardinality(String)"),
    ("ServiceName", "LowCardinality(String)"), ("ResourceAttributes", "Map(LowCardinality(String), String)"),
    ("ScopeName", "String"), ("ScopeVersion", "String"), ("SpanAttributes", "Map(LowCardinality(String), String)"),
    ("Duration", "UInt64"), ("StatusCode", "LowCardinality(String)"), ("StatusMessage", "String"),
    ("Events.Timestamp", "Array(DateTime64(9))"), ("Events.Name", "Array(LowCardinality(String))"),
    ("Events.Attributes", "Array(Map(LowCardinality(String), String))"), ("Links.TraceId", "Array(String)"),
    ("Links.SpanId", "Array(String)"), ("Links.TraceState", "Array(String)"),
    ("Links.Attributes", "Array(Map(LowCardinality(String), String))"),
]
CONTRIB_LOGS_PREFIX = [
    ("Timestamp", "DateTime64(9)"), ("TimestampTime", "DateTime"), ("TraceId", "String"), ("SpanId", "String"),
    ("TraceFlags", "UInt8"), ("SeverityText", "LowCardinality(String)"), ("SeverityNumber", "UInt8"),
    ("ServiceName", "LowCardinality(String)"), ("Body", "String"),
]


def _columns(store, table):
    return [(r["name"], r["type"]) for r in store.rows(f"DESCRIBE TABLE aitrail.{table}") if r["default_type"] != "ALIAS"]


def test_migrations_are_recorded_and_nothing_is_pending(store):
    assert applied_versions(store) == {m.version: m.name for m in known_migrations()}
    assert max(applied_versions(store)) == SCHEMA_VERSION
    assert pending(store) == []


def test_migrate_again_is_a_no_op(store):
    assert migrate(store) == []
    counts = store.rows("SELECT version, count() AS n FROM aitrail.schema_migrations GROUP BY version")
    assert all(r["n"] == 1 for r in counts)


def test_a_migration_applied_by_two_collectors_at_once_is_recorded_once(tmp_path, monkeypatch):
    """Two collectors starting together on an empty server both find every migration pending and apply it (the
    statements are idempotent); the second's record of each version is dropped as a repeated insert."""
    from aitrail.collector.store import schema

    with open_store(StoreLocation(data_dir=tmp_path / "s")) as store:  # the first collector: migrated
        monkeypatch.setattr(schema, "pending", lambda _store: known_migrations())  # what the second saw meanwhile
        assert len(migrate(store)) == len(known_migrations())
        counts = store.rows("SELECT version, count() AS n FROM aitrail.schema_migrations GROUP BY version ORDER BY version")
        assert [(r["version"], r["n"]) for r in counts] == [(m.version, 1) for m in known_migrations()]


def test_raw_tables_match_the_contrib_exporter(store):
    assert _columns(store, "otel_traces") == CONTRIB_TRACES
    assert _columns(store, "otel_logs")[: len(CONTRIB_LOGS_PREFIX)] == CONTRIB_LOGS_PREFIX
    tables = {r["name"] for r in store.rows("SHOW TABLES FROM aitrail")}
    assert {"otel_traces_trace_id_ts", "otel_traces_trace_id_ts_mv", "otel_metrics_sum", "otel_metrics_gauge",
            "otel_metrics_histogram", "otel_metrics_exponential_histogram", "otel_metrics_summary",
            "ai_generations", "ai_generations_mv"} <= tables


def test_a_newer_schema_is_refused(tmp_path):
    location = StoreLocation(data_dir=tmp_path / "store")
    with open_store(location) as store:
        store.command("INSERT INTO aitrail.schema_migrations (version, name, checksum) VALUES (9999, 'future', '')")
    with pytest.raises(SchemaError, match="9999.*upgrade aitrail"):
        open_store(location)


def _span(attributes, resource=None, trace="ab" * 16):
    mapping = pa.map_(pa.string(), pa.string())
    return pa.table({
        "Timestamp": pa.array([1_700_000_000_123_456_789], pa.timestamp("ns")),
        "TraceId": [trace], "SpanId": ["cd" * 8], "SpanName": ["chat"], "ServiceName": ["svc"],
        "ResourceAttributes": pa.array([list((resource or {}).items())], mapping),
        "SpanAttributes": pa.array([list(attributes.items())], mapping),
        "Duration": pa.array([5_000], pa.uint64()),
    })


def test_ai_generations_is_derived_by_the_engine(store):
    store.insert("otel_traces", _span(
        {"aitrail.kind": "generation", "gen_ai.request.model": "m1", "gen_ai.usage.input_tokens": "12",
         "aitrail.code.line_fingerprints": "[1,-2]", "aitrail.team": "span-team", "code.file.path": "a.py"},
        {"aitrail.tenant.id": "t1", "aitrail.team": "resource-team", "user.id": "u1"},
    ))
    store.insert("otel_traces", _span({"http.method": "GET"}))  # not a generation: raw only
    store.insert("otel_traces", _span({"gen_ai.operation.name": "chat", "gen_ai.request.model": "m2"}))
    rows = store.rows("SELECT * FROM aitrail.ai_generations ORDER BY model")
    assert [r["model"] for r in rows] == ["m1", "m2"]
    first = rows[0]
    assert first["tenant"] == "t1" and first["user_id"] == "u1" and first["file_path"] == "a.py"
    assert first["team"] == "span-team"  # the span's own attribute wins over the resource's
    assert first["input_tokens"] == 12 and first["duration_ns"] == 5_000
    assert first["line_fingerprints"] == [1, 2**64 - 2]
    assert store.rows("SELECT count() AS n FROM aitrail.otel_traces")[0]["n"] == 3


def test_a_retried_insert_with_the_same_token_is_stored_once(store):
    batch = _span({"aitrail.kind": "generation", "gen_ai.request.model": "m"})
    for _ in range(3):
        store.insert("otel_traces", batch, dedup_token="run:1")
    store.insert("otel_traces", batch, dedup_token="run:2")
    for table in ("otel_traces", "ai_generations"):
        assert store.rows(f"SELECT count() AS n FROM aitrail.{table}")[0]["n"] == 2, table
