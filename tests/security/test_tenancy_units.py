"""The pieces of SQL tenancy on their own: names, the views' SQL, and how a query is sent for a tenant."""

from __future__ import annotations

import re

import pytest

from aitrail.collector.sqlendpoint import tenancy
from aitrail.collector.sqlendpoint.tenancy import tenant_database, view_statements
from aitrail.errors import QueryRefused


def test_tenant_database_names_are_plain_and_distinct():
    names = {tenant_database(t) for t in ("acme", "Acme", "acme ", "a'b", "x" * 500, "é")}
    assert len(names) == 6
    assert all(re.fullmatch(r"aitrail_tenant_[0-9a-f]{16}", n) for n in names)
    assert tenant_database("acme") == tenant_database("acme")


def test_view_statements(store):
    statements = view_statements(store, "acme:eu@corp.example")
    database = tenant_database("acme:eu@corp.example")
    assert statements[0] == f"CREATE DATABASE IF NOT EXISTS `{database}`"
    views = {re.search(r"VIEW `\w+`\.`(\w+)`", s)[1]: s for s in statements[1:]}
    assert set(views) == set(tenancy.TENANT_TABLES)
    assert views["ai_generations"].endswith(
        "FROM `aitrail`.`ai_generations` WHERE tenant = 'acme:eu@corp.example' LIMIT 18446744073709551615"
    )
    assert "`ResourceAttributeItems`" in views["otel_traces"]  # ALIAS columns are kept
    for statement in statements:
        store.command(statement)
    assert store.rows(f"SELECT count() AS n FROM system.tables WHERE database = '{database}'")[0]["n"] == len(views)


@pytest.mark.parametrize("tenant", ["a'b", "a b", "", "a\\b", "x" * 200, "ä"])
def test_unsafe_tenant_ids_never_reach_sql(store, tenant):
    with pytest.raises(QueryRefused):
        view_statements(store, tenant)


def test_a_server_gets_the_database_with_each_request_standin_client():
    """No ClickHouse server runs here: a stand-in for clickhouse-connect's client records what RemoteStore asks."""
    from clickhouse_connect.driver.exceptions import OperationalError

    from aitrail.collector.store.remote import RemoteStore

    calls = []

    class Client:
        def raw_query(self, sql, **kwargs):  # noqa: ANN001, ANN003, ANN201
            calls.append((sql, kwargs))
            return b"ok"

    remote = RemoteStore.__new__(RemoteStore)  # its __init__ would connect
    remote._client, remote._operational = Client(), OperationalError
    out = remote.query_in("aitrail_tenant_0123456789abcdef", "SELECT 1", {"x": 1}, "TSV")
    assert out == b"ok"
    (sql, kwargs), = calls
    assert sql == "SELECT 1" and kwargs["use_database"] is False and kwargs["settings"] == {"readonly": 1}
    assert kwargs["transport_settings"] == {"X-ClickHouse-Database": "aitrail_tenant_0123456789abcdef"}
