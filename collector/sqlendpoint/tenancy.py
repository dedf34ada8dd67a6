"""Each reader of the SQL endpoint sees only its tenant's rows, enforced by the engine.

The embedded engine (chDB) has no users or row policies, so tenancy is built
from what every ClickHouse has:

1. **A database of views per tenant**, ``aitrail_tenant_<16 hex of SHA-256(tenant)>``:
   ``otel_traces``, ``otel_logs``, ``otel_metrics_*``, ``ai_generations`` and its daily rollups, each
   ``SELECT * FROM aitrail.<table> WHERE <tenant of the row> = '<tenant>' LIMIT 18446744073709551615``.
   The ``LIMIT`` is an optimisation barrier: without it the engine may push a
   reader's own conditions below the tenant filter and evaluate them on other
   tenants' rows first, where ``toUInt8(prompt)`` would put another tenant's
   text in an error message. ``otel_traces_trace_id_ts`` carries no tenant and
   has no view (a tenant finds its traces in its ``otel_traces``).
2. **The guard** (:mod:`~aitrail.collector.sqlendpoint.guard`) walks the engine's
   ``EXPLAIN AST`` and, for a tenant reader, accepts a table only when it is in
   the tenant's database (or unqualified, see 3) or one of a few harmless
   ``system`` tables clients read when they connect; refuses any identifier
   that names another database (``aitrail.``, other tenants', ``system.``,
   ``information_schema.``), the ``view()`` table function, and functions
   that reach tables by name (``dictGet``, ``joinGet``, ``hasColumnInTable``…).
3. **The tenant's database is the current database** of the connection that
   runs the query (a chDB connection per tenant database, or the HTTP
   ``X-ClickHouse-Database`` header on a ClickHouse server), so an unqualified
   name — ``FROM ai_generations``, a CTE, ``IN t`` — can only mean the tenant's
   own views, and the guard never has to resolve names itself.

A ClickHouse server can enforce the same with row policies per user
(``deploy/clickhouse/row_policies.sql``); this module is what makes the
embedded store safe for several tenants.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitrail.collector.store.base import Store, quote_identifier
from aitrail.errors import QueryRefused, StoreError
from aitrail.sdk import vocabulary as v

log = logging.getLogger("aitrail.collector")

TENANT_DATABASE_PREFIX = "aitrail_tenant_"
NO_LIMIT = 18446744073709551615
"""The view's LIMIT: never reached, but the engine cannot move a reader's conditions past it."""

_ROW_TENANT = f"ResourceAttributes[{chr(39)}{v.TENANT}{chr(39)}]"
TENANT_TABLES: dict[str, str] = {
    "otel_traces": _ROW_TENANT,
    "otel_logs": _ROW_TENANT,
    "otel_metrics_gauge": _ROW_TENANT,
    "otel_metrics_sum": _ROW_TENANT,
    "otel_metrics_histogram": _ROW_TENANT,
    "otel_metrics_exponential_histogram": _ROW_TENANT,
    "otel_metrics_summary": _ROW_TENANT,
    "ai_generations": "tenant",
    "ai_usage_daily": "tenant",
    "ai_files_daily": "tenant",
    "ai_repositories_daily": "tenant",
    "ai_people_daily": "tenant",
    "ai_commits": "tenant",
    "ai_commit_files": "tenant",
    "ai_commits_daily": "tenant",
    "ai_line_origins": "tenant",
    "ai_findings": "tenant",
    "ai_incidents": "tenant",
    "ai_signoffs": "tenant",
    "ai_cost_estimates": "tenant",
}
"""Tables a tenant reads through its views, and the expression that holds a row's tenant."""

SYSTEM_TABLES = frozenset(
    {
        "one", "numbers", "numbers_mt", "zeros", "zeros_mt", "settings", "functions", "table_functions",
        "formats", "data_type_families", "time_zones", "collations", "aggregate_function_combinators",
    }
)
"""``system`` tables a tenant reader may read: nothing in them is about data (clickhouse-connect reads
``system.settings`` when it connects). ``system.tables``, ``parts``, ``columns``, ``query_log``,
``databases``… say what other tenants have and do, and are refused."""

TABLE_FUNCTIONS = frozenset(
    {"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries", "values", "null"}
)
"""Table functions a tenant reader may use (lower case): they generate rows. ``view()`` is refused
too (anything it could do, a subquery does, and it has no place to hide a table)."""

_TABLE_FUNCTIONS_BY_NAME = ("dict", "joinget")
TABLE_REACHING_FUNCTIONS = frozenset(
    {
        "hascolumnintable", "getmaxtablenamelengthfordatabase", "pgtableisvisible", "pg_table_is_visible",
        "evalmlmethod", "getmacro", "globalvariable", "currentschemas", "current_schemas",
    }
)
"""Scalar functions (lower case) that take a table, dictionary or database by name, refused to tenant
readers; so is every ``dict*`` and ``joinGet*`` function, and every internal ``__*`` one."""

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TENANT_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")


def tenant_database(tenant: str) -> str:
    """The database of a tenant's views: a fixed prefix and a hash, so any tenant id makes a plain name."""
    return TENANT_DATABASE_PREFIX + hashlib.sha256(tenant.encode()).hexdigest()[:16]


def _literal(text: str) -> str:
    from aitrail.collector.sqlendpoint.guard import sql_string

    return sql_string(text)


@dataclass(frozen=True)
class Reader:
    """Who reads: one tenant (its views only), or everyone's rows (``tenant`` None: admin, or no authentication)."""

    tenant: str | None = None
    token_id: str = ""

    @property
    def database(self) -> str | None:
        return tenant_database(self.tenant) if self.tenant is not None else None


EVERYTHING = Reader()


def view_statements(store: Store, tenant: str) -> list[str]:
    """The statements that create (or refresh) ``tenant``'s database of views, quoted by one helper each."""
    if not _TENANT_SAFE.match(tenant):  # tokens already refuse such ids; never build SQL from one regardless
        raise QueryRefused(f"tenant id {tenant!r} is not a plain id")
    database = quote_identifier(tenant_database(tenant))
    rows = store.rows(
        "SELECT table, name, default_kind FROM system.columns WHERE database = {db:String} ORDER BY table, position",
        {"db": store.database},
    )
    aliases: dict[str, list[str]] = {}
    for row in rows:
        if row["table"] in TENANT_TABLES:
            names = aliases.setdefault(row["table"], [])
            if row["default_kind"] == "ALIAS":  # SELECT * leaves ALIAS columns out; the view keeps them
                names.append(row["name"])
    statements = [f"CREATE DATABASE IF NOT EXISTS {database}"]
    for table, expression in TENANT_TABLES.items():
        if table not in aliases:
            continue  # not in this schema (yet)
        columns = ", ".join(["*", *(quote_identifier(name) for name in aliases[table])])
        statements.append(
            f"CREATE OR REPLACE VIEW {database}.{quote_identifier(table)} AS "
            f"SELECT {columns} FROM {store.qualified(table)} WHERE {expression} = {_literal(tenant)} LIMIT {NO_LIMIT}"
        )
    return statements


class TenantViews:
    """Creates each tenant's views once per process (refreshed on start, so schema changes reach them)."""

    def __init__(self) -> None:
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    def ensure(self, store: Store, tenant: str) -> str:
        """The tenant's database, created or refreshed if this process has not yet done so."""
        database = tenant_database(tenant)
        if tenant in self._ready:
            return database
        with self._lock:
            if tenant not in self._ready:
                try:
                    for statement in view_statements(store, tenant):
                        store.command(statement)
                except StoreError as exc:
                    log.error("cannot create the views of tenant %s in %s: %s", tenant, database, exc)
                    raise StoreError(
                        f"the tenant's views ({database}) cannot be created: {exc}. On a ClickHouse server, grant the "
                        "collector's user CREATE DATABASE, CREATE VIEW, DROP VIEW and SELECT ON aitrail_tenant_*.* "
                        "(or use row policies: deploy/clickhouse/row_policies.sql)"
                    ) from exc
                self._ready.add(tenant)
        return database


# -- the guard's part: which names a tenant reader may use ------------------------------------------------------


def reference(node: Any) -> str:
    """The name an ``Identifier``/``TableIdentifier`` node prints, without its alias."""
    text = node.text[len(node.kind) + 1 :] if node.text.startswith(node.kind + " ") else ""
    return text.split(" (alias ", 1)[0]


def _other_databases(databases: set[str], reader: Reader) -> set[str]:
    return {d for d in databases if d != reader.database}


def _check_table(name: str, reader: Reader, databases: set[str]) -> None:
    parts = name.split(".")
    if len(parts) > 2 or not all(_PLAIN.match(p) for p in parts):
        raise QueryRefused(f"table name {name!r} is refused: tenant readers use plain names (letters, digits, _)")
    if len(parts) == 1:
        return  # the current database is the tenant's: an unqualified name is its view, or a CTE
    database, table = parts
    if database == reader.database:
        return
    if database == "system" and table in SYSTEM_TABLES:
        return
    raise QueryRefused(
        f"table {name} is refused: this token reads its tenant's tables only "
        f"({reader.database}: {', '.join(TENANT_TABLES)}; unqualified names mean those)"
    )


def check_scope(root: Any, fmt: str | None, reader: Reader, databases: set[str]) -> None:
    """Refuse, for a tenant reader, every name outside its database (``root`` is the guard's parsed EXPLAIN AST).

    ``databases`` are the databases that exist: an identifier whose first part
    names one of them (other than the reader's) is refused wherever it is —
    a table, ``IN aitrail.t``, ``WITH aitrail.t AS x``, a qualified column.
    """
    assert reader.tenant is not None
    others = _other_databases(databases, reader) | {"system", "information_schema", "INFORMATION_SCHEMA"}
    metadata = root.kind.startswith(("Exists", "ShowCreate"))
    if metadata:  # EXISTS / SHOW CREATE: root Identifier children are [database,] name [, format]
        names = [c for c in root.children if c.kind == "Identifier"]
        if fmt and names:
            names = names[:-1]
        if root.kind == "ExistsDatabaseQuery":
            if [reference(n) for n in names] != [reader.database]:
                raise QueryRefused("only the tenant's own database can be asked about")
        elif len(names) == 2:
            _check_table(f"{reference(names[0])}.{reference(names[1])}", reader, databases)
            if reference(names[0]) != reader.database:
                raise QueryRefused("only the tenant's own tables can be described")
        elif len(names) == 1:
            _check_table(reference(names[0]), reader, databases)
        else:
            raise QueryRefused("this statement's names could not be checked")
    for node in root.walk():
        if node is root:
            continue
        if node.kind == "TableIdentifier":
            _check_table(reference(node), reader, databases)
        elif node.kind == "Identifier" and not (metadata and node.parent is root):
            first = reference(node).split(".", 1)[0]
            if first in others or (first.startswith(TENANT_DATABASE_PREFIX) and first != reader.database):
                raise QueryRefused(
                    f"{reference(node)} is refused: it names database {first}, and this token reads its tenant's "
                    "tables only (rename an alias that is spelled like a database)"
                )
        elif node.kind == "Function":
            name = node.name.lower()
            if node.parent is not None and node.parent.kind == "TableExpression":
                if name not in TABLE_FUNCTIONS:
                    raise QueryRefused(
                        f"table function {node.name}() is refused to tenant readers: only "
                        "numbers, zeros, generate_series, values and null run here"
                    )
            elif name.startswith(_TABLE_FUNCTIONS_BY_NAME) or name.startswith("__") or name in TABLE_REACHING_FUNCTIONS:
                raise QueryRefused(f"function {node.name}() is refused to tenant readers: it reaches tables by name")

