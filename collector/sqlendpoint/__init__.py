"""The collector's read-only SQL endpoint: ClickHouse's HTTP interface over the store, reads only.

:func:`check_readonly` (the guard) decides with the engine's own parser;
:func:`build_app` / :func:`start` serve it to clickhouse-connect, Grafana and curl.
"""

from aitrail.collector.sqlendpoint.guard import CheckedQuery, InvalidQuery, check_readonly, inspect
from aitrail.collector.sqlendpoint.server import bound_url, build_app, start

__all__ = ["CheckedQuery", "InvalidQuery", "bound_url", "build_app", "check_readonly", "inspect", "start"]
