"""Schema migrations: named, ordered, recorded; reading what is applied or pending changes nothing.

Each ``migrations/NNNN_name.sql`` holds statements separated by ``;`` at line
ends, with ``${database}`` for the (quoted) database name and ``${attributes}`` for
a span's attributes over its resource's, aliases resolved
(:mod:`aitrail.collector.store.aliases`). Every statement is
idempotent (``IF NOT EXISTS``), so a migration interrupted half way is simply
applied again. A store whose recorded version is newer than this code knows
is refused: old code must never write into a schema it does not understand.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from aitrail.collector.store import aliases
from aitrail.collector.store.base import Store, dedup_settings, quote_identifier, settings_clause
from aitrail.errors import SchemaError, StoreError

MIGRATIONS_TABLE = "schema_migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    def statements(self, database: str) -> list[str]:
        text = Template(self.sql).substitute(aliases.substitutions(), database=quote_identifier(database))
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
        return [part.strip() for part in re.split(r";\s*$", text, flags=re.M) if part.strip()]


def known_migrations() -> list[Migration]:
    """Every migration shipped with this code, in order."""
    found = []
    for entry in resources.files("aitrail.collector.store.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    found.sort(key=lambda m: m.version)
    return found


SCHEMA_VERSION = known_migrations()[-1].version
"""The newest schema this code knows."""


def applied_versions(store: Store) -> dict[int, str]:
    """Version -> name of what the store has applied (empty for a new store). Changes nothing."""
    try:
        rows = store.rows(
            f"SELECT version, name FROM {store.qualified(MIGRATIONS_TABLE)} ORDER BY version",
            readonly=False,
        )
    except StoreError as exc:
        if "UNKNOWN_TABLE" in str(exc) or "UNKNOWN_DATABASE" in str(exc) or "doesn't exist" in str(exc):
            return {}
        raise
    return {int(r["version"]): r["name"] for r in rows}


def pending(store: Store) -> list[Migration]:
    """Migrations this code would apply. Changes nothing."""
    applied = applied_versions(store)
    newest = max(applied, default=0)
    if newest > SCHEMA_VERSION:
        raise SchemaError(
            f"the store's schema is version {newest} but this aitrail knows only up to {SCHEMA_VERSION}: "
            "upgrade aitrail (pip install -U aitrail) before using this store"
        )
    return [m for m in known_migrations() if m.version not in applied]


def migrate(store: Store) -> list[Migration]:
    """Bring the store's schema up to this code's version; return what was applied."""
    db = quote_identifier(store.database)
    store.command(f"CREATE DATABASE IF NOT EXISTS {db}")
    store.command(
        f"CREATE TABLE IF NOT EXISTS {store.qualified(MIGRATIONS_TABLE)} ("
        " version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3)"
        ") ENGINE = MergeTree ORDER BY version SETTINGS non_replicated_deduplication_window = 1000"
    )
    todo = pending(store)
    for migration in todo:
        for statement in migration.statements(store.database):
            try:
                store.command(statement)
            except StoreError as exc:
                raise SchemaError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
        store.command(  # once, however many collectors apply it at once (the version names the insert)
            f"INSERT INTO {store.qualified(MIGRATIONS_TABLE)} (version, name, checksum) "
            f"{settings_clause(dedup_settings(f'migration.{migration.version}'))} "
            "VALUES ({v:UInt32}, {n:String}, {c:String})",
            {"v": migration.version, "n": migration.name, "c": migration.checksum},
        )
    return todo
