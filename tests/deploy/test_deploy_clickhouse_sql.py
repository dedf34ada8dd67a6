"""deploy/clickhouse: cluster.sql (generated), users.sql, retention.sql, the users init script.

Every statement goes through the real ClickHouse parser (chDB's formatQuery); what a
single server can run (retention.sql, a de-replicated cluster.sql) is run against the schema
the migration files create.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy_support import DATABASE, DEPLOY, TWO_SHARDS, de_replicate, migration_sql, sharded_schema, sql_statements

CLICKHOUSE = DEPLOY / "clickhouse"
INIT_SCRIPT = CLICKHOUSE / "initdb" / "10-aitrail-users.sh"


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("make_cluster_sql", CLICKHOUSE / "make_cluster_sql.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_parses(clickhouse, statements: list[str]) -> list[str]:
    assert statements
    results = clickhouse.parse(statements)
    errors = [f"{s[:80]!r}: {r['error'][:300]}" for s, r in zip(statements, results) if not r["ok"]]
    assert not errors, "\n".join(errors)
    return [r["formatted"] for r in results]


def test_the_parser_check_is_not_vacuous(clickhouse):
    broken = ["CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS", "GRANT SELEC ON aitrail.* TO x"]
    assert [r["ok"] for r in clickhouse.parse([*broken, "SELECT 1"])] == [False, False, True]
    (result,) = clickhouse.run("SELECT no_such_function(1)")
    assert not result["ok"]


# cluster.sql


def test_cluster_sql_is_generated_from_the_current_migrations(generator):
    assert (CLICKHOUSE / "cluster.sql").read_text() == generator.generate(), (
        "deploy/clickhouse/cluster.sql is stale: python deploy/clickhouse/make_cluster_sql.py --write"
    )
    assert generator.main(["--check"]) == 0


def test_cluster_sql_parses(clickhouse, cluster_statements):
    formatted = assert_parses(clickhouse, cluster_statements)
    creates = [f for f in formatted if f.startswith("CREATE")]
    assert all(" ON CLUSTER " in f for f in creates)


def _created(statements: list[str], database: str) -> dict[str, str]:
    """Name -> CREATE statement of every table and view ``statements`` create in ``database``."""
    created = {}
    for statement in statements:
        match = re.match(rf"CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS `?{database}`?\.(\w+) ON CLUSTER '\{{cluster\}}'",
                         statement)
        if match:
            created[match[1]] = statement
    return created


def test_cluster_sql_shards_every_table_and_replicates_it_within_its_shard(cluster_statements, schema, generator):
    local, front = _created(cluster_statements, generator.LOCAL), _created(cluster_statements, DATABASE)
    everywhere = {"ai_prices", "schema_migrations"}
    assert everywhere <= schema.tables | {"schema_migrations"}
    sharded = schema.tables - everywhere
    assert set(local) == sharded | schema.views, "every table but the price list, and every view, on each shard"
    assert set(front) == sharded | everywhere, "a Distributed table for each, and the tables every node holds"
    for table in sharded:
        assert "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'" in local[table], table
        assert re.search(r"ENGINE = Replicated\w*MergeTree\(", local[table]), table
        engine = re.search(r"AS aitrail_local\.(\w+)\s+ENGINE = Distributed\('\{cluster\}', 'aitrail_local', '(\w+)'(.*)\)$",
                           front[table], re.S)
        assert engine and engine[1] == engine[2] == table, front[table]
        key = engine[3]
        columns = local[table]
        if re.search(r"^\s*tenant\s", columns, re.M):
            assert key == ", cityHash64(tenant)", (table, key)
        elif "ResourceAttributes" in columns:
            assert key == ", cityHash64(ResourceAttributes['aitrail.tenant.id'])", (table, key)
        else:  # filled only by a view, beside its source's rows: read through Distributed, never inserted into
            assert key == "" and table.endswith("_trace_id_ts"), (table, key)
    for table in everywhere:
        assert "'/clickhouse/tables/all/{database}/{table}', '{replica}'" in front[table], table
    for view in schema.views:
        text = local[view].replace("`", "")
        assert "aitrail_local." in text and not re.search(r"\b(?:FROM|JOIN|TO)\s+aitrail\.(?!ai_prices\b)", text), (
            f"{view} must read and write the shard's own tables (only the price list lives in aitrail)")
    text = "\n".join(cluster_statements)
    assert "non_replicated_deduplication_window" not in text
    assert not re.search(r"ENGINE\s*=\s*MergeTree", text)
    assert [s.split(" ON ")[0] for s in cluster_statements[:2]] == [
        "CREATE DATABASE IF NOT EXISTS aitrail", "CREATE DATABASE IF NOT EXISTS aitrail_local"]


def test_cluster_sql_runs_twice_and_its_distributed_tables_have_the_shards_columns(
        clickhouse, cluster_statements, schema, generator):
    """Everything but the replication itself: types, codecs, views, sharding keys, the idempotent bookkeeping,
    and, on the real engine, the same columns (names, types, order) in front of and on the shards."""
    script = sharded_schema(cluster_statements)
    columns = ("SELECT database, table, name, type FROM system.columns "
               "WHERE database IN ('aitrail', 'aitrail_local') ORDER BY database, table, position")
    engines = "SELECT database, name, engine FROM system.tables WHERE database IN ('aitrail', 'aitrail_local')"
    versions = f"SELECT version, count() FROM {DATABASE}.schema_migrations GROUP BY version ORDER BY version"
    results = clickhouse.session(TWO_SHARDS, [{"sql": script}, {"sql": script}, {"sql": columns}, {"sql": engines},
                                              {"sql": versions}])
    errors = [r["error"][:600] for r in results if not r["ok"]]
    assert not errors, errors
    columns_out, engines_out, versions_out = (r["output"] for r in results[2:])
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for line in columns_out.splitlines():
        database, table, name, type_ = line.split("\t")
        found.setdefault((database, table), []).append((name, type_))
    sharded_tables = schema.tables - generator.EVERYWHERE
    for table in sharded_tables:
        assert found[(generator.LOCAL, table)], table
        assert found[(DATABASE, table)] == found[(generator.LOCAL, table)], f"{table}: Distributed columns differ"
    kinds = {tuple(line.split("\t")[:2]): line.split("\t")[2] for line in engines_out.splitlines()}
    assert {t for (d, t), e in kinds.items() if d == DATABASE and e == "Distributed"} == sharded_tables
    assert {t for (d, t), e in kinds.items() if d == generator.LOCAL and e == "MaterializedView"} == schema.views
    versions = sorted(int(p.name[:4]) for p in (DEPLOY.parent / "collector/store/migrations").glob("[0-9]*_*.sql"))
    assert versions_out == "".join(f"{v}\t1\n" for v in versions), "running cluster.sql again must record nothing twice"


def test_schema_migrations_table_is_the_one_the_collector_creates(generator):
    source = (DEPLOY.parent / "collector" / "store" / "schema.py").read_text()
    assert generator.MIGRATIONS_COLUMNS in re.sub(r'"\s*\n\s*"', "", source).replace('" "', " ")


def test_generator_makes_other_mergetree_engines_replicated(generator):
    out = generator.replicate(
        "CREATE TABLE IF NOT EXISTS `aitrail_local`.t (a UInt8, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY a "
        "SETTINGS non_replicated_deduplication_window = 10"
    )
    local, front = out
    assert "ON CLUSTER '{cluster}' (a UInt8" in local
    assert "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v)" in local
    assert local.endswith("replicated_deduplication_window = 10")
    assert front == ("CREATE TABLE IF NOT EXISTS aitrail.t ON CLUSTER '{cluster}' AS aitrail_local.t\n"
                     "ENGINE = Distributed('{cluster}', 'aitrail_local', 't')")
    alter = generator.replicate("ALTER TABLE `aitrail_local`.t ADD COLUMN IF NOT EXISTS b String", cluster="prod")
    assert alter == ["ALTER TABLE `aitrail_local`.t ON CLUSTER 'prod' ADD COLUMN IF NOT EXISTS b String",
                     "ALTER TABLE aitrail.t ON CLUSTER 'prod' ADD COLUMN IF NOT EXISTS b String"]
    (view,) = generator.replicate("ALTER TABLE `aitrail_local`.t_mv MODIFY QUERY SELECT 1")
    assert view == "ALTER TABLE `aitrail_local`.t_mv ON CLUSTER '{cluster}' MODIFY QUERY SELECT 1", "no Distributed view"


def test_generator_keeps_the_price_list_whole_on_every_node(generator):
    (prices,) = generator.replicate("CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_prices (model String) "
                                    "ENGINE = ReplacingMergeTree ORDER BY model")
    assert prices.startswith("CREATE TABLE IF NOT EXISTS aitrail.ai_prices ON CLUSTER")
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')" in prices
    (view,) = generator.replicate("CREATE MATERIALIZED VIEW `aitrail_local`.v TO `aitrail_local`.c AS SELECT * "
                                  "FROM `aitrail_local`.s JOIN `aitrail_local`.ai_prices AS p ON p.model = s.model")
    assert "FROM `aitrail_local`.s JOIN aitrail.ai_prices AS p" in view


def test_generator_keeps_a_backfill_as_it_is(generator):
    """INSERT ... SELECT runs on the replica cluster.sql is run on and replicates from there."""
    backfill = "INSERT INTO `aitrail`.r\nSELECT a FROM `aitrail`.t SETTINGS insert_deduplication_token = 'x'"
    assert generator.replicate(backfill) == [backfill]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO `aitrail`.t VALUES (1)",
        "CREATE TABLE `aitrail`.t ON CLUSTER c (a UInt8) ENGINE = MergeTree ORDER BY a",
        "CREATE TABLE `aitrail`.t (a UInt8) ENGINE = ReplicatedMergeTree ORDER BY a",
        "CREATE TABLE `aitrail`.t (a UInt8) ENGINE = Log",
        "CREATE TABLE `aitrail`.t (a UInt8) ENGINE = MergeTree PRIMARY KEY a; ENGINE = MergeTree",
    ],
)
def test_generator_refuses_what_it_cannot_make_cluster_wide(generator, statement):
    with pytest.raises(generator.UnsupportedStatement):
        generator.replicate(statement)


# users.sql


def test_users_sql_parses(clickhouse):
    assert_parses(clickhouse, sql_statements((CLICKHOUSE / "users.sql").read_text()))


def test_users_have_least_privilege(schema):
    statements = sql_statements((CLICKHOUSE / "users.sql").read_text())
    users = {m[1] for s in statements if (m := re.match(r"CREATE USER IF NOT EXISTS (\w+)", s))}
    assert users == {"aitrail_writer", "aitrail_reader", "aitrail_otelcol"}
    grants = [m.groups() for s in statements if (m := re.fullmatch(r"GRANT (.+) ON (\S+) TO (\w+)", s, re.S))]
    for privileges, on, user in grants:
        assert user in users
        database, _, table = on.partition(".")
        assert database in (DATABASE, "aitrail_local"), f"{user} gets rights beyond aitrail: {on}"
        assert table == "*" or table in schema.tables, f"{on} is not a table of the schema"
        assert not re.search(r"\b(ALL|DROP|TRUNCATE|ACCESS MANAGEMENT|SYSTEM|GRANT OPTION)\b", privileges + on), privileges
    by_user = {}
    for privileges, on, user in grants:
        by_user.setdefault(user, set()).update(p.strip() for p in privileges.split(","))
    assert by_user["aitrail_reader"] == {"SELECT"}
    assert by_user["aitrail_otelcol"] == {"INSERT"}
    assert {"CREATE TABLE", "CREATE VIEW", "INSERT", "SELECT"} <= by_user["aitrail_writer"]
    (reader,) = [s for s in statements if s.startswith("CREATE USER IF NOT EXISTS aitrail_reader")]
    assert re.search(r"SETTINGS readonly = 1\b", reader)
    placeholders = re.findall(r"BY '([^']*)'", "\n".join(statements))
    assert placeholders and all(p.startswith("CHANGE_ME_") for p in placeholders), "no real password in the file"


# retention.sql


def test_retention_sql_parses_and_runs_against_the_real_schema(clickhouse, schema):
    statements = sql_statements((CLICKHOUSE / "retention.sql").read_text())
    assert_parses(clickhouse, statements)
    altered = {m[1] for s in statements if (m := re.match(rf"ALTER TABLE {DATABASE}\.(\w+) MODIFY TTL ", s))}
    assert altered == schema.tables, f"tables without a TTL: {schema.tables - altered}"
    check = f"SELECT name FROM system.tables WHERE database = '{DATABASE}' AND engine_full LIKE '% TTL %' ORDER BY name"
    schema_sql = [f"CREATE DATABASE {DATABASE}", *sql_statements(migration_sql())]
    (result,) = clickhouse.run(";\n".join([*schema_sql, *statements, check]))
    assert result["ok"], result.get("error")
    assert set(result["output"].split()) == schema.tables


# the init script that creates the users in docker compose


def run_init_script(tmp_path: Path, sourced: bool = False, **env: str) -> subprocess.CompletedProcess:
    """Run the script as the image's entrypoint does: executed, or sourced under ``set -eo pipefail``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "clickhouse-client"
    stub.write_text('#!/bin/sh\nprintf "%s\\n" "$*" > "$STUB_OUT.args"\ncat > "$STUB_OUT"\n')
    stub.chmod(0o755)
    full_env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STUB_OUT": str(tmp_path / "sql"),
        "AITRAIL_USERS_SQL": str(CLICKHOUSE / "users.sql"),
        **env,
    }
    if sourced:
        command = ["bash", "-c", 'set -eo pipefail; . "$0"; echo entrypoint-continues', str(INIT_SCRIPT)]
    else:
        command = ["bash", str(INIT_SCRIPT)]
    return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=60)


PASSWORDS = {
    "AITRAIL_WRITER_PASSWORD": "writer-0123456789abcdef",
    "AITRAIL_READER_PASSWORD": "reader-0123456789abcdef",
    "AITRAIL_OTELCOL_PASSWORD": "otelcol-0123456789abcdef",
}


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("sourced", [False, True], ids=["executed", "sourced"])
def test_init_script_fills_the_passwords_and_runs_users_sql_as_the_admin(tmp_path, clickhouse, sourced):
    assert subprocess.run(["bash", "-n", str(INIT_SCRIPT)]).returncode == 0
    done = run_init_script(tmp_path, sourced, CLICKHOUSE_USER="admin", CLICKHOUSE_PASSWORD="admin-pw", **PASSWORDS)
    assert done.returncode == 0, done.stderr
    assert ("entrypoint-continues" in done.stdout) == sourced
    sql = (tmp_path / "sql").read_text()
    assert "'CHANGE_ME_" not in sql
    for var, password in PASSWORDS.items():
        user = "aitrail_" + var.removeprefix("AITRAIL_").removesuffix("_PASSWORD").lower()
        assert re.search(rf"CREATE USER IF NOT EXISTS {user}\s+IDENTIFIED WITH sha256_password BY '{password}'", sql)
    args = (tmp_path / "sql.args").read_text().split()
    assert args[args.index("--user") + 1] == "admin" and args[args.index("--password") + 1] == "admin-pw"
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert_parses(clickhouse, sql_statements(sql))


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("bad", ["", "short", "has'quote-and-long", "has space and long", "has@at-sign-in-url"])
def test_init_script_refuses_passwords_that_would_need_quoting(tmp_path, bad):
    done = run_init_script(tmp_path, sourced=True, **{**PASSWORDS, "AITRAIL_READER_PASSWORD": bad})
    assert done.returncode != 0, "a failed init must stop the container"
    assert "entrypoint-continues" not in done.stdout
    assert "AITRAIL_READER_PASSWORD" in done.stderr
    assert not (tmp_path / "sql").exists(), "nothing may reach ClickHouse"
