"""deploy/grafana: the ClickHouse data source and the dashboard provider."""

from __future__ import annotations

import json
import re

import pytest

from aitrail.dashboards.catalog import tables_read
from deploy_support import DATABASE, DEPLOY, load_yaml, sql_statements

PROVISIONING = DEPLOY / "grafana" / "provisioning"


# jsonData keys of grafana-clickhouse-datasource (its src/types/config.ts, CHConfig and the
# logs/traces sections): a misspelt key is silently ignored by Grafana, so catch it here.
JSON_DATA_KEYS = set(
    """version host port protocol secure path tlsSkipVerify tlsAuth tlsAuthWithCACert username
    defaultDatabase defaultTable dialTimeout queryTimeout validateSql logs traces customSettings
    enableSecureSocksProxy""".split()
)
SECTION_KEYS = {
    "logs": set("defaultDatabase defaultTable otelEnabled otelVersion timeColumn levelColumn messageColumn".split()),
    "traces": set(
        """defaultDatabase defaultTable otelEnabled otelVersion traceIdColumn spanIdColumn
        operationNameColumn parentSpanIdColumn serviceNameColumn durationColumn durationUnit
        startTimeColumn tagsColumn serviceTagsColumn""".split()
    ),
}


@pytest.fixture(scope="module")
def datasource() -> dict:
    document = load_yaml(PROVISIONING / "datasources" / "clickhouse.yaml")
    assert document["apiVersion"] == 1
    (only,) = document["datasources"]
    return only


def test_is_the_clickhouse_plugin_with_a_stable_uid(datasource):
    assert datasource["type"] == "grafana-clickhouse-datasource"
    assert datasource["uid"] == "aitrail-clickhouse", "dashboards refer to this uid"
    assert datasource["access"] == "proxy"


def test_json_data_keys_are_the_plugins(datasource):
    data = datasource["jsonData"]
    assert set(data) <= JSON_DATA_KEYS, f"unknown to the plugin: {set(data) - JSON_DATA_KEYS}"
    for section, known in SECTION_KEYS.items():
        assert set(data[section]) <= known, f"{section}: unknown to the plugin: {set(data[section]) - known}"
    assert set(datasource["secureJsonData"]) <= {"password", "tlsCACert", "tlsClientCert", "tlsClientKey"}


def test_points_at_the_clickhouse_service_over_http(datasource, compose):
    data = datasource["jsonData"]
    assert data["host"] in compose["services"]
    assert data["protocol"] in ("http", "native")
    assert data["port"] == (8123 if data["protocol"] == "http" else 9000)
    assert data.get("secure", False) is False
    assert data["defaultDatabase"] == DATABASE


def test_connects_as_the_read_only_user(datasource):
    username = datasource["jsonData"]["username"]
    statements = sql_statements((DEPLOY / "clickhouse" / "users.sql").read_text())
    (create,) = [s for s in statements if re.match(rf"CREATE USER IF NOT EXISTS {username}\b", s)]
    assert re.search(r"\bSETTINGS\b.*\breadonly\s*=\s*1\b", create, re.S), f"{username} must be readonly = 1"
    grants = [m.groups() for s in statements if (m := re.fullmatch(rf"GRANT (.+) ON (\S+) TO {username}", s, re.S))]
    # SELECT only, and on every table a dashboard reads (test_deploy_cluster_queries: and on nothing else
    # the dashboards, reports and linkage do not read)
    assert {privileges for privileges, _ in grants} == {"SELECT"}
    assert {f"{DATABASE}.{table}" for table in tables_read()} <= {on for _, on in grants}


def test_password_comes_from_the_environment(datasource):
    password = datasource["secureJsonData"]["password"]
    assert re.fullmatch(r"\$\{?[A-Z_][A-Z0-9_]*\}?", password), "no password in the file"
    assert "password" not in datasource["jsonData"]


@pytest.mark.parametrize("signal, table", [("logs", "otel_logs"), ("traces", "otel_traces")])
def test_logs_and_traces_are_the_otel_tables(datasource, schema, signal, table):
    section = datasource["jsonData"][signal]
    assert section["defaultDatabase"] == DATABASE
    assert section["defaultTable"] == table
    assert table in schema.tables
    assert section["otelEnabled"] is True
    assert section["otelVersion"]


def test_trace_durations_are_nanoseconds(datasource):
    # otel_traces.Duration is UInt64 nanoseconds (the exporter's schema).
    assert datasource["jsonData"]["traces"]["durationUnit"] == "nanoseconds"


def test_dashboard_provider_loads_the_mounted_folder():
    document = load_yaml(PROVISIONING / "dashboards" / "aitrail.yaml")
    assert document["apiVersion"] == 1
    (provider,) = document["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert provider["folder"]


def test_dashboard_folder_holds_only_valid_json():
    folder = DEPLOY / "grafana" / "dashboards"
    assert list(folder.glob("*.json")), "run `aitrail dashboards build`"
    for path in folder.glob("*.json"):
        dashboard = json.loads(path.read_text())
        assert dashboard.get("uid"), f"{path.name}: a provisioned dashboard needs a stable uid"
