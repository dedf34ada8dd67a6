"""What aitrail reads runs on a cluster too, and the reader may read all of it.

Every query of the dashboards, reports and linkage (their SQL files, as the data source sends them) and the
derivation of native telemetry is planned by the real engine (chDB's ``EXPLAIN``) over cluster.sql's
Distributed tables on a two-shard cluster, with the settings users.sql gives the users; and
``aitrail_reader``'s grants are exactly the tables that SQL names.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aitrail.collector.derive import DIALECTS
from aitrail.collector.derive.render import statement as derive_statement
from aitrail.dashboards.catalog import DASHBOARDS
from aitrail.dashboards.macros import TimeRange, expand
from deploy_support import DATABASE, DEPLOY, REPO, TWO_SHARDS, sharded_schema, sql_statements

QUERY_FOLDERS = (REPO / "dashboards" / "sql", REPO / "aitrail" / "linkage" / "sql")
"""Where the SQL of every dashboard panel, report and linkage question lives."""
TIME = TimeRange(datetime(2025, 3, 1, tzinfo=timezone.utc), datetime(2025, 3, 8, 12, tzinfo=timezone.utc))
USERS = sql_statements((DEPLOY / "clickhouse" / "users.sql").read_text())


def query_files() -> dict[str, str]:
    files = {str(p.relative_to(REPO)): p.read_text() for folder in QUERY_FOLDERS for p in sorted(folder.rglob("*.sql"))}
    assert len(files) > 20, files.keys()
    return files


def variable_queries() -> dict[str, str]:
    """The dashboards' variables read their choices with SQL too (kept beside the dashboards)."""
    return {f"{d.uid} variable {v.name}": v.query for d in DASHBOARDS for v in d.variables if v.query}


def tables_named(sql: str, known: set[str]) -> set[str]:
    """Tables of ``known`` a query reads: ``aitrail.<t>``, or ``<t>`` alone after FROM or JOIN (not a CTE's name)."""
    qualified = set(re.findall(rf"\b{DATABASE}\.(\w+)", sql))
    bare = set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)\b", sql, re.I)) & known
    return qualified | bare


def user_settings(user: str) -> dict[str, str]:
    """``name = value`` settings users.sql gives ``user`` (readonly aside: it is what forbids changing them)."""
    (create,) = [s for s in USERS if re.match(rf"CREATE USER IF NOT EXISTS {user}\b", s)]
    settings = create.split(" SETTINGS ", 1)[1]
    return {k: v for k, v in re.findall(r"(\w+)\s*=\s*('[^']*'|\w+)", settings) if k != "readonly"}


def placeholder_values(sql: str) -> dict[str, str]:
    """A value of the right type for each ``{name:Type}`` parameter (planning needs the types, not the data; a
    constant is folded while planning, so a String must be one that parses where a time is expected)."""
    values = {}
    for name, kind in re.findall(r"\{(\w+):([^}]+)\}", sql):
        values[name] = "[]" if kind.startswith("Array") else "0" if re.match(r"U?Int|Float", kind) else str(TIME.start)
    return values


def test_the_reader_may_read_exactly_what_dashboards_reports_and_linkage_read(schema):
    read: dict[str, set[str]] = {}
    for name, sql in {**query_files(), **variable_queries()}.items():
        for table in tables_named(sql, set(schema.tables)):
            read.setdefault(table, set()).add(name)
    assert not set(read) - schema.tables, f"not tables of the schema: {set(read) - schema.tables}"
    assert {"ai_generations", "ai_cost_estimates", "ai_signoffs", "otel_traces"} <= set(read), read.keys()
    grants = [m.groups() for s in USERS if (m := re.fullmatch(r"GRANT SELECT ON (\w+)\.(\w+) TO aitrail_reader", s))]
    for database in (DATABASE, "aitrail_local"):
        granted = {table for db, table in grants if db == database}
        missing = {t: sorted(read[t]) for t in set(read) - granted}
        assert not missing, f"aitrail_reader cannot read, in {database}: {missing}"
        assert granted == set(read), f"granted in {database} but read by nothing: {granted - set(read)}"


def reads() -> dict[str, str]:
    """Every read as the engine receives it: macros expanded as the Grafana data source expands them."""
    return {name: expand(sql, TIME) for name, sql in {**query_files(), **variable_queries()}.items()}


def derivations() -> dict[str, str]:
    """The SELECT of each dialect's derivation (EXPLAIN plans a SELECT; the INSERT's target is a Distributed table)."""
    out = {}
    for dialect, assistant in DIALECTS.items():
        sql = derive_statement(dialect, assistant, DATABASE)
        head = re.match(rf"INSERT INTO `?{DATABASE}`?\.otel_traces\s*\([^)]*\)\s*", sql)
        assert head, sql[:200]
        out[f"derive {dialect}"] = sql[head.end():]
    return out


@pytest.fixture(scope="module")
def planned(clickhouse, cluster_statements) -> dict[str, dict[str, dict]]:
    """Each query's EXPLAIN on the two-shard schema: with the engine's default settings, and with the users'."""
    queries = {**reads(), **derivations()}
    explain = [{"sql": f"EXPLAIN {sql}", "params": placeholder_values(sql)} for sql in queries.values()]
    settings = {**user_settings("aitrail_reader"), **user_settings("aitrail_writer")}
    assert settings.get("distributed_product_mode") == "'local'", settings
    set_users = [{"sql": f"SET {name} = {value}"} for name, value in settings.items()]
    results = clickhouse.session(TWO_SHARDS, [{"sql": sharded_schema(cluster_statements)}, *explain, *set_users, *explain])
    assert results[0]["ok"], results[0].get("error")
    n = len(queries)
    default, users = results[1:1 + n], results[1 + n + len(set_users):]
    assert all(r["ok"] for r in results[1 + n:1 + n + len(set_users)])
    return {"default": dict(zip(queries, default)), "users": dict(zip(queries, users))}


def reached_the_shards(error: str) -> bool:
    """A scalar subquery (``(SELECT groupArray(...) FROM t)``) is run while planning: over a Distributed table it
    goes to the shards, which are not there. Planning got that far: the query was accepted."""
    return "Connection refused (127.0.0.1:1900" in error and "While executing Remote" in error


def test_every_query_plans_over_the_distributed_tables_with_the_users_settings(planned):
    failed = {name: r["error"][:400] for name, r in planned["users"].items() if not r["ok"]}
    assert not {name: e for name, e in failed.items() if not reached_the_shards(e)}, failed
    assert len(failed) < 3, f"only a scalar subquery needs the shards while planning: {failed}"
    remote = [name for name, r in planned["users"].items() if r["ok"] and "ReadFromRemote" in r["output"]]
    assert len(remote) > len(planned["users"]) // 2, "the plans must read the shards"


def test_without_the_users_settings_joins_over_two_distributed_tables_are_refused(planned):
    """Why users.sql sets distributed_product_mode: ClickHouse refuses a second distributed table in a JOIN or IN
    unless told where to run it (on each shard, since a tenant's rows are all on one)."""
    failed = {name: r["error"] for name, r in planned["default"].items() if not r["ok"]}
    denied = {name for name, error in failed.items() if "DISTRIBUTED_IN_JOIN_SUBQUERY_DENIED" in error}
    assert denied, "some queries join two tables: the default must refuse at least one"
    assert all(name in denied or reached_the_shards(error) for name, error in failed.items()), failed


def test_the_query_folders_are_the_ones_the_code_loads():
    """tables_named reads the files; the code reads the same folders through its packages."""
    from aitrail.dashboards.reports import Report
    from aitrail.linkage.chain import linkage_sql

    assert Report("report_generations", "").sql == (QUERY_FOLDERS[0] / "report_generations.sql").read_text()
    assert linkage_sql("generations") == (QUERY_FOLDERS[1] / "generations.sql").read_text()
    assert all(Path(p).suffix == ".sql" for p in query_files())
