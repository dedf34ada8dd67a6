"""The SQL endpoint over HTTP: the real clickhouse-connect client and plain urllib against a real chDB store."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import clickhouse_connect
import pyarrow as pa
import pytest
from aiohttp import web
from clickhouse_connect.driver.exceptions import DatabaseError

from aitrail.collector.sqlendpoint import bound_url, start
from aitrail.collector.store import Store, StoreLocation, open_store

T0 = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
SPANS = [
    # TraceId, SpanName, ServiceName, Duration, SpanAttributes
    ("trace-1", "chat", "svc", 1500, {"gen_ai.system": "openai"}),
    ("trace-2", "embed", "svc", 2500, {}),
    ("trace-3", "chat", "other", 3500, {"gen_ai.system": "anthropic", "gen_ai.request.model": "m"}),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A migrated store holding SPANS, inserted as the collector does: a pyarrow batch."""
    with open_store(StoreLocation(data_dir=tmp_path_factory.mktemp("sqlendpoint") / "store")) as opened:
        batch = pa.table(
            {
                "Timestamp": pa.array([T0 + dt.timedelta(seconds=i) for i in range(3)], pa.timestamp("ns", "UTC")),
                "TraceId": [s[0] for s in SPANS],
                "SpanId": [f"span-{i}" for i in range(len(SPANS))],
                "SpanName": [s[1] for s in SPANS],
                "ServiceName": [s[2] for s in SPANS],
                "Duration": pa.array([s[3] for s in SPANS], pa.uint64()),
                "SpanAttributes": pa.array([list(s[4].items()) for s in SPANS], pa.map_(pa.string(), pa.string())),
            }
        )
        opened.insert("otel_traces", batch)
        yield opened


@dataclass
class Endpoint:
    url: str
    port: int
    stats: dict[str, int]


class _Serving:
    """The endpoint on an ephemeral port, on its own event loop in a background thread."""

    def __init__(self, store: Store, authorize: Callable[[web.Request], None] | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = self._call(start(store, "127.0.0.1", 0, authorize=authorize))
        url = bound_url(self.runner)
        self.endpoint = Endpoint(url, int(url.rsplit(":", 1)[1]), self.runner.app["stats"])

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def close(self) -> None:
        self._call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def endpoint(store: Store) -> Iterator[Endpoint]:
    serving = _Serving(store)
    yield serving.endpoint
    serving.close()


@pytest.fixture
def client(endpoint: Endpoint) -> Iterator[Any]:
    ch = clickhouse_connect.get_client(host="127.0.0.1", port=endpoint.port)
    yield ch
    ch.close()


def _get(endpoint: Endpoint, sql: str | None = None, path: str = "/", **params: str) -> tuple[int, dict, bytes]:
    if sql is not None:
        params["query"] = sql
    url = endpoint.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    return _open(urllib.request.Request(url))


def _open(request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _span_count(store: Store) -> int:
    return store.rows("SELECT count() AS n FROM aitrail.otel_traces")[0]["n"]


def test_clickhouse_connect_reads_back_the_inserted_rows(client):
    result = client.query(
        "SELECT Timestamp, TraceId, SpanName, ServiceName, Duration, SpanAttributes "
        "FROM aitrail.otel_traces ORDER BY TraceId"
    )
    assert result.column_names == ("Timestamp", "TraceId", "SpanName", "ServiceName", "Duration", "SpanAttributes")
    rows = result.result_rows
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [tuple(s) for s in SPANS]
    # Naive datetimes in the server's zone (the machine's, for the embedded engine), as ClickHouse sends them.
    assert [r[0].replace(tzinfo=client.server_tz) for r in rows] == [T0 + dt.timedelta(seconds=i) for i in range(3)]
    assert client.server_version  # the connect-time SELECT version(), timezone() was answered


def test_command_raw_query_and_aggregates(client):
    assert client.command("SELECT 1") == 1
    assert client.command("SELECT sum(Duration) FROM aitrail.otel_traces") == 7500
    raw = client.raw_query("SELECT TraceId, Duration FROM aitrail.otel_traces ORDER BY TraceId", fmt="JSONEachRow")
    assert raw.splitlines()[0] == b'{"TraceId":"trace-1","Duration":1500}'
    names = client.query("SHOW TABLES FROM aitrail").result_columns[0]
    assert {"otel_traces", "otel_logs", "ai_generations"} <= set(names)
    described = client.query("DESCRIBE TABLE aitrail.otel_traces").named_results()
    assert next(r["type"] for r in described if r["name"] == "Duration") == "UInt64"


def test_server_side_parameters(client):
    assert client.query("SELECT {x:UInt32} + 1", parameters={"x": 41}).result_rows == [(42,)]
    tricky = "tab\there\nnewline 'quote' back\\slash `tick` é"
    assert client.query("SELECT {s:String}", parameters={"s": tricky}).result_rows == [(tricky,)]
    assert client.query("SELECT {n:Nullable(String)}", parameters={"n": None}).result_rows == [(None,)]
    sql = "SELECT TraceId FROM aitrail.otel_traces WHERE SpanName = {name:String} AND Duration > {d:UInt64}"
    rows = client.query(sql, parameters={"name": "chat", "d": 2000}).result_rows
    assert rows == [("trace-3",)]


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE aitrail.otel_traces",
        "INSERT INTO aitrail.otel_traces (TraceId) VALUES ('x')",
        "TRUNCATE TABLE aitrail.otel_traces",
        "SELECT 1; DROP TABLE aitrail.otel_traces",
        "SELECT * FROM file('/etc/passwd')",
        "SELECT 1 SETTINGS readonly = 0",
    ],
)
def test_refused_statements_raise_database_error_and_change_nothing(store, endpoint, client, statement):
    refused_before = endpoint.stats["refused"] + endpoint.stats["failed"]
    with pytest.raises(DatabaseError) as caught:
        client.command(statement)
    message = str(caught.value)
    assert "read-only" in message or "Multi-statements are not allowed" in message
    assert endpoint.stats["refused"] + endpoint.stats["failed"] == refused_before + 1
    assert _span_count(store) == len(SPANS)
    assert client.command("EXISTS TABLE aitrail.otel_traces") == 1


def test_client_insert_is_refused_as_a_write(store, endpoint, client):
    refused = endpoint.stats["refused"]
    with pytest.raises(DatabaseError, match="read-only"):
        client.insert("aitrail.otel_traces", [["x", "y"]], column_names=["TraceId", "SpanId"])
    assert endpoint.stats["refused"] == refused + 1
    assert _span_count(store) == len(SPANS)


def test_a_binary_body_is_never_run(endpoint):
    post = urllib.request.Request(endpoint.url + "/", data=b"SELECT 1 -- \xff\xfe", method="POST")
    status, headers, body = _open(post)
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (400, "36") and b"not UTF-8" in body


def test_url_settings_do_not_loosen_the_read_only_mode(store, endpoint):
    status, _, body = _get(endpoint, "INSERT INTO aitrail.otel_traces (TraceId) VALUES ('x')", readonly="0")
    assert status == 403 and b"(READONLY)" in body
    assert _span_count(store) == len(SPANS)


def test_plain_http_get_post_and_ping(endpoint):
    served = endpoint.stats["served"]
    status, headers, body = _get(endpoint, "SELECT count() FROM aitrail.otel_traces")
    assert (status, body) == (200, b"3\n")
    assert headers["X-ClickHouse-Format"] == "TabSeparated"
    assert headers["Content-Type"].startswith("text/tab-separated-values")
    assert headers["X-ClickHouse-Timezone"] and headers["X-ClickHouse-Query-Id"]
    assert headers["X-ClickHouse-Server-Display-Name"] == "aitrail"
    assert '"result_bytes":"2"' in headers["X-ClickHouse-Summary"]
    assert endpoint.stats["served"] == served + 1

    sql = b"SELECT TraceId FROM aitrail.otel_traces ORDER BY 1"
    post = urllib.request.Request(endpoint.url + "/", data=sql, method="POST")
    assert _open(post)[2] == b"trace-1\ntrace-2\ntrace-3\n"
    assert _get(endpoint, path="/ping")[:3:2] == (200, b"Ok.\n")
    assert _get(endpoint)[:3:2] == (200, b"Ok.\n")


def test_formats_parameters_and_query_ids_over_http(endpoint):
    status, headers, body = _get(endpoint, "SELECT {x:UInt8} AS x FORMAT JSONEachRow", param_x="7", query_id="q-1")
    assert (status, body) == (200, b'{"x":7}\n')
    assert headers["X-ClickHouse-Format"] == "JSONEachRow" and headers["X-ClickHouse-Query-Id"] == "q-1"
    status, headers, body = _get(endpoint, "SELECT 1 AS one", default_format="CSVWithNames")
    assert (status, body, headers["X-ClickHouse-Format"]) == (200, b'"one"\n1\n', "CSVWithNames")
    status, headers, body = _get(endpoint, "SELECT 1", default_format="arrowtable")  # chDB's pseudo-format
    assert status == 400 and headers["X-ClickHouse-Exception-Code"] == "73"


def test_errors_look_like_clickhouse_errors(endpoint):
    status, headers, body = _get(endpoint, "DROP TABLE aitrail.otel_traces")
    assert status == 403 and headers["X-ClickHouse-Exception-Code"] == "164"
    assert body.startswith(b"Code: 164. DB::Exception: aitrail SQL endpoint is read-only: DROP") and body.endswith(
        b". (READONLY)\n"
    )
    status, headers, body = _get(endpoint, "SELEC 1")
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (400, "62") and b"(SYNTAX_ERROR)" in body
    status, headers, body = _get(endpoint, "SELECT * FROM aitrail.nope")
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (404, "60") and b"UNKNOWN_TABLE" in body


def test_database_must_be_ours(endpoint):
    assert _get(endpoint, "SELECT 1", database="aitrail")[:3:2] == (200, b"1\n")
    assert _get(endpoint, "SELECT 1", database="default")[:3:2] == (200, b"1\n")
    status, headers, _ = _get(endpoint, "SELECT 1", database="system")
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (404, "81")
    ch = clickhouse_connect.get_client(host="127.0.0.1", port=endpoint.port, database="aitrail")
    try:
        assert ch.command("SELECT count() FROM aitrail.otel_traces") == 3
    finally:
        ch.close()


def test_slow_queries_do_not_block_the_event_loop(store, endpoint, monkeypatch):
    """A ping answered while a slow query runs (seen starting, then still running after the answer)."""
    started = threading.Event()
    query = store.query

    def noting_the_start(sql, *args, **kwargs):  # the real query, and a flag when the slow one begins
        if "sleep(" in sql:
            started.set()
        return query(sql, *args, **kwargs)

    monkeypatch.setattr(store, "query", noting_the_start)
    slow = threading.Thread(target=_get, args=(endpoint, "SELECT sleep(2)"))
    slow.start()
    assert started.wait(30)
    assert _get(endpoint, path="/ping")[2] == b"Ok.\n"
    assert slow.is_alive()  # blocked, the loop would have answered only after the slow query
    slow.join()


def test_authorize_is_called_first(store):
    seen: list[str] = []

    def authorize(request: web.Request) -> None:
        seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != "Bearer good":
            raise web.HTTPUnauthorized(text="who are you?")

    serving = _Serving(store, authorize)
    try:
        url = serving.endpoint.url + "/?query=SELECT+1"
        assert _open(urllib.request.Request(url))[0] == 401
        assert _open(urllib.request.Request(url, headers={"Authorization": "Bearer good"}))[::2] == (200, b"1\n")
        assert seen == ["", "Bearer good"]
        assert serving.endpoint.stats == {"served": 1, "refused": 0, "failed": 0}
    finally:
        serving.close()
