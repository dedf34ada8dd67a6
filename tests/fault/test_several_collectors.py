"""Several collectors, one ClickHouse: two ``aitrail serve`` processes, each with its own spool, write into one
ClickHouse server (the stand-in of chserver.py) under load from the OpenTelemetry SDK's own OTLP exporters
(HTTP and gRPC), and one of them is killed (SIGKILL) and started again on its spool in the middle of it.

Every span is created by the SDK (its own random ids) and sent once: the exporters' timeout is shorter than
their first back-off, so a batch that failed is never re-sent, and a span stored twice could only be the
collectors' doing. The test keeps which spans each exporter had acknowledged, and at the end requires: every
acknowledged span stored exactly once in ``otel_traces``, once in ``ai_generations`` and counted once in its
rollup; nothing stored that was never sent; and both collectors, the restarted one before and after its
restart, took part.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from collections.abc import Sequence

import pytest
from faultkit import Collector, chserver, free_port, wait_port
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from aitrail.collector.store.schema import known_migrations
from aitrail.sdk.vocabulary import GEN_AI_REQUEST_MODEL, KIND, KIND_GENERATION

SEND_ONCE_TIMEOUT = 0.75
"""Seconds: below the exporters' first back-off (1 s, jitter ±20 %), so no batch is ever sent twice."""


def _span_key(span: ReadableSpan) -> tuple[str, str]:
    return f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"


class Recording(SpanExporter):
    """The real exporter, and a note of which spans it sent and which the collector acknowledged."""

    def __init__(self, exporter: SpanExporter, collector: str, phase: dict[str, str]) -> None:
        self.exporter, self.collector, self.phase = exporter, collector, phase
        self.lock = threading.Lock()
        self.sent: set[tuple[str, str]] = set()
        self.acked: dict[tuple[str, str], str] = {}  # span -> the collector's phase when it was acknowledged

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        keys = [_span_key(s) for s in spans]
        with self.lock:
            self.sent.update(keys)
        result = self.exporter.export(spans)
        if result is SpanExportResult.SUCCESS:
            with self.lock:
                self.acked.update((k, self.phase[self.collector]) for k in keys)
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class Emitter:
    """An application: its own TracerProvider and batch processor, making generation spans until stopped."""

    def __init__(self, name: str, exporter: Recording, model: str) -> None:
        self.name, self.exporter, self.model = name, exporter, model
        self.provider = TracerProvider(resource=Resource.create({"service.name": f"stand-in-{name}"}))
        self.provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=4096, schedule_delay_millis=100, max_export_batch_size=40))
        self.tracer = self.provider.get_tracer("aitrail.tests.several_collectors")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"emitter-{name}", daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            for _ in range(20):
                n += 1
                with self.tracer.start_as_current_span(
                        f"{self.model}-{self.name}-{n}", attributes={KIND: KIND_GENERATION, GEN_AI_REQUEST_MODEL: self.model}):
                    pass
            time.sleep(0.1)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(30)
        self.provider.shutdown()  # exports what is queued, once


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout}s for {what}")


def _collector(tmp_path, name: str, ch_port: int, config, http_port: int, grpc_port: int) -> Collector:  # noqa: ANN001
    """``aitrail serve`` named ``name`` (its log and its own spool under ``tmp_path``) in front of the stand-in."""
    return Collector(tmp_path / f"collector-{name}.log", http_port, "--grpc-port", str(grpc_port),
                     "--clickhouse-url", f"http://default:@127.0.0.1:{ch_port}",
                     "--spool-dir", str(tmp_path / f"spool-{name}"), "--config", str(config))


@pytest.mark.timeout(600)
def test_two_collectors_one_clickhouse_stand_in_store_every_acknowledged_span_once_through_a_kill(tmp_path):
    import clickhouse_connect

    ch_port = free_port()
    store = chserver(tmp_path / "chserver.log", tmp_path / "ch", ch_port).start()
    wait_port(ch_port)
    config = tmp_path / "collector.toml"
    config.write_text("[collector]\nflush_interval = 0.2\nderive_interval = 0.0\n")
    ports = {"a": (free_port(), free_port()), "b": (free_port(), free_port())}

    def collector(name: str) -> Collector:
        return _collector(tmp_path, name, ch_port, config, *ports[name])

    # Started together, as a deployment scales out: both migrate the same empty server at once.
    collectors = {name: collector(name).start() for name in ports}
    for name, c in collectors.items():
        assert c.wait_ready(), c.tail()

    model = f"stand-in-{time.time_ns():x}"
    phase = {"a": "before", "b": "up"}
    a_http, b_http = (f"http://127.0.0.1:{ports[n][0]}/v1/traces" for n in ("a", "b"))
    exporters = {
        "a-http-1": Recording(HttpExporter(endpoint=a_http, timeout=SEND_ONCE_TIMEOUT), "a", phase),
        "a-http-2": Recording(HttpExporter(endpoint=a_http, timeout=SEND_ONCE_TIMEOUT), "a", phase),
        "b-http": Recording(HttpExporter(endpoint=b_http, timeout=SEND_ONCE_TIMEOUT), "b", phase),
        "b-grpc": Recording(GrpcExporter(endpoint=f"127.0.0.1:{ports['b'][1]}", insecure=True,
                                         timeout=SEND_ONCE_TIMEOUT), "b", phase),
    }
    emitters = [Emitter(name, exporter, model) for name, exporter in exporters.items()]
    for emitter in emitters:
        emitter.thread.start()
    try:
        def acked(collector_name: str, when: str) -> int:
            return sum(1 for e in exporters.values() if e.collector == collector_name
                       for p in list(e.acked.values()) if p == when)

        _wait(lambda: acked("a", "before") >= 300 and acked("b", "up") >= 300, 180, "both collectors to take load")
        spooled = collectors["a"].health()["spool"]
        phase["a"] = "down"
        collectors["a"].kill(signal.SIGKILL)  # mid-load: its emitters now fail, b keeps taking its own
        b_during = acked("b", "up")
        collectors["a"] = collector("a").start()  # same port, same spool
        assert collectors["a"].wait_ready(), collectors["a"].tail()
        phase["a"] = "after"
        _wait(lambda: acked("a", "after") >= 300 and acked("b", "up") > b_during, 180,
              "the restarted collector to take load again")
    finally:
        for emitter in emitters:
            emitter.finish()
    for c in collectors.values():
        c.wait_drained(180)
        assert c.kill(signal.SIGTERM) == 0, c.tail()

    client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
    spans = dict(((t, s), n) for t, s, n in client.query(
        "SELECT TraceId, SpanId, count() FROM aitrail.otel_traces WHERE SpanAttributes[{k:String}] = {m:String} "
        "GROUP BY TraceId, SpanId", parameters={"k": GEN_AI_REQUEST_MODEL, "m": model}).result_rows)
    generations = dict(((t, s), n) for t, s, n in client.query(
        "SELECT trace_id, span_id, count() FROM aitrail.ai_generations WHERE model = {m:String} GROUP BY trace_id, span_id",
        parameters={"m": model}).result_rows)
    rolled_up = int(client.query("SELECT sum(generations) FROM aitrail.ai_usage_daily WHERE model = {m:String}",
                                 parameters={"m": model}).result_rows[0][0] or 0)
    applied = client.query("SELECT version, count() FROM aitrail.schema_migrations GROUP BY version ORDER BY version")\
        .result_rows
    client.close()
    store.kill(signal.SIGTERM)

    sent = set().union(*(e.sent for e in exporters.values()))
    acked_all = {k: (e.collector, p) for e in exporters.values() for k, p in e.acked.items()}
    report = {
        "sent": len(sent), "acked": len(acked_all), "stored": len(spans),
        "acked_by": {f"{c}/{p}": sum(1 for v in acked_all.values() if v == (c, p))
                     for c, p in {v for v in acked_all.values()}},
        "acked_per_exporter": {name: len(e.acked) for name, e in exporters.items()},
        "spooled_at_the_kill": spooled["pending_records"],
        "lost": sum(1 for k in acked_all if k not in spans),
        "duplicated": sum(1 for n in spans.values() if n > 1),
        "never_sent_but_stored": len(set(spans) - sent),
        "generations": sum(generations.values()), "generation_duplicates": sum(1 for n in generations.values() if n > 1),
        "rollup_generations": rolled_up, "migrations_recorded": [list(row) for row in applied],
    }
    print(f"\nseveral collectors: {json.dumps(report)}")
    assert report["lost"] == 0 and report["duplicated"] == 0 and report["never_sent_but_stored"] == 0, report
    assert set(generations) == set(spans) and report["generation_duplicates"] == 0, report
    assert rolled_up == len(spans), report
    assert all(report["acked_by"].get(k, 0) >= 300 for k in ("a/before", "a/after", "b/up")), report
    assert all(report["acked_per_exporter"].values()), "every exporter, HTTP and gRPC, must have been heard"
    # Both collectors migrated the empty server at once: every migration is there, recorded once.
    assert [tuple(row) for row in applied] == [(m.version, 1) for m in known_migrations()], report


@pytest.mark.timeout(600)
def test_two_collectors_deriving_from_one_clickhouse_stand_in_derive_each_generation_once(tmp_path):
    """Both collectors derive generations from Claude Code's native telemetry (in rounds of 0.5 s, each
    collector's run at the middle of each round, its inserts under the round's name) while sessions arrive at
    either: every session's generations are derived (no round's name drops a row for good) and stored once, in
    ``otel_traces`` and in ``ai_generations``.

    The stand-in runs one statement at a time, so here the two collectors' runs never overlap; the case they do
    on a real server (both select a row before either has stored it) is
    ``tests/collector/derive/test_deriver.py``'s second run in a round."""
    import sys
    from pathlib import Path

    import clickhouse_connect

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "native"))
    import replay

    ch_port = free_port()
    store = chserver(tmp_path / "chserver.log", tmp_path / "ch", ch_port).start()
    wait_port(ch_port)
    config = tmp_path / "collector.toml"
    config.write_text("[collector]\nflush_interval = 0.1\nderive_interval = 0.5\nderive_settle = 0.5\nderive_wait = 3.0\n")
    collectors = [_collector(tmp_path, n, ch_port, config, free_port(), 0).start() for n in ("a", "b")]
    for c in collectors:
        assert c.wait_ready(), c.tail()
    recording = json.dumps(replay.load("claude_code/write_edit.jsonl"))
    sessions = 24
    for n in range(sessions):  # one session every 0.25 s, alternately to each collector
        session = json.loads(recording.replace("6ad82670-9236-42ed-8641-ae0b5c650e8f", f"session-{n}"))
        for entry in replay.rebase(session, time.time_ns()):
            request = urllib.request.Request(f"{collectors[n % 2].url}/v1/{entry['signal']}",
                                             json.dumps(entry["body"]).encode(), {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200
        time.sleep(0.25)

    client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)

    def counts(sql: str) -> list[int]:
        return [n for _, n in client.query(sql).result_rows]

    derived = "SELECT SpanId, count() FROM aitrail.otel_traces WHERE SpanName = 'aitrail.derived.generation' GROUP BY SpanId"
    _wait(lambda: len(counts(derived)) >= 3 * sessions, 120, "every session's generations to be derived")
    time.sleep(3)  # more rounds by both collectors: any second copy would come now
    spans = counts(derived)
    generations = counts("SELECT span_id, count() FROM aitrail.ai_generations GROUP BY span_id")
    client.close()
    for c in collectors:
        assert c.kill(signal.SIGTERM) == 0, c.tail()
    store.kill(signal.SIGTERM)
    report = {"spans": len(spans), "span_copies": sum(spans), "generations": len(generations),
              "generation_copies": sum(generations)}
    print(f"\ntwo collectors deriving: {json.dumps(report)}")
    assert len(spans) == sum(spans) == 3 * sessions and sum(generations) == len(generations) == 3 * sessions, report
