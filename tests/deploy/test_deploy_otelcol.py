"""deploy/otelcol/config.yaml: a valid pipeline graph, and an exporter that fits aitrail's tables."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from deploy_support import DATABASE, DEPLOY, migration_sql, sql_statements

KINDS = ("receivers", "processors", "exporters", "connectors")

# The columns the contrib clickhouse exporter inserts, in its INSERT order (its sqltemplates
# *_insert.sql and internal/metrics/*_metrics.go, opentelemetry-collector-contrib 0.13x), with
# Nested columns flattened as ClickHouse names them. The exporter checks optional newer ones
# (EventName for logs) with DESC TABLE itself.
EXPORTER_COLUMNS = {
    "traces": """Timestamp TraceId SpanId ParentSpanId TraceState SpanName SpanKind ServiceName
        ResourceAttributes ScopeName ScopeVersion SpanAttributes Duration StatusCode StatusMessage
        Events.Timestamp Events.Name Events.Attributes
        Links.TraceId Links.SpanId Links.TraceState Links.Attributes""",
    "logs": """Timestamp TraceId SpanId TraceFlags SeverityText SeverityNumber ServiceName Body
        ResourceSchemaUrl ResourceAttributes ScopeSchemaUrl ScopeName ScopeVersion ScopeAttributes
        LogAttributes""",
    "gauge": """ResourceAttributes ResourceSchemaUrl ScopeName ScopeVersion ScopeAttributes
        ScopeDroppedAttrCount ScopeSchemaUrl ServiceName MetricName MetricDescription MetricUnit
        Attributes StartTimeUnix TimeUnix Value Flags Exemplars.FilteredAttributes
        Exemplars.TimeUnix Exemplars.Value Exemplars.SpanId Exemplars.TraceId""",
    "sum": """ResourceAttributes ResourceSchemaUrl ScopeName ScopeVersion ScopeAttributes
        ScopeDroppedAttrCount ScopeSchemaUrl ServiceName MetricName MetricDescription MetricUnit
        Attributes StartTimeUnix TimeUnix Value Flags Exemplars.FilteredAttributes
        Exemplars.TimeUnix Exemplars.Value Exemplars.SpanId Exemplars.TraceId
        AggregationTemporality IsMonotonic""",
    "histogram": """ResourceAttributes ResourceSchemaUrl ScopeName ScopeVersion ScopeAttributes
        ScopeDroppedAttrCount ScopeSchemaUrl ServiceName MetricName MetricDescription MetricUnit
        Attributes StartTimeUnix TimeUnix Count Sum BucketCounts ExplicitBounds
        Exemplars.FilteredAttributes Exemplars.TimeUnix Exemplars.Value Exemplars.SpanId
        Exemplars.TraceId Flags Min Max AggregationTemporality""",
    "exponential_histogram": """ResourceAttributes ResourceSchemaUrl ScopeName ScopeVersion
        ScopeAttributes ScopeDroppedAttrCount ScopeSchemaUrl ServiceName MetricName
        MetricDescription MetricUnit Attributes StartTimeUnix TimeUnix Count Sum Scale ZeroCount
        PositiveOffset PositiveBucketCounts NegativeOffset NegativeBucketCounts
        Exemplars.FilteredAttributes Exemplars.TimeUnix Exemplars.Value Exemplars.SpanId
        Exemplars.TraceId Flags Min Max AggregationTemporality""",
    "summary": """ResourceAttributes ResourceSchemaUrl ScopeName ScopeVersion ScopeAttributes
        ScopeDroppedAttrCount ScopeSchemaUrl ServiceName MetricName MetricDescription MetricUnit
        Attributes StartTimeUnix TimeUnix Count Sum ValueAtQuantiles.Quantile
        ValueAtQuantiles.Value Flags""",
}


# The clickhouse exporter's settings (its config.schema.yaml, plus the exporterhelper timeout and
# retry settings): anything else is a typo the collector would refuse at start.
EXPORTER_SETTINGS = set(
    """endpoint username password database connection_params logs_table_name traces_table_name
    profiles_table_name metrics_table_name metrics_tables ttl table_engine cluster_name create_schema
    async_insert compress json tls sending_queue timeout retry_on_failure""".split()
)
METRIC_TYPES = {"gauge", "sum", "histogram", "exponential_histogram", "summary"}


def components(config, kind):
    return config.get(kind) or {}


def component_type(component_id: str) -> str:
    return component_id.split("/")[0]


@pytest.fixture(scope="module")
def exporter(otelcol):
    (clickhouse,) = [v for k, v in otelcol["exporters"].items() if component_type(k) == "clickhouse"]
    return clickhouse


def table_names(exporter) -> dict[str, str]:
    """Signal (traces, logs, or metric type) -> table the exporter writes."""
    names = {"traces": exporter["traces_table_name"], "logs": exporter["logs_table_name"]}
    names |= {kind: table["name"] for kind, table in exporter["metrics_tables"].items()}
    return names


def test_pipelines_reference_only_defined_components(otelcol):
    pipelines = otelcol["service"]["pipelines"]
    assert pipelines
    for name, pipeline in pipelines.items():
        assert component_type(name) in ("traces", "logs", "metrics"), name
        assert pipeline["receivers"] and pipeline["exporters"], name
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in components(otelcol, kind) or component in components(otelcol, "connectors"), (
                    f"pipeline {name}: {kind[:-1]} {component} is not defined"
                )
    for extension in otelcol["service"].get("extensions", []):
        assert extension in components(otelcol, "extensions")


def test_every_defined_component_is_used(otelcol):
    pipelines = otelcol["service"]["pipelines"].values()
    for kind in ("receivers", "processors", "exporters"):
        used = {c for p in pipelines for c in p.get(kind, [])}
        assert set(components(otelcol, kind)) == used, f"unused {kind}: {set(components(otelcol, kind)) - used}"
    assert set(components(otelcol, "extensions")) == set(otelcol["service"].get("extensions", []))


def test_memory_limiter_first_and_batch_last(otelcol):
    for name, pipeline in otelcol["service"]["pipelines"].items():
        processors = [component_type(p) for p in pipeline.get("processors", [])]
        assert processors[0] == "memory_limiter", name
        assert processors[-1] == "batch", name


def test_every_signal_has_both_routes(otelcol):
    pipelines = otelcol["service"]["pipelines"]
    for signal in ("traces", "logs", "metrics"):
        exporters = set()
        for name, pipeline in pipelines.items():
            if component_type(name) == signal:
                exporters |= {component_type(e) for e in pipeline["exporters"]}
        assert exporters == {"clickhouse", "otlphttp"}, signal
    by_route: dict[tuple[str, ...], set[str]] = {}
    for pipeline in pipelines.values():
        by_route.setdefault(tuple(pipeline["exporters"]), set()).update(pipeline["receivers"])
    assert len(by_route) == 2 and not set.intersection(*by_route.values()), (
        "each route needs receivers of its own, or every item would be written twice"
    )


def test_clickhouse_exporter_writes_aitrails_database_without_touching_the_schema(exporter):
    assert exporter["database"] == DATABASE
    assert exporter["create_schema"] is False, "aitrail owns the schema"
    for key in ("ttl", "table_engine", "cluster_name", "metrics_table_name"):
        assert key not in exporter, f"{key} only matters when the exporter creates tables (or is deprecated)"


def test_exporter_settings_are_known(exporter):
    assert set(exporter) <= EXPORTER_SETTINGS, f"unknown settings: {set(exporter) - EXPORTER_SETTINGS}"
    assert set(exporter["metrics_tables"]) == METRIC_TYPES
    assert all(set(table) == {"name"} for table in exporter["metrics_tables"].values())


def test_exporter_tables_are_the_tables_the_migrations_create(exporter, schema):
    names = table_names(exporter)
    assert set(names) == {"traces", "logs", *METRIC_TYPES} == set(EXPORTER_COLUMNS)
    assert set(names.values()) == schema.raw_tables, "every raw table, and only those"


def test_exporter_reaches_the_clickhouse_service_as_the_insert_only_user(exporter, compose, schema):
    parts = urlsplit(exporter["endpoint"])
    assert parts.hostname == "clickhouse" and parts.hostname in compose["services"]
    assert (parts.scheme, parts.port) in (("tcp", 9000), ("clickhouse", 9000), ("http", 8123))
    assert re.fullmatch(r"\$\{env:[A-Z_][A-Z0-9_]*\}", exporter["password"]), "no password in the file"
    statements = sql_statements((DEPLOY / "clickhouse" / "users.sql").read_text())
    username = exporter["username"]
    assert any(re.match(rf"CREATE USER IF NOT EXISTS {username}\b", s) for s in statements)
    grants = [m.groups() for s in statements if (m := re.fullmatch(rf"GRANT (.+) ON (\S+) TO {username}", s, re.S))]
    assert {privilege for privilege, _ in grants} == {"INSERT"}
    # the tables it names, and on a cluster (deploy/clickhouse/cluster.sql) the shards' tables under them
    tables = table_names(exporter).values()
    assert {on for _, on in grants} == {f"{db}.{t}" for t in tables for db in (DATABASE, "aitrail_local")}


def test_forwarding_exporter_reaches_the_aitrail_collectors_otlp_http_port(otelcol, compose):
    from aitrail.collector.otlp.decode import CONTENT_ENCODINGS

    (forward,) = [v for k, v in otelcol["exporters"].items() if component_type(k) == "otlphttp"]
    parts = urlsplit(forward["endpoint"])
    assert parts.hostname == "collector" and parts.hostname in compose["services"]
    assert f"127.0.0.1:{parts.port}:{parts.port}" in compose["services"]["collector"]["ports"]
    assert parts.path in ("", "/"), "otlphttp appends /v1/traces, /v1/logs, /v1/metrics itself"
    assert forward.get("compression", "gzip") in (*CONTENT_ENCODINGS, "none"), "the aitrail collector could not read it"
    assert forward.get("encoding", "proto") in ("proto", "json")


def test_direct_route_stamps_the_tenant_and_forwarded_route_leaves_it_to_aitrail(otelcol):
    from aitrail.sdk import vocabulary

    pipelines = otelcol["service"]["pipelines"]
    for name, pipeline in pipelines.items():
        stampers = [
            p
            for p in pipeline.get("processors", [])
            if component_type(p) == "resource"
            and any(a["key"] == vocabulary.TENANT for a in otelcol["processors"][p]["attributes"])
        ]
        direct = any(component_type(e) == "clickhouse" for e in pipeline["exporters"])
        if direct:
            assert stampers, f"{name}: writes straight to ClickHouse, so a payload could choose its tenant"
            (stamper,) = stampers
            (attribute,) = [a for a in otelcol["processors"][stamper]["attributes"] if a["key"] == vocabulary.TENANT]
            assert attribute["action"] == "upsert", "overwrite whatever the payload claims"
        else:
            assert not stampers, f"{name}: the aitrail collector stamps the tenant itself"


def test_exporter_columns_exist_in_the_real_tables(clickhouse, exporter):
    """Run the migration files in chDB and compare DESCRIBE with what the exporter inserts."""
    names = table_names(exporter)
    script = ";\n".join(
        [f"CREATE DATABASE {DATABASE}", *sql_statements(migration_sql())]
        + [f"SELECT '{kind}', name FROM system.columns WHERE database = '{DATABASE}' AND table = '{table}'"
           for kind, table in names.items()]
    )
    (result,) = clickhouse.run(script)
    assert result["ok"], result.get("error")
    columns: dict[str, set[str]] = {}
    for line in result["output"].splitlines():
        kind, column = line.split("\t")
        columns.setdefault(kind, set()).add(column)
    for kind, expected in EXPORTER_COLUMNS.items():
        missing = set(expected.split()) - columns.get(kind, set())
        assert not missing, f"{names[kind]} lacks columns the exporter inserts: {sorted(missing)}"
