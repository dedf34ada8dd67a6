"""Read-only SQL against the store, wherever it is and whoever owns it.

chDB allows one process per data directory. When a collector owns it, reads
go through that collector's SQL endpoint; when nobody does, this process
opens the directory itself. Either way the statement passes the same guard
and runs on a read-only connection.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from aitrail.collector.sqlendpoint.guard import check_readonly
from aitrail.collector.store import StoreLocation, open_store
from aitrail.collector.store.ownership import read_owner
from aitrail.errors import QueryRefused, StoreError, StoreUnavailable


def endpoint_query(sql_url: str, sql: str, fmt: str, params: dict[str, object] | None = None) -> bytes:
    """Ask a collector's SQL endpoint (ClickHouse HTTP interface) for ``sql`` in ``fmt``."""
    from clickhouse_connect.driver.binding import format_bind_value

    query = {"default_format": fmt, **{f"param_{k}": format_bind_value(v) for k, v in (params or {}).items()}}
    request = urllib.request.Request(
        f"{sql_url.rstrip('/')}/?{urllib.parse.urlencode(query)}", data=sql.encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace").strip()
        if exc.code == 403:
            raise QueryRefused(text) from None
        raise StoreError(text) from None
    except OSError as exc:
        raise StoreUnavailable(f"cannot reach the SQL endpoint at {sql_url}: {exc}") from exc


def read_only_query(
    location: StoreLocation,
    sql: str,
    fmt: str = "JSONEachRow",
    params: dict[str, object] | None = None,
    sql_url: str | None = None,
) -> bytes:
    """Run one read-only statement and return the engine's output in ``fmt``."""
    if sql_url is None and location.data_dir is not None:
        owner = read_owner(location.data_dir)
        if owner is not None:
            if not owner.get("sql_url"):
                raise StoreUnavailable(
                    f"process {owner.get('pid')} owns {location.data_dir} but serves no SQL endpoint; try again shortly"
                )
            sql_url = owner["sql_url"]
    if sql_url is not None:
        return endpoint_query(sql_url, sql, fmt, params)
    # A server is read as it is (a read-only user cannot migrate); a local directory is brought up to date.
    with open_store(location, migrate=location.data_dir is not None) as store:
        statement = check_readonly(store, sql, params)
        return store.query(statement, params, fmt, readonly=True)
