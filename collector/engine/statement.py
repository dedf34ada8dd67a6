"""One signal's ingest statement: spooled requests in, its raw table's rows out, in one ``INSERT … SELECT``.

Every signal takes the same road (metrics with a statement per kind of data point): the
collector spools each request's bytes beside the tenant and team it
established (:func:`aitrail.collector.engine.schema.spooled`), as the part of
the statement its values' depth needs (:meth:`RequestStatement.entry`); the
drain hands a batch of them to ClickHouse, which parses them with the Protobuf
format and flattens them with the signal's SQL (``<signal>.sql``, its
``${...}`` macros filled in by the signal's module).

Two statements share a signal's work, by request: the common one reads values
two levels deep (a value, and the items of an array or a list of scalars) and
plans several times faster than the deep one, which reads all the levels the
schema unrolls; a request nesting deeper (the item limits' check says so,
:mod:`~aitrail.collector.engine.nesting`) goes to the deep one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from operator import attrgetter
from string import Template
from typing import Any

from aitrail.collector.engine import values
from aitrail.collector.engine.schema import (
    PROTO_FILE,
    SHALLOW_DEPTH,
    VALUE_DEPTH,
    format_settings,
    spooled,
    spooled_structure,
)
from aitrail.collector.rows.common import Flattened, summarize
from aitrail.collector.spool import REQUESTS_PREFIX, Requests
from aitrail.collector.store.base import settings_clause
from aitrail.sdk import vocabulary as v

CLAIMS = (f"if(team = '', [{values.literal(v.TENANT)}], "
          f"[{', '.join(values.literal(k) for k in (v.TENANT, v.TEAM, *v.TEAM_ALIASES))}])")
"""SQL: keys a payload may not set (on its resource or an item): the tenant, and the team when the token fixes
one (the spooled ``team`` column, ``''`` when it does not)."""


def stamped(resource_attributes: str) -> str:
    """SQL: a resource's attributes (a Map, claims dropped) with the tenant and team the collector established."""
    return (f"mapUpdate({resource_attributes}, if(team = '', map({values.literal(v.TENANT)}, tenant), "
            f"map({values.literal(v.TENANT)}, tenant, {values.literal(v.TEAM)}, team)))")


ZERO_SPAN_ID, ZERO_TRACE_ID = bytes(8), bytes(16)


TRACE_ID, SPAN_ID = attrgetter("trace_id"), attrgetter("span_id")
"""An item's (a span's, a log record's, an exemplar's) ids, as :func:`ids_within` reads them through ``map``."""


def ids_within(ids: Iterable[bytes], lengths: set[int]) -> bool:
    """Whether every one of ``ids`` has one of ``lengths``, read in C."""
    return set(map(len, ids)) <= lengths


def ids_none_or_whole(items: list[Any]) -> bool:
    """Whether every one of ``items`` (log records, exemplars) has no trace and span ids, or ids of the right
    lengths (16 and 8 bytes), read in C."""
    return ids_within(map(TRACE_ID, items), {0, 16}) and ids_within(map(SPAN_ID, items), {0, 8})


ZERO8 = "repeat('\\0', 8)"
ZERO16 = "repeat('\\0', 16)"
"""SQL: the all-zero span and trace ids, which mean "no id" (the ``${zero8}`` and ``${zero16}`` macros)."""


_REPEATABLE = {"max_threads": 1, "max_insert_threads": 1}
"""One stream reads, flattens and inserts a batch: the same blocks in the same order at every retry, so the
batch's deduplication token, numbered block by block in the raw table and in every view, names the same rows
each time (ClickHouse deduplicates a retried ``INSERT … SELECT`` only then; several streams made a retry after
a killed server count a batch twice in the daily rollup)."""

_BOUNDED = {"input_format_max_block_size_bytes": 32 << 20}
"""The engine parses a batch in blocks of at most 32 MiB of columns, not in one block of every request: storing a
full batch (``max_batch_bytes``, 64 MiB of requests) then takes the process from 0.7 to 1.1-1.5 GB instead of 2.0
GB, for the same CPU (docs/ingest-engine.md, "Memory"). The blocks are made the same way at every retry, and the
insert squashes them again into the blocks the tables and views receive."""


@dataclass(frozen=True, eq=False)
class RequestStatement:
    """How one signal's spooled requests become rows of its raw table."""

    signal: str
    """``traces``, ``logs``: the request message (``schema.REQUESTS``) and the SQL file (``<signal>.sql``)."""
    table: str
    columns: tuple[str, ...]
    """The exporter's columns the statement writes, in its SELECT's order."""
    unread: frozenset[str]
    """What the raw table does not hold (``Message.field``): the engine skips it on the wire."""
    macros: Callable[[int], dict[str, str]]
    """The SQL file's macros for columns holding ``depth`` levels of AnyValue (``source``, ``valid``, ``zero8``
    and ``zero16`` are added here)."""
    items: Callable[[Any], Iterator[Any]]
    """Every item (span, log record) of a request."""
    refusal: Callable[[Any], str | None]
    """Why the statement will not make a row of an item (:attr:`refused`'s rules, read from its ids alone)."""
    clear: Callable[[list[Any]], bool]
    """Whether :attr:`refusal` would refuse none of these items, read in C (a few passes of ``map`` over their ids):
    True only if so; False sends the census item by item."""
    noun: str
    """What an item is called in the answer to the client (``span``, ``log record``)."""
    refused: dict[str, str] = field(default_factory=dict)
    """Why an item is not a row, by the SQL condition that says so (tried in this order)."""
    name: str = ""
    """The statement's spool entries, ``requests.<name>`` (the signal's name when empty): a signal stored in
    several tables has a statement per table."""
    sql: str = ""
    """The SQL file (``<signal>.sql`` when empty)."""

    @property
    def entries(self) -> dict[bool, str]:
        """The spool entry of a request for the common statement (False) and for the deep one (True)."""
        name = f"{REQUESTS_PREFIX}{self.name or self.signal}"
        return {False: name, True: f"{name}.deep"}

    def entry(self, depth: int) -> str:
        """The spool entry (and so the statement) for a request whose values nest ``depth`` levels deep."""
        return self.entries[depth > SHALLOW_DEPTH]

    def structure_of(self, deep: bool = False) -> str:
        """The columns the common (``deep`` False) or the deep statement reads spooled requests with."""
        return spooled_structure(self.signal, self.unread, VALUE_DEPTH if deep else SHALLOW_DEPTH)

    def source(self, path: str, deep: bool = False) -> str:
        """The ``file()`` table function reading length-delimited spooled requests at ``path`` (a path the engine
        sees) with the columns of the common or the deep statement."""
        return f"file({values.literal(path)}, Protobuf, {values.literal(self.structure_of(deep))})"

    def select_sql(self, source_sql: str, deep: bool = False) -> str:
        """``SELECT`` of the table's rows (exporter column names) from the spooled requests ``source_sql`` reads
        (with :meth:`structure_of` ``deep``). Append :meth:`settings`."""
        return _select_sql(self, source_sql, deep)

    @property
    def valid(self) -> str:
        """SQL: an item is refused by none of :attr:`refused`'s conditions (the ``${valid}`` macro)."""
        return " AND ".join(f"NOT ({condition})" for condition in self.refused.values()) or "1"

    def insert_sql(self, table: str, deep: bool) -> Callable[[str], str]:
        """The statement storing the rows of the spooled requests a table function reads into ``table``
        (qualified)."""
        columns = ", ".join(f"`{c}`" for c in self.columns)
        return lambda source_sql: f"INSERT INTO {table} ({columns}) {self.select_sql(source_sql, deep)}"

    def settings(self, schema: str | None = None) -> str:
        """The SETTINGS clause the SELECT needs (``schema``: the .proto path as the engine sees it)."""
        return settings_clause(format_settings(self.signal, schema, spooled=True))

    def store_requests(self, store: Any, data: bytes, dedup_token: str | None = None, table: str | None = None,
                       deep: bool = False) -> None:
        """Store the rows of ``data`` (length-delimited spooled requests) in ``table`` (the signal's own when
        None) of ``store``: read from a file by the embedded engine, sent as the body of the INSERT to a server
        (whose ``format_schemas`` directory holds ``otlp.proto``)."""
        schema = None if store.in_process else PROTO_FILE
        store.insert_requests(self.insert_sql(store.qualified(table or self.table), deep), self.structure_of(deep),
                              {**format_settings(self.signal, schema, spooled=True), **_REPEATABLE, **_BOUNDED}, data,
                              dedup_token)

    def to_spool(self, request: Any, tenant: str, team: str | None, depth: int,
                 body: bytes | bytearray | None = None, model_calls: bool = False) -> Flattened:
        """What the collector spools of a request: the request itself beside ``tenant`` and ``team``, as the part
        of the statement its values' ``depth`` needs, with the items the statement will refuse told apart.

        ``body``: the request's bytes as they came, when nothing changed it since (they are spooled without
        serializing the request again); None to serialize it. ``model_calls``: the engine marks the request's
        model calls (:func:`~aitrail.collector.engine.schema.spooled`)."""
        items, refused = self.census(request)
        rejected = sum(refused.values())
        parts: dict[str, Any] = {}
        if items > rejected:
            sent = body if body is not None else request.SerializeToString()
            parts[self.entry(depth)] = Requests(spooled(sent, tenant, team, model_calls), items - rejected)
        return Flattened(parts, rejected, summarize(refused, self.noun))

    def census(self, request: Any) -> tuple[int, dict[str, int]]:
        """(the items of ``request`` the statement reads, how many of them it will refuse by reason)."""
        every = list(self.items(request))
        if self.clear(every):
            return len(every), {}
        items, counts = 0, dict[str, int]()
        for item in every:
            items += 1
            reason = self.refusal(item)
            if reason:
                counts[reason] = counts.get(reason, 0) + 1
        return items, counts


@cache
def _select_sql(statement: RequestStatement, source_sql: str, deep: bool) -> str:
    template = Template(resources.files(__package__).joinpath(statement.sql or f"{statement.signal}.sql").read_text())
    return template.substitute(source=source_sql, valid=statement.valid, zero8=ZERO8, zero16=ZERO16,
                               **statement.macros(VALUE_DEPTH if deep else SHALLOW_DEPTH))
