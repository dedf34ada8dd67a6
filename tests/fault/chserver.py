"""A writable ClickHouse server stand-in for fault tests: ClickHouse's HTTP interface, backed by chDB.

``python chserver.py --data-dir DIR --port PORT`` serves just enough of the
protocol for clickhouse-connect (what aitrail's RemoteStore uses): ``/ping``;
statements and queries in the ``query`` parameter or the body, with
``param_*`` parameters and any output format (the engine is ClickHouse's own);
``INSERT INTO t (cols) FORMAT Arrow`` with the Arrow data in the body (as
``insert_arrow`` sends it), inserted through chDB's ``Python()`` table
function with the request's insert settings (``insert_deduplication_token``
…), so deduplication behaves as on a server; ``INSERT … SELECT … FROM
input('structure') FORMAT Protobuf`` with the messages in the body (as the
collector's drain sends spooled requests), read by chDB from a file with the
request's format settings (``format_schema`` names ``otlp.proto`` in the
server's format_schemas directory: here, where the aitrail package ships it). Errors come back as ClickHouse
sends them (``Code: N. DB::Exception: …`` and ``X-ClickHouse-Exception-Code``).

It can be stopped (SIGKILL or SIGTERM) and started again on the same data
directory and port: that is the store outage of tests/fault/test_outage.py.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import signal
import tempfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import chdb
import pyarrow as pa

from aitrail.collector.store.base import settings_clause

INSERT = re.compile(r"^\s*INSERT\s+INTO\s+([\w.`]+)\s*(?:\(([^)]*)\))?\s*FORMAT\s+(\w+)\s*$", re.I | re.S)
FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.I)
CODE = re.compile(r"Code: (\d+)")
MAX_URI = 1 << 20
"""A ClickHouse server's ``http_max_uri_size``."""
INSERT_SETTINGS = re.compile(r"^(insert_\w+|deduplicate_\w+|async_insert|format_schema|input_format_\w+)$")
INPUT = re.compile(r"\binput\(('(?:[^'\\]|\\.)*')\)", re.S)
PROTOBUF_INPUT = re.compile(r"\s+FORMAT\s+Protobuf\s*$", re.I)


class Engine:
    def __init__(self, path: str) -> None:
        self.conn = chdb.connect(f"file:{path}")
        self.lock = threading.Lock()

    def run(self, sql: str, fmt: str, params: dict[str, str] | None) -> bytes:
        with self.lock:
            result = self.conn.query(sql, fmt, params=params or None)
        return result.bytes() if result is not None else b""

    def insert(self, table: str, columns: str | None, fmt: str, data: bytes, settings: dict[str, str]) -> int:
        if fmt.lower() != "arrow":
            raise ValueError(f"Code: 73. DB::Exception: the stand-in only takes FORMAT Arrow inserts, not {fmt}. (UNKNOWN_FORMAT)")
        buffer = pa.py_buffer(data)
        try:
            tbl = pa.ipc.open_file(buffer).read_all()  # noqa: F841 - read by chDB's Python(tbl)
        except pa.ArrowInvalid:
            tbl = pa.ipc.open_stream(buffer).read_all()  # noqa: F841
        cols = f" ({columns})" if columns else ""
        clause = ", ".join(f"{k} = '{v.replace(chr(92), chr(92) * 2).replace(chr(39), chr(92) + chr(39))}'"
                           for k, v in settings.items())
        sql = f"INSERT INTO {table}{cols} SELECT * FROM Python(tbl)" + (f" SETTINGS {clause}" if clause else "")
        with self.lock:
            self.conn.query(sql, "TSV")
        return tbl.num_rows

    def insert_select(self, sql: str, data: bytes, settings: dict[str, str]) -> None:
        """``INSERT … SELECT … FROM input(structure) FORMAT Protobuf`` as a server runs it: input() reads the body."""
        from aitrail.collector.engine.schema import proto_path

        with tempfile.NamedTemporaryFile(suffix=".protobuf") as file:
            file.write(data)
            file.flush()
            sql = INPUT.sub(lambda m: f"file('{file.name}', Protobuf, {m[1]})", PROTOBUF_INPUT.sub("", sql))
            if "format_schema" in settings:  # the server's format_schemas directory is the package's
                settings = {**settings, "format_schema": f"{proto_path().parent}/{settings['format_schema']}"}
            with self.lock:
                self.conn.query(f"{sql} {settings_clause(settings)}" if settings else sql, "TSV")

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def _decode(body: bytes, encoding: str | None) -> bytes:
    encoding = (encoding or "").lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "lz4":
        import lz4.frame

        return lz4.frame.decompress(body)
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    return body


def make_handler(engine: Engine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one_request(self) -> None:
            """The standard handler's, with a server's room for long URLs (the ingest SQL travels in ``query``)."""
            try:
                self.raw_requestline = self.rfile.readline(MAX_URI + 1)
                if len(self.raw_requestline) > MAX_URI:
                    self.requestline = self.request_version = self.command = ""
                    self.send_error(414)
                    return
                if not self.raw_requestline:
                    self.close_connection = True
                    return
                if not self.parse_request():
                    return
                handler = getattr(self, "do_" + self.command, None)
                if handler is None:
                    self.send_error(501, f"Unsupported method ({self.command!r})")
                    return
                handler()
                self.wfile.flush()
            except TimeoutError:
                self.close_connection = True

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            self._handle(b"")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                raw = b"".join(chunks)
            else:
                raw = self.rfile.read(length)
            self._handle(_decode(raw, self.headers.get("Content-Encoding")))

        def _handle(self, body: bytes) -> None:
            url = urlsplit(self.path)
            if url.path == "/ping":
                return self._answer(200, b"Ok.\n")
            fields = dict(parse_qsl(url.query, keep_blank_values=True))
            sql = fields.get("query")
            data = b""
            if sql is None:
                text, _, rest = body.partition(b"\n") if INSERT.match(body.split(b"\n", 1)[0].decode(errors="replace")) \
                    else (body, b"", b"")
                sql, data = text.decode(), rest
            else:
                data = body
            if not sql.strip():
                return self._answer(200, b"Ok.\n")
            params = {k[len("param_"):]: v for k, v in fields.items() if k.startswith("param_")}
            settings = {k: v for k, v in fields.items() if INSERT_SETTINGS.match(k)}
            database = fields.get("database")
            headers = {"X-ClickHouse-Server-Display-Name": "chserver-standin", "X-ClickHouse-Timezone": "UTC"}
            try:
                if INPUT.search(sql) and PROTOBUF_INPUT.search(sql):
                    engine.insert_select(sql, data, settings)
                    return self._answer(200, b"", headers)
                insert = INSERT.match(sql)
                if insert:
                    table = insert[1] if "." in insert[1] or not database else f"{database}.{insert[1]}"
                    rows = engine.insert(table, insert[2], insert[3], data, settings)
                    summary = {"read_rows": "0", "read_bytes": "0", "written_rows": str(rows),
                               "written_bytes": str(len(data)), "total_rows_to_read": "0", "result_rows": "0",
                               "result_bytes": "0", "elapsed_ns": "0"}
                    headers["X-ClickHouse-Summary"] = json.dumps(summary)
                    return self._answer(200, b"", headers)
                found = FORMAT.search(sql)
                fmt = found[1] if found else fields.get("default_format") or "TabSeparated"
                result = engine.run(sql, fmt, params)
            except Exception as exc:  # noqa: BLE001 - every engine error goes back as ClickHouse's
                message = str(exc)
                code = CODE.search(message)
                headers["X-ClickHouse-Exception-Code"] = code[1] if code else "1001"
                if not message.startswith("Code:"):
                    message = f"Code: 1001. DB::Exception: {message}"
                return self._answer(500, (message + "\n").encode(), headers)
            headers["X-ClickHouse-Format"] = fmt
            headers["Content-Type"] = "text/plain; charset=UTF-8"
            headers["X-ClickHouse-Summary"] = json.dumps({"read_rows": "0", "written_rows": "0"})
            return self._answer(200, result, headers)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    engine = Engine(args.data_dir)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(engine))
    server.daemon_threads = True

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"ready {args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        engine.close()


if __name__ == "__main__":
    main()
