"""Generate deploy/clickhouse/cluster.sql: aitrail's schema for a replicated ClickHouse cluster.

The collector applies its migrations (collector/store/migrations/*.sql) by
itself, with plain ``MergeTree`` tables on the one server it talks to. On a
cluster the schema has to exist on every replica, so it is created once, up
front, with this file. It is the same migrations, transformed statement by
statement:

1. ``${database}`` becomes the database (``aitrail``), as the collector does.
2. ``ON CLUSTER '{cluster}'`` follows the object name of every ``CREATE TABLE``,
   ``CREATE [MATERIALIZED] VIEW`` and ``ALTER TABLE`` (``{cluster}`` is a server
   macro; ``--cluster NAME`` writes a literal cluster name instead).
3. ``ENGINE = <X>MergeTree[(params)]`` becomes
   ``ENGINE = Replicated<X>MergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'[, params])``.
4. ``non_replicated_deduplication_window`` (which only plain MergeTree reads)
   becomes ``replicated_deduplication_window``, so retried inserts carrying
   the collector's deduplication tokens are still dropped.
5. ``INSERT INTO ... SELECT`` statements (a migration filling a new table from
   an existing one) stay as they are: they run on the replica the file is run
   on and replicate from there; their deduplication tokens make a second run a
   no-op. With several shards, run the file on one replica of every shard.
6. The database and the collector's ``schema_migrations`` table are created
   first (replicated too), and the applied versions are recorded last, so a
   collector started against the cluster finds nothing to apply.

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

DATABASE = "aitrail"
CLUSTER_MACRO = "{cluster}"
ZOOKEEPER_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
REPLICA = "{replica}"
OUTPUT = Path(__file__).with_name("cluster.sql")

# Kept identical to the table aitrail.collector.store.schema.migrate() creates
# (tests/deploy checks that the column list is still the one there).
MIGRATIONS_COLUMNS = "version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3)"

_DDL_NAME = re.compile(
    r"^(?P<head>(?:CREATE\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW|DICTIONARY)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"|ALTER\s+TABLE\s+|DROP\s+(?:TABLE|VIEW|DICTIONARY)\s+(?:IF\s+EXISTS\s+)?)"
    r"(?P<name>[`\w.]+))",
    re.IGNORECASE,
)
_ENGINE = re.compile(r"\bENGINE\s*=\s*(?P<kind>\w*)MergeTree\b(?:\s*\((?P<params>[^()]*)\))?", re.IGNORECASE)
_DEDUP = re.compile(r"\bnon_replicated_deduplication_window\b")


class UnsupportedStatement(ValueError):
    """A migration statement this generator does not know how to make cluster-wide."""


def _cluster_clause(cluster: str) -> str:
    return f"ON CLUSTER '{cluster}'"


def replicate(statement: str, cluster: str = CLUSTER_MACRO) -> str:
    """One migration statement, made cluster-wide and replicated."""
    if re.match(r"INSERT\s+INTO\s+[`\w.]+\s*(?:\([^()]*\)\s*)?SELECT\b", statement, re.IGNORECASE):
        return statement
    match = _DDL_NAME.match(statement)
    if not match:
        raise UnsupportedStatement(f"cannot make this statement cluster-wide: {statement[:120]!r}")
    if re.search(r"\bON\s+CLUSTER\b", statement, re.IGNORECASE):
        raise UnsupportedStatement(f"migration statements must not name a cluster: {statement[:120]!r}")
    out = f"{match['head']} {_cluster_clause(cluster)}{statement[match.end():]}"
    if re.match(r"CREATE\s+(TABLE|DICTIONARY)\b", statement, re.IGNORECASE):
        engines = list(_ENGINE.finditer(out))
        if len(engines) != 1:
            raise UnsupportedStatement(f"expected exactly one *MergeTree engine in: {statement[:120]!r}")
        engine = engines[0]
        if engine["kind"].lower().startswith("replicated"):
            raise UnsupportedStatement(f"migration statements must not be replicated already: {statement[:120]!r}")
        args = [f"'{ZOOKEEPER_PATH}'", f"'{REPLICA}'"]
        if engine["params"] and engine["params"].strip():
            args.append(engine["params"].strip())
        out = f"{out[:engine.start()]}ENGINE = Replicated{engine['kind']}MergeTree({', '.join(args)}){out[engine.end():]}"
        out = _DEDUP.sub("replicated_deduplication_window", out)
    return out


def generate(cluster: str = CLUSTER_MACRO) -> str:
    """The whole cluster.sql text."""
    on_cluster = _cluster_clause(cluster)
    migrations = known_migrations()
    parts = [
        "-- aitrail's schema for a replicated ClickHouse cluster. GENERATED: do not edit.",
        "-- Source: collector/store/migrations/*.sql, through deploy/clickhouse/make_cluster_sql.py",
        "-- (the docstring there lists every transformation). Regenerate after changing a migration:",
        "--     python deploy/clickhouse/make_cluster_sql.py --write",
        "-- Run once, before the first collector starts, and again after every aitrail upgrade",
        "-- (every statement is idempotent):",
        "--     clickhouse-client --host <any replica> --user <admin> --ask-password --multiquery < cluster.sql",
        f"-- The servers need the macros {{cluster}}, {{shard}} and {{replica}} and a Keeper (or ZooKeeper).",
        "",
        f"CREATE DATABASE IF NOT EXISTS {DATABASE} {on_cluster};",
        "",
        f"CREATE TABLE IF NOT EXISTS {DATABASE}.{MIGRATIONS_TABLE} {on_cluster} ({MIGRATIONS_COLUMNS})",
        f"ENGINE = ReplicatedMergeTree('{ZOOKEEPER_PATH}', '{REPLICA}') ORDER BY version;",
    ]
    for migration in migrations:
        parts += ["", f"-- {migration.version:04d}_{migration.name}"]
        parts.append("\n\n".join(replicate(s, cluster) + ";" for s in migration.statements(DATABASE)))
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
