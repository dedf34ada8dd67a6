"""Read-only SQL against the store, wherever it is and whoever owns it.

chDB allows one process per data directory. When a collector owns it, reads
go through that collector's SQL endpoint; when nobody does, this process
opens the directory itself. Either way the statement passes the same guard
and runs on a read-only connection.

A collector that requires tokens reads as the token's tenant: the token goes
to its endpoint as ``Authorization: Bearer <token>``, and a refusal comes back
as :class:`~aitrail.errors.AccessDenied` saying why (no token, unknown,
expired, or without the query scope), not as a bare HTTP status.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from aitrail.collector.sqlendpoint.guard import InvalidQuery, check_readonly, engine_error
from aitrail.collector.store import StoreLocation, open_store
from aitrail.collector.store.ownership import read_owner
from aitrail.errors import AccessDenied, AitrailError, ConfigError, QueryRefused, StoreError, StoreNotFound, StoreUnavailable

ACCESS_DENIED = 497
"""ClickHouse's code for "this user may not": the endpoint's 403 for a token without the query scope (a 403 with
another code is a statement the endpoint refuses to run)."""


def _refusal(status: int, text: str, sql_url: str, token: str | None) -> AitrailError:
    """The error for an endpoint's refusal: who refused what, and the endpoint's own reason."""
    error = engine_error(StoreError(text))
    reason = error.message.rstrip(".")
    if error.code is None and status in (404, 405):  # not ClickHouse's answer: another server, or another port
        return StoreError(f"{sql_url} is not an aitrail SQL endpoint (it answered {status} {text[:80]!r})",
                          hint="--sql-url takes the SQL address `aitrail serve` prints (port 8123 by default), "
                               "not the OTLP port")
    if status == 401 and not token:
        return AccessDenied(f"the collector's SQL endpoint at {sql_url} requires a token, and none was given", 401)
    if status == 401:
        return AccessDenied(f"the collector's SQL endpoint at {sql_url} refused the token: {reason}", 401)
    if status == 403 and error.code == ACCESS_DENIED:
        return AccessDenied(f"the token may not read through the SQL endpoint at {sql_url}: {reason}", 403)
    if status == 403:
        return QueryRefused(reason.removeprefix("aitrail SQL endpoint is read-only: "))
    if status in (400, 404):
        return InvalidQuery(reason, error.code)
    return StoreError(text)


def endpoint_query(
    sql_url: str, sql: str, fmt: str, params: dict[str, object] | None = None, token: str | None = None
) -> bytes:
    """Ask a collector's SQL endpoint (ClickHouse HTTP interface) for ``sql`` in ``fmt``, as ``token`` if given."""
    from clickhouse_connect.driver.binding import format_bind_value

    if not re.match(r"^https?://[^/\s]+", sql_url):
        raise ConfigError(f"the SQL endpoint {sql_url!r} is not an http(s) URL", hint="e.g. --sql-url http://127.0.0.1:8123")
    query = {"default_format": fmt, **{f"param_{k}": format_bind_value(v) for k, v in (params or {}).items()}}
    request = urllib.request.Request(
        f"{sql_url.rstrip('/')}/?{urllib.parse.urlencode(query)}", data=sql.encode(), method="POST",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise _refusal(exc.code, exc.read().decode(errors="replace").strip(), sql_url, token) from None
    except OSError as exc:
        raise StoreUnavailable(f"cannot reach the SQL endpoint at {sql_url}: {exc}") from exc


def unstored(location: StoreLocation, spool_dir: Path | None = None) -> int:
    """Records a stopped collector acknowledged into its spool and has not stored yet (0 while a collector owns
    the data directory: it is storing them). Starting the collector stores them."""
    from aitrail.collector.config import CollectorConfig
    from aitrail.collector.spool import Spool

    if location.data_dir is not None and read_owner(location.data_dir) is not None:
        return 0
    try:
        return Spool(CollectorConfig(location=location, spool_dir=spool_dir).spool_path).waiting()[0]
    except (OSError, StoreError):  # an unreadable spool is the collector's to report; a read goes on
        return 0


def read_only_query(
    location: StoreLocation,
    sql: str,
    fmt: str = "JSONEachRow",
    params: dict[str, object] | None = None,
    sql_url: str | None = None,
    token: str | None = None,
) -> bytes:
    """Run one read-only statement and return the engine's output in ``fmt``.

    ``token`` is for a collector's endpoint (named, or found in the data directory's lock file); a store
    opened directly has no tokens (whoever can open its files can read them anyway).
    """
    if not sql.strip():
        raise InvalidQuery("the statement is empty",
                           hint='give one read-only statement, e.g. "SELECT count() FROM aitrail.ai_generations"')
    if sql_url is None and location.data_dir is not None:
        owner = read_owner(location.data_dir)
        if owner is not None:
            if not owner.get("sql_url"):
                raise StoreUnavailable(
                    f"process {owner.get('pid')} owns {location.data_dir} but serves no SQL endpoint; try again shortly"
                )
            sql_url = owner["sql_url"]
    if sql_url is not None:
        return endpoint_query(sql_url, sql, fmt, params, token)
    if location.data_dir is not None and not location.data_dir.is_dir():
        raise StoreNotFound(f"there is no store at {location.data_dir}: nothing has been stored there")
    # A server is read as it is (a read-only user cannot migrate); a local directory is brought up to date.
    with open_store(location, migrate=location.data_dir is not None) as store:
        statement = check_readonly(store, sql, params)
        return store.query(statement, params, fmt, readonly=True)
