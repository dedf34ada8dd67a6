"""Storing what the collector spooled: Arrow tables as they are, requests through their signal's statement.

The drain (:mod:`aitrail.collector.batcher`) and the direct imports
(:mod:`aitrail.collector.imports`) call :func:`insert` with a spool part's
name and content, whatever it is; :func:`rows` gives back, as Arrow, the rows
a part of requests makes, for the drain's after-crash check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pyarrow as pa

from aitrail.collector.engine import logs, metrics, traces
from aitrail.collector.spool import Requests
from aitrail.collector.store import Store

_REQUESTS: dict[str, tuple[str, Callable[..., None]]] = {
    part: (statement.table, partial(statement.store_requests, deep=deep))
    for statement in (traces.STATEMENT, logs.STATEMENT, *metrics.STATEMENTS.values())
    for deep, part in statement.entries.items()
}
"""Each part of requests: the table its rows go to, and the statement that stores them."""


def table(part: str) -> str:
    """The raw table a spool part's rows go to."""
    return _REQUESTS[part][0] if part in _REQUESTS else part


def insert(store: Store, part: str, data: pa.Table | Requests, dedup_token: str | None = None,
           into: str | None = None) -> None:
    """Store a spool part in ``into`` (its own table when None): a table's rows, or the rows of requests."""
    if isinstance(data, Requests):
        _REQUESTS[part][1](store, data.data, dedup_token, table=into or table(part))
    else:
        store.insert(into or part, data, dedup_token)


def rows(store: Store, part: str, data: pa.Table | Requests) -> pa.Table:
    """The rows a spool part makes, as Arrow: a table as it is; requests through a scratch copy of their table
    (no views: nothing is fed twice)."""
    if not isinstance(data, Requests):
        return data
    target = table(part)
    scratch = f"_spool_rows_{target}"[:120]
    store.command(f"DROP TABLE IF EXISTS {store.qualified(scratch)}")
    store.command(f"CREATE TABLE {store.qualified(scratch)} AS {store.qualified(target)}")
    try:
        insert(store, part, data, into=scratch)
        raw: Any = store.query(f"SELECT * FROM {store.qualified(scratch)}", fmt="ArrowStream")
        return pa.ipc.open_stream(raw).read_all()
    finally:
        store.command(f"DROP TABLE IF EXISTS {store.qualified(scratch)}")
