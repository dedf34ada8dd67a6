"""Generate deploy/clickhouse/cluster.sql: aitrail's schema for a ClickHouse cluster, sharded and replicated.

The collector applies its migrations (collector/store/migrations/*.sql) by
itself, with plain ``MergeTree`` tables on the one server it talks to. On a
cluster the schema has to exist on every node, so it is created once, up
front, with this file. Its layout:

* ``aitrail_local`` holds the data: every table of the migrations, replicated
  within its shard (``Replicated*MergeTree``), and the materialized views, which
  run where the insert lands and fill that shard's derived tables.
* ``aitrail`` holds what collectors, dashboards, reports and linkage name: one
  ``Distributed`` table over each ``aitrail_local`` table, with the same columns,
  sharded by tenant (``cityHash64(tenant)``, or the tenant resource attribute on
  the raw ``otel_*`` tables), so a tenant's spans, generations, rollups, commits
  and findings sit on one shard and every join and ``IN`` within a tenant is
  local to it (the users run with ``distributed_product_mode = 'local'``,
  users.sql). The same queries run on one server and on the cluster.
* Small tables every node needs whole (``EVERYWHERE``: the price list the cost
  view joins, and ``schema_migrations``) are in ``aitrail`` itself, replicated
  across all shards (one Keeper path for the whole cluster), not distributed.

The migrations are transformed statement by statement:

1. ``${database}`` becomes ``aitrail_local`` (``aitrail`` for an ``EVERYWHERE`` table).
2. ``ON CLUSTER '{cluster}'`` follows the object name of every ``CREATE TABLE``,
   ``CREATE [MATERIALIZED] VIEW``, ``ALTER TABLE`` and ``DROP`` (``{cluster}`` is a
   server macro; ``--cluster NAME`` writes a literal cluster name instead).
3. ``ENGINE = <X>MergeTree[(params)]`` becomes
   ``ENGINE = Replicated<X>MergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'[, params])``
   (``/clickhouse/tables/all/...`` for an ``EVERYWHERE`` table).
4. ``non_replicated_deduplication_window`` (which only plain MergeTree reads)
   becomes ``replicated_deduplication_window``, so retried inserts carrying
   the collector's deduplication tokens are still dropped.
5. Each ``CREATE TABLE`` of a sharded table is followed by its ``Distributed``
   table in ``aitrail`` (``AS aitrail_local.<table>``); an ``ALTER TABLE`` that
   changes columns, or a ``DROP TABLE``, is repeated on it, so the two keep the
   same columns.
6. ``INSERT INTO ... SELECT`` statements (a migration filling a new table from
   an existing one) stay as they are: they run on the node the file is run on
   and replicate from there; their deduplication tokens make a second run a
   no-op. With several shards, run the file on one node of every shard.
7. The databases and ``schema_migrations`` are created first, and the applied
   versions are recorded last, so a collector started against any node finds
   nothing to apply.

Any statement of another kind stops the generator: a new kind of migration
must be looked at before it reaches a cluster.

Usage (from the repository root, with aitrail installed)::

    python deploy/clickhouse/make_cluster_sql.py            # print to stdout
    python deploy/clickhouse/make_cluster_sql.py --write    # rewrite deploy/clickhouse/cluster.sql
    python deploy/clickhouse/make_cluster_sql.py --check    # exit 1 if cluster.sql is out of date
    python deploy/clickhouse/make_cluster_sql.py --cluster prod   # a literal cluster name
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from aitrail.collector.store.schema import MIGRATIONS_TABLE, known_migrations
from aitrail.sdk.vocabulary import TENANT

DATABASE = "aitrail"
"""What the collectors and every reader name: Distributed tables, and the EVERYWHERE tables."""
LOCAL = "aitrail_local"
"""Each shard's own tables (replicated within the shard) and materialized views."""
EVERYWHERE = frozenset({"ai_prices", MIGRATIONS_TABLE})
"""Tables every node holds whole: replicated across the cluster, never sharded."""
CLUSTER_MACRO = "{cluster}"
SHARD_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
EVERYWHERE_PATH = "/clickhouse/tables/all/{database}/{table}"
REPLICA = "{replica}"
OUTPUT = Path(__file__).with_name("cluster.sql")

# Kept identical to the table aitrail.collector.store.schema.migrate() creates
# (tests/deploy checks that the column list is still the one there).
MIGRATIONS_COLUMNS = "version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3)"

TENANT_KEY = "cityHash64(tenant)"
"""The sharding key of the typed tables (ai_*): their tenant column."""
RAW_TENANT_KEY = f"cityHash64(ResourceAttributes['{TENANT}'])"
"""The sharding key of the raw tables (otel_*): the tenant the collector stamps on every resource."""

_DDL_NAME = re.compile(
    r"^(?P<head>(?P<verb>CREATE\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW|DICTIONARY)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"|ALTER\s+TABLE\s+|DROP\s+(?:TABLE|VIEW|DICTIONARY)\s+(?:IF\s+EXISTS\s+)?)"
    r"(?P<name>[`\w.]+))",
    re.IGNORECASE,
)
_ENGINE = re.compile(r"\bENGINE\s*=\s*(?P<kind>\w*)MergeTree\b(?:\s*\((?P<params>[^()]*)\))?", re.IGNORECASE)
_DEDUP = re.compile(r"\bnon_replicated_deduplication_window\b")
_LOCAL_NAME = re.compile(rf"`?{LOCAL}`?\.`?(\w+)`?")
_COLUMN_ALTER = re.compile(r"^\s*(ADD|DROP|MODIFY|RENAME|COMMENT)\s+COLUMN\b", re.IGNORECASE)


class UnsupportedStatement(ValueError):
    """A migration statement this generator does not know how to make cluster-wide."""


def _cluster_clause(cluster: str) -> str:
    return f"ON CLUSTER '{cluster}'"


def _home(statement: str) -> str:
    """References to an EVERYWHERE table point at its one copy in ``aitrail``."""
    return _LOCAL_NAME.sub(lambda m: f"{DATABASE}.{m[1]}" if m[1] in EVERYWHERE else m[0], statement)


def sharding_key(create_table: str) -> str | None:
    """The tenant a table's rows belong to, from its columns; None for a table without one (read-only lookups
    a materialized view fills next to its source, e.g. ``otel_traces_trace_id_ts``)."""
    if re.search(r"^\s*tenant\s", create_table, re.MULTILINE):
        return TENANT_KEY
    if re.search(r"^\s*ResourceAttributes\s", create_table, re.MULTILINE):
        return RAW_TENANT_KEY
    return None


def distributed(table: str, key: str | None, cluster: str = CLUSTER_MACRO) -> str:
    """The Distributed table in ``aitrail`` over ``aitrail_local.<table>`` on every shard."""
    args = ", ".join([f"'{cluster}'", f"'{LOCAL}'", f"'{table}'", *([key] if key else [])])
    return (f"CREATE TABLE IF NOT EXISTS {DATABASE}.{table} {_cluster_clause(cluster)} AS {LOCAL}.{table}\n"
            f"ENGINE = Distributed({args})")


def replicate(statement: str, cluster: str = CLUSTER_MACRO) -> list[str]:
    """One migration statement (for database ``aitrail_local``) as the statements a cluster runs."""
    statement = _home(statement)
    if re.match(r"INSERT\s+INTO\s+[`\w.]+\s*(?:\([^()]*\)\s*)?SELECT\b", statement, re.IGNORECASE):
        return [statement]
    match = _DDL_NAME.match(statement)
    if not match:
        raise UnsupportedStatement(f"cannot make this statement cluster-wide: {statement[:120]!r}")
    if re.search(r"\bON\s+CLUSTER\b", statement, re.IGNORECASE):
        raise UnsupportedStatement(f"migration statements must not name a cluster: {statement[:120]!r}")
    local = _LOCAL_NAME.fullmatch(match["name"])
    table = local[1] if local else None
    rest = statement[match.end():]
    out = f"{match['head']} {_cluster_clause(cluster)}{rest}"
    verb = " ".join(match["verb"].upper().split())
    if verb.startswith(("CREATE TABLE", "CREATE DICTIONARY")):
        engines = list(_ENGINE.finditer(out))
        if len(engines) != 1:
            raise UnsupportedStatement(f"expected exactly one *MergeTree engine in: {statement[:120]!r}")
        engine = engines[0]
        if engine["kind"].lower().startswith("replicated"):
            raise UnsupportedStatement(f"migration statements must not be replicated already: {statement[:120]!r}")
        path = SHARD_PATH if table is not None else EVERYWHERE_PATH
        args = [f"'{path}'", f"'{REPLICA}'"]
        if engine["params"] and engine["params"].strip():
            args.append(engine["params"].strip())
        out = f"{out[:engine.start()]}ENGINE = Replicated{engine['kind']}MergeTree({', '.join(args)}){out[engine.end():]}"
        out = _DEDUP.sub("replicated_deduplication_window", out)
        if table is not None and verb.startswith("CREATE TABLE"):
            return [out, distributed(table, sharding_key(statement), cluster)]
        return [out]
    mirrored = table is not None and (
        (verb.startswith("ALTER") and _COLUMN_ALTER.match(rest)) or verb.startswith("DROP TABLE"))
    if mirrored:
        return [out, f"{match['head'].replace(match['name'], f'{DATABASE}.{table}')} {_cluster_clause(cluster)}{rest}"]
    return [out]


def generate(cluster: str = CLUSTER_MACRO) -> str:
    """The whole cluster.sql text."""
    on_cluster = _cluster_clause(cluster)
    migrations = known_migrations()
    parts = [
        "-- aitrail's schema for a ClickHouse cluster (shards of replicas). GENERATED: do not edit.",
        "-- Source: collector/store/migrations/*.sql, through deploy/clickhouse/make_cluster_sql.py",
        "-- (the docstring there lists every transformation). Regenerate after changing a migration:",
        "--     python deploy/clickhouse/make_cluster_sql.py --write",
        f"-- {LOCAL}: each shard's replicated tables and materialized views. {DATABASE}: a Distributed table over",
        "-- each of them, sharded by tenant (what collectors and dashboards use), and the tables every node holds.",
        "-- Run once, before the first collector starts, and again after every aitrail upgrade",
        "-- (every statement is idempotent), on one node of every shard:",
        "--     clickhouse-client --host <a node> --user <admin> --ask-password --multiquery < cluster.sql",
        "-- The servers need the macros {cluster}, {shard} and {replica} and a Keeper (or ZooKeeper).",
        "",
        f"CREATE DATABASE IF NOT EXISTS {DATABASE} {on_cluster};",
        "",
        f"CREATE DATABASE IF NOT EXISTS {LOCAL} {on_cluster};",
        "",
        f"CREATE TABLE IF NOT EXISTS {DATABASE}.{MIGRATIONS_TABLE} {on_cluster} ({MIGRATIONS_COLUMNS})",
        f"ENGINE = ReplicatedMergeTree('{EVERYWHERE_PATH}', '{REPLICA}') ORDER BY version;",
    ]
    for migration in migrations:
        parts += ["", f"-- {migration.version:04d}_{migration.name}"]
        statements = [s for statement in migration.statements(LOCAL) for s in replicate(statement, cluster)]
        parts.append("\n\n".join(s + ";" for s in statements))
    values = ",\n    ".join(f"({m.version}, '{m.name}', '{m.checksum}')" for m in migrations)
    parts += [
        "",
        "-- Record the migrations as applied, so collectors started on the cluster apply nothing themselves.",
        f"INSERT INTO {DATABASE}.{MIGRATIONS_TABLE} (version, name, checksum)",
        "SELECT * FROM (SELECT * FROM values('version UInt32, name String, checksum String',",
        f"    {values}))",
        f"WHERE version NOT IN (SELECT version FROM {DATABASE}.{MIGRATIONS_TABLE});",
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster", default=CLUSTER_MACRO, help="cluster name (default: the {cluster} macro)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"rewrite {OUTPUT.name}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 if {OUTPUT.name} is out of date")
    args = parser.parse_args(argv)
    text = generate(args.cluster)
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date: run python {Path(__file__).as_posix()} --write", file=sys.stderr)
            return 1
        return 0
    if args.write:
        OUTPUT.write_text(text)
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
