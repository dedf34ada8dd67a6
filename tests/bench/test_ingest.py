"""The ingest bench's load: a failure ends the wait for the rows at once, not at its timeout."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.ingest import Load, wait_count


class _Refusing(BaseHTTPRequestHandler):
    """A collector stand-in that refuses every export with 400 (what the bench's clients must report)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"refused by the test"
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_failed_load_stops_the_wait_for_its_rows_with_the_clients_error():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        load = Load("http", str(server.server_address[1]), 1, 2, 1, 5, 0)
        load.start()
        # The count never comes: before, this waited out the timeout (30 minutes in the bench).
        with pytest.raises(RuntimeError, match="the load failed: .*HTTP 400"):
            wait_count(lambda: 0, load.spans, timeout=900, failed=load.failure)
        with pytest.raises(RuntimeError, match="HTTP 400"):
            load.finish()
    finally:
        server.shutdown()
        server.server_close()
