"""deploy/clickhouse/row_policies.sql: the server-side tenancy text parses, and covers every tenant table."""

from __future__ import annotations

import re
from pathlib import Path

from aitrail.collector.sqlendpoint.guard import sql_string
from aitrail.collector.sqlendpoint.tenancy import TENANT_TABLES

SQL = Path(__file__).parents[2] / "deploy" / "clickhouse" / "row_policies.sql"


def _statements(text: str) -> list[str]:
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*$", text, flags=re.M) if part.strip()]


def test_every_statement_parses(store):
    statements = _statements(SQL.read_text())
    assert len(statements) > 20
    for statement in statements:  # the engine's own parser (chDB cannot run access management, but parses it)
        store.query(f"SELECT formatQuery({sql_string(statement)})", fmt="TSV", readonly=True)


def test_every_tenant_table_has_a_tenant_policy_and_an_all_rows_policy():
    text = SQL.read_text()
    for table, expression in TENANT_TABLES.items():
        assert f"GRANT SELECT ON aitrail.{table} TO aitrail_tenant_reader;" in text
        assert f"ON aitrail.{table} USING {expression} = currentUser() TO aitrail_tenant_reader;" in text
        assert f"ON aitrail.{table} USING 1 TO aitrail_writer, aitrail_reader;" in text
    assert "otel_traces_trace_id_ts TO" not in text
