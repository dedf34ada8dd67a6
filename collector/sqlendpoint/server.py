"""The read-only SQL endpoint: enough of ClickHouse's HTTP interface for clickhouse-connect, Grafana and curl.

Clients talk to it as to a ClickHouse server (``GET /ping``, ``GET|POST /?query=``,
``param_<name>`` query parameters, ``default_format``), so existing tools work
against the embedded store. Every statement passes the guard and then runs on
the store's read-only connection.

What ClickHouse clients send that is deliberately not honoured: settings in the
URL (``readonly``, ``max_threads``, ``enable_http_compression``, ...) are never
applied to the engine, so a client cannot loosen the read-only mode; sessions
are ignored (every query stands alone); ``database`` only accepts the store's
database or ``default`` and does not change name resolution (qualify tables:
``aitrail.otel_traces``).

With authentication (``authorize``), a tenant reader's queries run with its
database of views current (``FROM ai_generations`` means its own rows; see
:mod:`~aitrail.collector.sqlendpoint.tenancy`), and ``database`` accepts that
database.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
import uuid
import warnings
from collections.abc import Callable, Mapping

from aiohttp import web

from aitrail.collector.sqlendpoint.guard import EngineError, InvalidQuery, engine_error, inspect
from aitrail.collector.sqlendpoint.tenancy import EVERYTHING, Reader, TenantViews
from aitrail.collector.store.base import Store
from aitrail.errors import QueryRefused, StoreError

SERVER_NAME = "aitrail"
DEFAULT_FORMAT = "TabSeparated"  # what ClickHouse answers in when nobody asks for a format
READONLY = 164
UNKNOWN_DATABASE = 81
UNKNOWN_FORMAT = 73
BAD_ARGUMENTS = 36
BAD_QUERY_PARAMETER = 457
MAX_BODY = 16 << 20  # decompressed request bodies; SQL is far smaller, INSERT data is refused anyway

_NOT_FOUND = {60, 81, 46, 47, 50, 73}  # UNKNOWN_TABLE, _DATABASE, _FUNCTION, _IDENTIFIER, _TYPE, _FORMAT
_FORBIDDEN = {READONLY, 497}  # READONLY, ACCESS_DENIED

AUTHENTICATION_FAILED = 516
ACCESS_DENIED = 497

Authorize = Callable[[web.Request], Reader | None]
"""Called first on every query request: the reader (None: everything), or raises ``AccessDenied`` (401/403)
or an ``aiohttp.web.HTTPException``."""


_ESCAPE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|.)", re.S)
_ESCAPED = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"0": b"\0", b"a": b"\a", b"v": b"\v"}


def unescape_param(text: str) -> str | None:
    """A ``param_<name>`` value as the value it stands for.

    ClickHouse reads query parameters in its escaped text format (clickhouse-connect
    sends ``a\\tb`` for a tab, ``\\N`` for NULL). The store takes values and
    escapes them itself, so they are unescaped here exactly once. Raises
    ``ValueError`` when the bytes it stands for are not UTF-8.
    """
    if text == "\\N":
        return None

    def one(match: re.Match[bytes]) -> bytes:
        seq = match[1]
        if seq[:1] == b"x" and len(seq) == 3:
            return bytes([int(seq[1:], 16)])
        return b"" if seq == b"N" else _ESCAPED.get(seq, seq)

    return _ESCAPE.sub(one, text.encode()).decode()


class _Refusal(Exception):
    """An answer to send as a ClickHouse error: HTTP status plus engine-style error."""

    def __init__(self, status: int, error: EngineError) -> None:
        super().__init__(str(error))
        self.status = status
        self.error = error


class _Engine:
    """Facts about the engine the HTTP answers need (time zone, output formats), read once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.timezone = "UTC"
        self.formats: dict[str, tuple[str, str]] = {}  # lower-case name -> (name, content type)

    def load(self) -> None:
        if self.formats:
            return
        (row,) = self.store.rows("SELECT timezone() AS tz", readonly=True)
        rows = self.store.rows("SELECT name, content_type FROM system.formats WHERE is_output", readonly=True)
        self.timezone = row["tz"]
        self.formats = {r["name"].lower(): (r["name"], r["content_type"]) for r in rows}

    def output_format(self, name: str) -> tuple[str, str]:
        """The canonical name and Content-Type of an output format; chDB's own pseudo-formats are refused."""
        found = self.formats.get(name.lower())
        if found is None:
            raise _Refusal(400, EngineError(UNKNOWN_FORMAT, "UNKNOWN_FORMAT", f"Unknown output format {name}"))
        return found


def _refused(why: str) -> _Refusal:
    return _Refusal(403, EngineError(READONLY, "READONLY", f"aitrail SQL endpoint is read-only: {why}"))


def _bad(code: int, name: str, message: str, status: int = 400) -> _Refusal:
    return _Refusal(status, EngineError(code, name, message))


def _status_for(code: int | None) -> int:
    """HTTP status for an engine error, as ClickHouse picks them: refusals 403, unknown names 404, else 400."""
    if code is None:
        return 500
    if code in _FORBIDDEN:
        return 403
    return 404 if code in _NOT_FOUND else 400


_QUALIFIED_HINT = re.compile(r" Maybe you meant [^?\n]*\.[^?\n]*\?")


class _Tenancy:
    """The tenant views of one endpoint."""

    def __init__(self) -> None:
        self.views = TenantViews()


def _execute(
    store: Store, engine: _Engine, sql: str, params: Mapping[str, str | None], fmt: str, binary: bool = False,
    reader: Reader = EVERYTHING, tenancy: _Tenancy | None = None,
) -> tuple[bytes, str, str]:
    """Guard, then run on the read-only connection; blocking, so it runs in a worker thread."""
    try:
        engine.load()
        fmt, _ = engine.output_format(fmt)
        if reader.tenant is not None:
            assert tenancy is not None
            tenancy.views.ensure(store, reader.tenant)
        try:
            checked = inspect(store, sql, params or None, reader)
        except InvalidQuery as exc:
            raise _Refusal(400, engine_error(exc)) from exc
        except QueryRefused as exc:
            raise _refused(str(exc)) from exc
        if binary:
            raise _bad(BAD_ARGUMENTS, "BAD_ARGUMENTS", "the request body is not UTF-8 SQL")
        if reader.tenant is not None and reader.database is not None and tenancy is not None:
            data = store.query_in(reader.database, checked.sql, dict(params) if params else None, fmt)
        else:
            data = store.query(checked.sql, params or None, fmt, readonly=True)
    except StoreError as exc:
        error = engine_error(exc)
        if reader.tenant is not None:  # the engine's "Maybe you meant db.table?" may name other databases' tables
            error = EngineError(error.code, error.name, _QUALIFIED_HINT.sub("", error.message))
        if error.code == READONLY:  # the engine caught what the guard let through: still a refusal
            raise _refused(error.message) from exc
        raise _Refusal(_status_for(error.code), error) from exc
    actual, content_type = engine.output_format(checked.format or fmt)
    return data, actual, content_type


def _decompress(raw: bytes, encoding: str) -> bytes:
    """Undo lz4, which clickhouse-connect prefers for bodies; aiohttp itself undoes gzip, deflate and zstd."""
    if encoding.lower() != "lz4":
        return raw
    import lz4.frame  # clickhouse-connect's own dependency

    try:
        out = lz4.frame.LZ4FrameDecompressor().decompress(raw, max_length=MAX_BODY + 1)
    except RuntimeError as exc:
        raise _bad(BAD_ARGUMENTS, "BAD_ARGUMENTS", f"the lz4 body cannot be decompressed: {exc}") from exc
    if len(out) > MAX_BODY:
        raise _bad(BAD_ARGUMENTS, "BAD_ARGUMENTS", f"the request body is over {MAX_BODY} bytes", 413)
    return out


async def _read_request(request: web.Request) -> tuple[dict[str, str], str | None, bool]:
    """URL (and multipart form) fields, the SQL, and whether the body was not text.

    The SQL is the ``query`` field, then the body, joined as ClickHouse does. A
    binary body (clickhouse-connect's ``insert`` posts ``INSERT ... FORMAT
    Native`` followed by Native data) is decoded leniently so the statement can
    still be judged, and refused as a write rather than as bad text.
    """
    fields = dict(request.query)
    body = ""
    binary = False
    if request.method == "POST":
        if request.content_type == "multipart/form-data":
            for name, value in (await request.post()).items():
                if not isinstance(value, str):
                    raise _bad(BAD_ARGUMENTS, "BAD_ARGUMENTS", "external tables are not supported")
                fields[name] = value
        else:  # curl -d sends form-urlencoded: ClickHouse reads that body as SQL too
            raw = _decompress(await request.read(), request.headers.get("Content-Encoding", ""))
            body = raw.decode(errors="replace")
            binary = body.encode() != raw
    if "query" not in fields and not body:
        return fields, None, False
    return fields, "\n".join(part for part in (fields.get("query", ""), body) if part), binary


def _settings(
    request: web.Request, fields: Mapping[str, str], databases: set[str]
) -> tuple[dict[str, str | None], str]:
    """Query parameters and the default output format; refuses what the endpoint cannot honour."""
    if "1" in (fields.get("decompress"), fields.get("compress")):
        raise _bad(BAD_ARGUMENTS, "BAD_ARGUMENTS", "ClickHouse block compression (compress, decompress) is unsupported")
    database = fields.get("database") or request.headers.get("X-ClickHouse-Database")
    if database and database not in databases:
        known = " or ".join(sorted(databases))
        message = f"Database {database} is not served here: use {known} (and qualify tables: aitrail.otel_traces)"
        raise _bad(UNKNOWN_DATABASE, "UNKNOWN_DATABASE", message, 404)
    try:
        params = {k[len("param_") :]: unescape_param(v) for k, v in fields.items() if k.startswith("param_")}
    except ValueError as exc:
        raise _bad(BAD_QUERY_PARAMETER, "BAD_QUERY_PARAMETER", "a query parameter is not UTF-8") from exc
    fmt = fields.get("default_format") or request.headers.get("X-ClickHouse-Format") or DEFAULT_FORMAT
    return params, fmt


def build_app(store: Store, authorize: Authorize | None = None) -> web.Application:
    """The endpoint as an aiohttp application on ``store``.

    ``authorize`` (tenant auth, later) is called first on every query request
    and refuses by raising an ``aiohttp.web.HTTPException``. ``app["stats"]``
    counts queries served, refused (by the guard or the read-only engine) and
    failed (any other error).
    """
    app = web.Application()
    stats = {"served": 0, "refused": 0, "failed": 0}
    with warnings.catch_warnings():  # a plain key, so that other code can read app["stats"]
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["stats"] = stats
    engine = _Engine(store)
    databases = {store.database, "default"}
    tenancy = _Tenancy()

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="Ok.\n")

    async def query(request: web.Request) -> web.Response:
        query_id = request.query.get("query_id", "")
        query_id = query_id if query_id and query_id.isprintable() else str(uuid.uuid4())
        headers = {"X-ClickHouse-Server-Display-Name": SERVER_NAME, "X-ClickHouse-Query-Id": query_id}
        reader = EVERYTHING
        if authorize is not None:
            from aitrail.errors import AccessDenied

            try:
                reader = authorize(request) or EVERYTHING
            except AccessDenied as exc:
                stats["refused"] += 1
                code, name = (AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED") if exc.status == 401 else (ACCESS_DENIED, "ACCESS_DENIED")
                headers["X-ClickHouse-Exception-Code"] = str(code)
                if exc.status == 401:
                    headers["WWW-Authenticate"] = 'Basic realm="aitrail", charset="UTF-8"'
                return web.Response(status=exc.status, text=f"{EngineError(code, name, str(exc))}\n", headers=headers)
        started = time.monotonic_ns()
        try:
            fields, sql, binary = await _read_request(request)
            if sql is None:  # GET / without a query is ClickHouse's health check too
                return web.Response(text="Ok.\n", headers=headers)
            allowed = databases if reader.database is None else {reader.database, "default"}
            params, fmt = _settings(request, fields, allowed)
            data, fmt, content_type = await asyncio.to_thread(
                _execute, store, engine, sql, params, fmt, binary, reader, tenancy
            )
        except _Refusal as refusal:
            stats["refused" if refusal.error.code == READONLY else "failed"] += 1
            headers["X-ClickHouse-Exception-Code"] = str(refusal.error.code or 1001)
            return web.Response(status=refusal.status, text=f"{refusal.error}\n", headers=headers)
        stats["served"] += 1
        summary = {
            **dict.fromkeys(("read_rows", "read_bytes", "written_rows", "written_bytes", "total_rows_to_read"), "0"),
            "result_bytes": str(len(data)),
            "elapsed_ns": str(time.monotonic_ns() - started),
        }
        headers["Content-Type"] = content_type
        headers["X-ClickHouse-Format"] = fmt
        headers["X-ClickHouse-Timezone"] = engine.timezone
        headers["X-ClickHouse-Summary"] = json.dumps(summary, separators=(",", ":"))
        return web.Response(body=data, headers=headers)

    app.router.add_get("/ping", ping)
    app.router.add_get("/", query)
    app.router.add_post("/", query)
    return app


async def start(
    store: Store, host: str = "127.0.0.1", port: int = 0, authorize: Authorize | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> web.AppRunner:
    """Serve the endpoint on ``host:port`` (0: any free port) until ``await runner.cleanup()``; HTTPS with ``ssl_context``."""
    runner = web.AppRunner(build_app(store, authorize), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    return runner


def bound_url(runner: web.AppRunner) -> str:
    """``http://host:port`` the runner actually listens on (the real port when 0 was asked)."""
    host, port = runner.addresses[0][:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"
