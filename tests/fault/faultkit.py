"""Fault-test tools: collector and store stand-in subprocesses, an OTLP load generator, and the final accounting.

The load generator sends OTLP/HTTP protobuf from several threads; every
request carries spans with names and ids never used before, and it records
which requests were answered 2xx. Nothing is ever re-sent: a span that was
not acknowledged may or may not be stored, a span that was must be stored
exactly once, and no span may be stored twice.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

HERE = Path(__file__).resolve().parent
CYCLES = int(os.environ.get("AITRAIL_FAULT_CYCLES", "5"))
"""Kill-and-restart cycles of the crash test: a handful in ``make test``, hundreds in ``make fault``."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


class Process:
    """A subprocess in its own session, its output appended to a log file."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.argv, self.log = argv, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with open(self.log, "ab") as out:
            out.write(f"\n=== start {time.strftime('%H:%M:%S')} {' '.join(self.argv)}\n".encode())
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 60) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout)

    def rss_kb(self) -> int:
        """Resident memory now (VmRSS from /proc), 0 when gone."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Collector(Process):
    """``aitrail serve`` in a subprocess, on a fixed OTLP/HTTP port (the load generator keeps its URL)."""

    def __init__(self, log: Path, http_port: int, *options: str) -> None:
        argv = [sys.executable, "-c", "from aitrail.cli import main; main()", "serve",
                "--http-port", str(http_port), "--grpc-port", "0", "--sql-port", "0", *options]
        super().__init__(argv, log)
        self.url = f"http://127.0.0.1:{http_port}"

    def health(self) -> dict[str, Any]:
        return _get(f"{self.url}/healthz")

    def wait_ready(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            try:
                self.health()
                return True
            except OSError:
                time.sleep(0.02)
        return False

    def wait_drained(self, timeout: float = 120) -> dict[str, Any]:
        """Poll /healthz until the spool holds nothing and no batch is in flight."""
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            health = self.health()
            spool = health["spool"]
            if spool["pending_bytes"] == 0 and not spool["in_flight"] and not health["pending_rows"]:
                return health
            time.sleep(0.1)
        raise AssertionError(f"the spool did not drain in {timeout}s: {health}")


def chserver(log: Path, data_dir: Path, port: int) -> Process:
    return Process([sys.executable, str(HERE / "chserver.py"), "--data-dir", str(data_dir), "--port", str(port)], log)


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answers on port {port}")


# -- load ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def serving_a_server(tmp_path: Path) -> Iterator[tuple[Collector, int]]:
    """``aitrail serve --clickhouse-url`` in front of the ClickHouse server stand-in, both stopped afterwards:
    (the collector, the server's HTTP port)."""
    ch_port, port = free_port(), free_port()
    store = chserver(tmp_path / "chserver.log", tmp_path / "ch", ch_port).start()
    try:
        wait_port(ch_port)
        collector = Collector(tmp_path / "collector.log", port, "--clickhouse-url",
                              f"http://default:@127.0.0.1:{ch_port}", "--spool-dir", str(tmp_path / "spool")).start()
        try:
            assert collector.wait_ready(), collector.tail()
            yield collector, ch_port
        finally:
            collector.kill(signal.SIGTERM)
    finally:
        store.kill(signal.SIGTERM)


def make_request(prefix: str, spans: int, payload: int, rng: random.Random) -> tuple[bytes, list[str]]:
    """An OTLP trace request of ``spans`` generation spans named ``prefix-i`` (unique), ``payload`` bytes of prompt each."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "fault-load"
    scope = resource_spans.scope_spans.add()
    now = time.time_ns()
    names = []
    for i in range(spans):
        name = f"{prefix}-{i}"
        span = scope.spans.add(name=name, trace_id=rng.randbytes(16), span_id=rng.randbytes(8), kind=1)
        span.start_time_unix_nano, span.end_time_unix_nano = now, now + 1_000_000
        for key, value in (("aitrail.kind", "generation"), ("gen_ai.request.model", "fault-model"),
                           ("aitrail.prompt.text", rng.randbytes(payload // 2).hex() if payload else name)):
            kv = span.attributes.add()
            kv.key, kv.value.string_value = key, value
        names.append(name)
    return request.SerializeToString(), names


@dataclass
class Figures:
    requests: int = 0
    acked_requests: int = 0
    spans_sent: int = 0
    acked: list[str] = field(default_factory=list)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    retry_after_missing: int = 0


class Load:
    """Threads sending OTLP/HTTP continuously, through restarts and outages, never re-sending a span."""

    def __init__(self, url: str, threads: int = 4, spans: int = 5, payload: int = 0, pause: float = 0.0,
                 seed: int = 0) -> None:
        self.url, self.threads, self.spans, self.payload, self.pause = url, threads, spans, payload, pause
        self.run_id = f"{seed:x}{random.Random().getrandbits(32):08x}"
        self.figures = Figures()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self.seed = seed

    def start(self) -> Load:
        for n in range(self.threads):
            worker = threading.Thread(target=self._work, args=(n,), name=f"load-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> Figures:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)
        return self.figures

    def _work(self, n: int) -> None:
        rng = random.Random(f"{self.seed}-{n}")
        host, port = self.url.split("//")[1].split(":")
        conn: http.client.HTTPConnection | None = None
        seq = 0
        while not self._stop.is_set():
            seq += 1
            body, names = make_request(f"{self.run_id}-{n}-{seq}", self.spans, self.payload, rng)
            status = "refused"
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=30)
                conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
                response = conn.getresponse()
                response.read()
                status = str(response.status)
                if response.status == 503 and response.getheader("Retry-After") is None:
                    with self._lock:
                        self.figures.retry_after_missing += 1
            except (OSError, http.client.HTTPException):
                status = "connection error"
                if conn is not None:
                    conn.close()
                conn = None
            with self._lock:
                self.figures.requests += 1
                self.figures.spans_sent += len(names)
                self.figures.statuses[status] += 1
                if status.startswith("2"):
                    self.figures.acked_requests += 1
                    self.figures.acked.extend(names)
            if not status.startswith("2"):
                time.sleep(0.05)  # the collector is down or full: back off a little, then send new spans
            elif self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()


# -- accounting ---------------------------------------------------------------------------------------------------


def account(client: Any, run_id: str, acked: list[str]) -> dict[str, int]:
    """Lost (acknowledged but absent) and duplicated spans, in otel_traces, in ai_generations and in its rollup."""
    stored = dict(client.query(
        "SELECT SpanName, count() FROM aitrail.otel_traces WHERE startsWith(SpanName, {p:String}) GROUP BY SpanName",
        parameters={"p": run_id + "-"}).result_rows)
    generations = dict(client.query(
        "SELECT g.span_id, count() FROM aitrail.ai_generations AS g WHERE g.model = 'fault-model' "
        "GROUP BY g.span_id").result_rows)
    rolled_up = client.query("SELECT sum(generations) FROM aitrail.ai_usage_daily WHERE model = 'fault-model'")
    acked_set = set(acked)
    return {
        "rollup_generations": int(rolled_up.result_rows[0][0] or 0),
        "acked": len(acked_set),
        "stored": len(stored),
        "lost": sum(1 for name in acked_set if name not in stored),
        "duplicates": sum(1 for n in stored.values() if n > 1),
        "generation_rows": sum(generations.values()),
        "generation_duplicates": sum(1 for n in generations.values() if n > 1),
    }
