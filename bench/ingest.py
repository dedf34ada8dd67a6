"""Ingest: OTLP spans of AI generations from request bytes to rows queryable in ClickHouse.

Request bodies are built up front by the OpenTelemetry SDK and the OTLP encoder
(``ExportTraceServiceRequest``, 1,000 generation spans each, with the ~28 attributes the aitrail SDK
sends: prompt text, tokens, cost, repository, file, line fingerprints, identity), deterministically,
inside the client processes, which then send them together over keep-alive connections — OTLP/HTTP
protobuf (``http.client``) or OTLP/gRPC (the generated ``TraceService`` stub checks the path; the load
then sends the same serialized bytes on that method) — to a real collector (``BackgroundCollector`` on
an embedded store; every answer comes after the durable spool). The clock stops when ``SELECT count()``
on ``otel_traces`` sees every span (``ai_generations`` is filled in the same insert). Clients run in
processes of their own, so their GIL is not the collector's.

Figures, each beside its baseline from the same run:

* spans/s end to end, and spans per collector CPU-second (the per-core figure: the collector
  process's CPU time, its ClickHouse engine included, while the load lasts);
* the floor: spans/s to only parse the same bytes (``ExportTraceServiceRequest.FromString``), and the
  ratio of the two;
* where the time goes: the pipeline stages run in-process on the same bodies (decode, item limits, each
  processor, the request re-serialized beside its tenant, the spool record, the engine's statement into
  ``otel_traces`` alone and with its materialized views), each stage's share of CPU time, and the top
  functions of a cProfile;
* the engine path: the collector's ingest SQL (``aitrail.collector.engine.traces``, what its drain runs) on
  the same bodies, parsed and flattened alone and inserted with the views, beside the ClickHouse-native floor;
* the resident memory (VmHWM, VmRSS) of an ``aitrail serve`` subprocess under sustained maximum ingest,
  and its CPU per span by thread: the collector's own (Python) threads, the engine's query threads and
  its background merges.
* logs: Claude Code–shaped events through a live ``aitrail serve``, beside their own floor
  (``bench/ingest_logs.py``).

The issue's targets and published figures are printed beside ours: >= 100,000 spans/s on one collector
core; Jaeger's ClickHouse storage ~52,000 spans/s on 4 cores; the OpenTelemetry Collector (contrib)
ClickHouse exporter ~40,000 log records/s per core.

chDB opens one data directory per process: the work runs in a subprocess (``python -m bench.ingest``).
"""

from __future__ import annotations

import cProfile
import http.client
import io
import multiprocessing
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench import isolated

SEED = 4318
FIXED_NOW_NS = 1_750_000_000 * 1_000_000_000  # generations end before this instant: same bytes every run
RECENT_NS = 3600 * 1_000_000_000
"""Spans start within the hour before FIXED_NOW_NS (one daily partition), as a live collector receives
them: the SDK exports a generation seconds after it ends. (Spread over a week, each batch split into
eight daily partitions of otel_traces: eight times the parts, and the merges that combine them.)"""
SPANS_PER_REQUEST = 1000
TEMPLATES = 4  # distinct sets of generations per client; each request re-draws the trace and span ids
EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
COUNT_SQL = "SELECT count() FROM aitrail.otel_traces"

TARGET_PER_CORE = 100_000
JAEGER_SPANS_PER_S = 52_000
JAEGER_CORES = 4
CONTRIB_LOGS_PER_CORE = 40_000


# --- the requests --------------------------------------------------------------------------------


def span_attributes(gen: Any) -> dict[str, object]:
    """What the SDK puts on a generation span: the generation's attributes and who asked (with where from)."""
    from aitrail.sdk import vocabulary as v

    return {
        **gen.attributes(),
        v.USER_ID: gen.person.user_id,
        v.USER_EMAIL: gen.person.email,
        v.USER_NAME: gen.person.name,
        v.TEAM: gen.person.team,
        v.IDENTITY_SOURCE: "user_id=git-config,team=codeowners:CODEOWNERS",
    }


def build_bodies(client: int, requests: int, spans: int) -> list[bytes]:
    """``requests`` serialized ExportTraceServiceRequests of ``spans`` generation spans; the same every run."""
    import random

    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from aitrail.demo.activity import generate_activity

    templates = []
    generations = generate_activity(count=spans * TEMPLATES, days=7, seed=SEED + client, now_ns=FIXED_NOW_NS)
    for t in range(TEMPLATES):
        # The OpenTelemetry SDK and the OTLP exporters' encoder make the request, as an SDK user's process does.
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource({
            "service.name": "aitrail-sdk", "telemetry.sdk.language": "python", "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": "1.45.2", "host.name": f"laptop-{client}-{t}"}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("aitrail.sdk", "0.1.0")
        for gen in generations[t * spans:(t + 1) * spans]:
            start = FIXED_NOW_NS - (FIXED_NOW_NS - gen.start_ns) % RECENT_NS
            span = tracer.start_span(f"generation {gen.assistant}", start_time=start, attributes=span_attributes(gen))
            span.end(end_time=start + gen.duration_ns)
        templates.append(encode_spans(exporter.get_finished_spans()))
        provider.shutdown()
    rng = random.Random(SEED * 1000 + client)
    bodies = []
    for r in range(requests):
        request = ExportTraceServiceRequest()
        request.CopyFrom(templates[r % TEMPLATES])
        trace_id = rng.randbytes(16)
        for span in request.resource_spans[0].scope_spans[0].spans:
            span.trace_id = trace_id if rng.random() < 0.5 else rng.randbytes(16)  # some traces hold several
            span.span_id = rng.randbytes(8)
        bodies.append(request.SerializeToString())
    return bodies


# --- the load (client processes) -----------------------------------------------------------------


def _send_http(port: int, bodies: list[bytes], stats: dict[str, Any], signal: str = "traces") -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Content-Type": "application/x-protobuf"}
    for body in bodies:
        while True:
            conn.request("POST", f"/v1/{signal}", body, headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status == 200:
                break
            if response.status in (429, 503):  # the collector asks to slow down: wait as told, send again
                stats["retries"] += 1
                time.sleep(min(float(response.getheader("Retry-After") or 0.05), 0.2))
                continue
            raise RuntimeError(f"HTTP {response.status}: {answer[:200]!r}")
    conn.close()


def _send_grpc(target: str, bodies: list[bytes], stats: dict[str, Any]) -> None:
    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    options = [("grpc.max_send_message_length", 64 << 20)]
    with grpc.insecure_channel(target, options=options) as channel:
        # The generated stub's method, with the request already serialized (built before the clock started).
        export = channel.unary_unary(EXPORT_PATH, request_serializer=None,
                                     response_deserializer=ExportTraceServiceResponse.FromString)
        for body in bodies:
            while True:
                try:
                    export(body, timeout=300)
                    break
                except grpc.RpcError as exc:
                    if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                        stats["retries"] += 1
                        time.sleep(0.05)
                        continue
                    raise


def client_process(protocol: str, target: str, client: int, threads: int, requests_per_thread: int,
                   spans: int, ready: Any, go: Any, results: Any, signal: str = "traces") -> None:
    """One client process: build its bodies (trace or logs requests), say so, wait for the start, send them from
    ``threads`` threads."""
    try:
        from bench import ingest_logs

        build = build_bodies if signal == "traces" else ingest_logs.build_log_bodies
        bodies = build(client, threads * requests_per_thread, spans)
        ready.put(sum(len(b) for b in bodies))
        go.wait()
        stats: dict[str, Any] = {"retries": 0, "errors": []}

        def sender(share: list[bytes]) -> None:
            try:
                if protocol == "http":
                    _send_http(int(target), share, stats, signal)
                else:
                    _send_grpc(target, share, stats)
            except Exception as exc:  # reported to the parent, which fails the benchmark
                stats["errors"].append(repr(exc))

        pool = [threading.Thread(target=sender, args=(bodies[i::threads],)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        stats["done"] = time.monotonic()
        results.put(stats)
    except Exception as exc:
        ready.put(-1)
        results.put({"retries": 0, "errors": [repr(exc)], "done": time.monotonic()})


class Load:
    """Client processes (spawned: no copy of the collector's engine), ready to send on ``start()``."""

    def __init__(self, protocol: str, target: str, processes: int, threads: int, requests_per_thread: int,
                 spans: int, first_client: int, signal: str = "traces") -> None:
        ctx = multiprocessing.get_context("spawn")
        self.ready, self.results, self.go = ctx.Queue(), ctx.Queue(), ctx.Event()
        self.spans = processes * threads * requests_per_thread * spans
        self.procs = [
            ctx.Process(target=client_process, daemon=True,
                        args=(protocol, target, first_client + i, threads, requests_per_thread, spans,
                              self.ready, self.go, self.results, signal))
            for i in range(processes)
        ]
        for proc in self.procs:
            proc.start()
        sizes = [self.ready.get(timeout=600) for _ in self.procs]
        if min(sizes) < 0:
            raise RuntimeError("a client process could not build its requests")
        self.bytes = sum(sizes)

    def start(self) -> float:
        started = time.monotonic()
        self.go.set()
        return started

    def finish(self) -> dict[str, Any]:
        stats = [self.results.get(timeout=600) for _ in self.procs]
        for proc in self.procs:
            proc.join(60)
        errors = [e for s in stats for e in s["errors"]]
        if errors:
            raise RuntimeError(f"the load failed: {errors[:3]}")
        return {"acked": max(s["done"] for s in stats), "retries": sum(s["retries"] for s in stats)}


def wait_count(count: Any, expected: int, timeout: float, sample: Any = None) -> float:
    """Poll ``count()`` until it reaches ``expected``; return when it did (monotonic)."""
    deadline = time.monotonic() + timeout
    while True:
        if sample is not None:
            sample()
        seen = count()
        if seen >= expected:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {seen} of {expected} spans stored after {timeout} s")
        time.sleep(0.02)


# --- end to end through BackgroundCollector ------------------------------------------------------


def _figures(spans: int, seconds: float, cpu: float, acked: float, started: float, retries: int,
             body_bytes: int) -> dict[str, Any]:
    return {
        "spans": spans,
        "seconds": round(seconds, 2),
        "spans_per_s": round(spans / seconds),
        "spans_per_s_acked": round(spans / max(acked - started, 1e-9)),
        "collector_cpu_seconds": round(cpu, 2),
        "spans_per_collector_cpu_s": round(spans / cpu) if cpu > 0 else None,
        "collector_cpu_us_per_span": round(cpu / spans * 1e6, 1),
        "bytes_per_span": round(body_bytes / spans),
        "retries_503": retries,
    }


def through_collector(collector: Any, protocol: str, processes: int, threads: int, requests: int, spans: int,
                      first_client: int, timeout: float) -> dict[str, Any]:
    store = collector.store

    def count() -> int:
        return int(store.query(COUNT_SQL, fmt="TSV", readonly=True))

    before = count()
    target = str(collector.http_port) if protocol == "http" else collector.grpc_endpoint
    load = Load(protocol, target, processes, threads, requests, spans, first_client)
    cpu0 = time.process_time()
    started = load.start()
    stored = wait_count(count, before + load.spans, timeout)
    cpu = time.process_time() - cpu0
    done = load.finish()
    return _figures(load.spans, stored - started, cpu, done["acked"], started, done["retries"], load.bytes)


def check_stub(collector: Any, body: bytes) -> int:
    """One request through the generated TraceService stub (the load then sends bytes on the same method)."""
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    with grpc.insecure_channel(collector.grpc_endpoint, options=[("grpc.max_send_message_length", 64 << 20)]) as ch:
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        reply = trace_service_pb2_grpc.TraceServiceStub(ch).Export(request, timeout=120)
    assert not reply.partial_success.rejected_spans, reply
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


# --- the floor and the stages in-process ---------------------------------------------------------


def parse_floor(bodies: list[bytes], rounds: int) -> dict[str, Any]:
    """Spans per CPU-second to only parse the request bytes: the least any Python collector must do."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    spans = sum(len(ExportTraceServiceRequest.FromString(b).resource_spans[0].scope_spans[0].spans) for b in bodies)
    best = float("inf")
    for _ in range(rounds):
        cpu0 = time.process_time()
        for body in bodies:
            ExportTraceServiceRequest.FromString(body)
        best = min(best, time.process_time() - cpu0)
    return {"spans_per_s": round(spans / best), "us_per_span": round(best / spans * 1e6, 2)}


def _stages(bodies: list[bytes], cfg: Any, times: dict[str, float] | None, signal: str = "traces") -> list[dict[str, Any]]:
    """The pipeline's work on each body of ``signal``, stage by stage (CPU time per stage into ``times``); the
    spooled parts."""
    from aitrail.collector.limits import enforce
    from aitrail.collector.otlp import Limits, decode_request
    from aitrail.collector.pipeline import SPOOL, standard_processors
    from aitrail.collector.processors import IngestContext
    from aitrail.collector.spool import encode_record

    processors = [(type(p).__name__, p) for p in standard_processors(cfg)]  # the collector's, in its order
    context, limits = IngestContext(), Limits(max_body_bytes=64 << 20, max_decompressed_bytes=64 << 20)
    parts = []
    clock = time.thread_time  # this thread's CPU: not the engine's background merges meanwhile

    def timed(stage: str, fn: Any, *args: Any) -> Any:
        started = clock()
        out = fn(*args)
        if times is not None:
            times[stage] += clock() - started
        return out

    for body in bodies:
        request = timed("decode (protobuf)", decode_request, signal, body, "application/x-protobuf", None, limits)
        enforced = timed("item limits", enforce, signal, request, cfg.item_limits)
        for name, processor in processors:
            timed(f"processor: {name}", processor.process, signal, request, context)
        spooled = timed("spool part (the request re-serialized beside its tenant)", SPOOL[signal], request,
                        context.tenant, context.team, enforced.depth)
        timed("spool record (encode)", encode_record, spooled.tables)
        parts.append(spooled.tables)
    return parts


def profile_stages(store: Any, cfg: Any, bodies: list[bytes]) -> dict[str, Any]:
    """Each stage's CPU share, the engine's insert split into the raw table and its views; a cProfile's top
    functions."""
    from aitrail.collector.engine import ingest
    from aitrail.collector.spool import Requests

    _stages(bodies[:1], cfg, None)  # warm: imports, the redaction cache of clean values
    times: dict[str, float] = defaultdict(float)
    merged: dict[str, list[Requests]] = defaultdict(list)
    for parts in _stages(bodies, cfg, times):
        for name, requests in parts.items():
            merged[name].append(requests)
    batch = {name: Requests(b"".join(r.data for r in every), sum(r.num_rows for r in every))
             for name, every in merged.items()}  # the drain stores many requests at once
    spans = sum(requests.num_rows for requests in batch.values())
    store.command("DROP TABLE IF EXISTS aitrail.bench_otel_traces_alone")
    store.command("CREATE TABLE aitrail.bench_otel_traces_alone AS aitrail.otel_traces")
    try:
        started = time.process_time()
        for name, requests in batch.items():
            ingest.insert(store, name, requests, into="bench_otel_traces_alone")
        alone = time.process_time() - started
        started = time.process_time()
        for name, requests in batch.items():
            ingest.insert(store, name, requests)
        full = time.process_time() - started
    finally:
        store.command("DROP TABLE IF EXISTS aitrail.bench_otel_traces_alone")
    times["engine: plan, parse, flatten, insert into otel_traces (ClickHouse)"] = alone
    times["insert: materialized views (ClickHouse)"] = max(full - alone, 0.0)
    total = sum(times.values())
    python = total - full

    profiler = cProfile.Profile()
    profiler.enable()
    _stages(bodies, cfg, None)
    profiler.disable()
    listing = io.StringIO()
    stats = pstats.Stats(profiler, stream=listing)
    grand = sum(row[2] for row in stats.stats.values()) or 1.0  # tottime
    top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:10]
    functions = [
        {"function": f"{Path(file).name}:{line}({name})", "share": round(row[2] / grand, 3),
         "calls": row[1]}
        for (file, line, name), row in top
    ]
    return {
        "spans": spans,
        "stages_us_per_span": {k: round(v / spans * 1e6, 2) for k, v in times.items()},
        "stages_share": {k: round(v / total, 3) for k, v in times.items()},
        "in_process_us_per_span": round(total / spans * 1e6, 1),
        "in_process_spans_per_cpu_s": round(spans / total),
        "python_us_per_span": round(python / spans * 1e6, 1),
        "clickhouse_us_per_span": round((total - python) / spans * 1e6, 1),
        "cprofile_top_python_functions": functions,
    }


# --- the ClickHouse-native floor: ClickHouse parses and flattens the protobuf itself --------------

NATIVE_PROTO = Path(__file__).with_name("otlp_trace.proto")
_ANY_VALUE = ("Tuple(value Enum8('none' = 0, 'string_value' = 1, 'bool_value' = 2, 'int_value' = 3, "
              "'double_value' = 4, 'array_value' = 5, 'kvlist_value' = 6, 'bytes_value' = 7), string_value String, "
              "bool_value Bool, int_value Int64, double_value Float64, array_value String, kvlist_value String, "
              "bytes_value String)")
_KEY_VALUES = f"Array(Tuple(key String, value {_ANY_VALUE}))"
NATIVE_STRUCTURE = (
    f"resource_spans Array(Tuple(resource Tuple(attributes {_KEY_VALUES}), scope_spans Array(Tuple("
    "scope Tuple(name String, version String), spans Array(Tuple(trace_id String, span_id String, "
    "trace_state String, parent_span_id String, name String, kind Int32, start_time_unix_nano UInt64, "
    f"end_time_unix_nano UInt64, attributes {_KEY_VALUES}, status Tuple(message String, code Int32)))))))"
)
# pcommon.Value.AsString for the scalar kinds; arrays and key-value lists stay hex (a floor, not the product).
_AS_STRING = ("(v -> multiIf(v.value = 'string_value', v.string_value, v.value = 'int_value', toString(v.int_value), "
              "v.value = 'bool_value', if(v.bool_value, 'true', 'false'), v.value = 'double_value', "
              "toString(v.double_value), v.value = 'bytes_value', base64Encode(v.bytes_value), "
              "v.value IN ('array_value', 'kvlist_value'), hex(v.array_value || v.kvlist_value), ''))")


def native_select(path: Path) -> str:
    """otel_traces rows from a file of length-delimited ExportTraceServiceRequests, all in ClickHouse SQL."""
    structure = NATIVE_STRUCTURE.replace("'", "\\'")
    return f"""
        SELECT fromUnixTimestamp64Nano(toInt64(sp.start_time_unix_nano)) AS Timestamp,
               lower(hex(sp.trace_id)) AS TraceId, lower(hex(sp.span_id)) AS SpanId,
               if(sp.parent_span_id = '', '', lower(hex(sp.parent_span_id))) AS ParentSpanId,
               sp.trace_state AS TraceState, sp.name AS SpanName,
               ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'][sp.kind + 1] AS SpanKind,
               mapUpdate(mapFromArrays(rs.resource.attributes.key, arrayMap({_AS_STRING}, rs.resource.attributes.value)),
                         map('aitrail.tenant.id', 'default')) AS ResourceAttributes,
               ResourceAttributes['service.name'] AS ServiceName,
               ss.scope.name AS ScopeName, ss.scope.version AS ScopeVersion,
               mapFromArrays(sp.attributes.key, arrayMap({_AS_STRING}, sp.attributes.value)) AS SpanAttributes,
               sp.end_time_unix_nano - sp.start_time_unix_nano AS Duration,
               ['Unset', 'Ok', 'Error'][sp.status.code + 1] AS StatusCode, sp.status.message AS StatusMessage
        FROM file('{path}', Protobuf, '{structure}')
        ARRAY JOIN resource_spans AS rs ARRAY JOIN rs.scope_spans AS ss ARRAY JOIN ss.spans AS sp
        SETTINGS format_schema = '{NATIVE_PROTO}:ExportTraceServiceRequest', input_format_protobuf_oneof_presence = 1"""


def requests_file(bodies: list[bytes], scratch: Path) -> Path:
    """The bodies as one file of length-delimited messages, as ClickHouse's Protobuf format reads them."""
    from aitrail.collector.engine.schema import length_delimited

    path = scratch / "bodies.protobuf"
    path.write_bytes(length_delimited(bodies))
    return path


def clickhouse_native(store: Any, bodies: list[bytes], scratch: Path, rounds: int) -> dict[str, Any]:
    """What moving decoding into ClickHouse would cost at best: the same bodies parsed by ClickHouse's
    Protobuf format and flattened in SQL (scalar attribute values only: no limits, aliases, redaction,
    arrays as JSON), alone and then inserted into otel_traces with its materialized views."""
    path = requests_file(bodies, scratch)
    select = native_select(path)
    columns = ("Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ResourceAttributes, "
               "ServiceName, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage")
    spans = int(store.query(f"SELECT count() FROM ({select})", fmt="TSV"))
    parse, insert = float("inf"), float("inf")
    for _ in range(rounds):
        started = time.process_time()
        store.query(f"SELECT count() FROM ({select}) WHERE NOT ignore(*)", fmt="TSV")
        parse = min(parse, time.process_time() - started)
        started = time.process_time()
        store.command(f"INSERT INTO aitrail.otel_traces ({columns}) {select}")
        insert = min(insert, time.process_time() - started)
    return {
        "spans": spans,
        "parse_and_flatten_us_per_span": round(parse / spans * 1e6, 2),
        "parse_flatten_insert_us_per_span": round(insert / spans * 1e6, 2),
        "spans_per_cpu_s": round(spans / insert),
    }


def engine_path(store: Any, bodies: list[bytes], scratch: Path, rounds: int) -> dict[str, Any]:
    """The engine's ingest SQL (``aitrail.collector.engine.traces``) on the same bodies, spooled as the collector
    spools them (beside their tenant): the statement the drain runs per batch, at full fidelity (every value type
    rendered as the exporter does, the tenant stamp, refused ids), alone and inserted.

    These requests go to the common statement (values two levels deep); the deep one is measured on the same
    requests for comparison. Each statement costs a fixed planning time besides its per-span work: both are
    measured, from one body and from all of them; the insert into the raw table alone (a copy without views)
    tells the table's cost from its views'."""
    from aitrail.collector.engine import traces
    from aitrail.collector.engine.schema import spooled

    columns = ", ".join(f"`{c}`" for c in traces.COLUMNS)
    settings = traces.settings()

    def cpu(sql: str) -> float:
        best = float("inf")
        for _ in range(rounds):
            started = time.process_time()
            store.command(sql)
            best = min(best, time.process_time() - started)
        return best

    store.command("DROP TABLE IF EXISTS aitrail.bench_engine_alone")
    store.command("CREATE TABLE aitrail.bench_engine_alone AS aitrail.otel_traces")
    figures: dict[str, dict[str, float]] = {}
    try:
        for name, some in (("one", bodies[:1]), ("all", bodies)):
            path = scratch / "spooled.protobuf"
            path.write_bytes(b"".join(spooled(body, "default", None) for body in some))
            common = traces.select_sql(traces.source(str(path)))
            deep = traces.select_sql(traces.source(str(path), deep=True), deep=True)
            figures[name] = {
                "spans": int(store.query(f"SELECT count() FROM ({common}) {settings}", fmt="TSV")),
                "parse": cpu(f"SELECT count() FROM ({common}) WHERE NOT ignore(*) {settings}"),
                "alone": cpu(f"INSERT INTO aitrail.bench_engine_alone ({columns}) {common} {settings}"),
                "insert": cpu(f"INSERT INTO aitrail.otel_traces ({columns}) {common} {settings}"),
                "deep": cpu(f"INSERT INTO aitrail.otel_traces ({columns}) {deep} {settings}"),
            }
    finally:
        store.command("DROP TABLE IF EXISTS aitrail.bench_engine_alone")
    one, every = figures["one"], figures["all"]
    spans = int(every["spans"])
    extra = max(spans - one["spans"], 1)

    def per_span(stage: str) -> float:
        return max(every[stage] - one[stage], 0.0) / extra

    def planning(stage: str) -> float:
        return round(max(one[stage] - per_span(stage) * one["spans"], 0.0), 3)

    return {
        "spans": spans,
        "parse_and_flatten_us_per_span": round(per_span("parse") * 1e6, 2),
        "flatten_insert_raw_table_only_us_per_span": round(per_span("alone") * 1e6, 2),
        "parse_flatten_insert_us_per_span": round(per_span("insert") * 1e6, 2),
        "deep_statement_us_per_span": round(per_span("deep") * 1e6, 2),
        "planning_s_per_statement": planning("insert"),
        "planning_s_deep_statement": planning("deep"),
        "spans_per_cpu_s": round(spans / every["insert"]),
        "spans_per_cpu_s_without_planning": round(1 / per_span("insert")) if per_span("insert") else None,
    }


# --- memory: aitrail serve in a subprocess -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1])  # kB
    return out


def _stat_cpu(stat: Path) -> float:
    """utime + stime of a /proc stat file (a process's or one thread's), in seconds."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    return _stat_cpu(Path(f"/proc/{pid}/stat"))


def _thread_cpu(pid: int) -> dict[str, tuple[str, float]]:
    """Thread id -> (thread name, CPU seconds): Python's threads are all named "python"; the engine names its own."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[task.name] = ((task / "comm").read_text().strip(), _stat_cpu(task / "stat"))
        except OSError:  # the thread ended meanwhile
            continue
    return out


def cpu_by_thread(before: dict[str, tuple[str, float]], after: dict[str, tuple[str, float]],
                  spans: int) -> dict[str, float]:
    """µs of CPU per span by thread name, largest first: where the live collector's CPU goes.

    "python" is the collector's own threads (receivers, pipeline, spool, and the engine's work
    when a Python thread calls it, such as an INSERT); "ThreadPool" the engine's query threads
    (insert pipelines, materialized views); "MergeMutate" its background merges.
    """
    spent: dict[str, float] = defaultdict(float)
    for tid, (name, cpu) in after.items():
        spent[name] += cpu - before.get(tid, (name, 0.0))[1]
    return {name: round(cpu / spans * 1e6, 1) for name, cpu in sorted(spent.items(), key=lambda kv: -kv[1])
            if cpu / spans * 1e6 >= 0.5}


def memory_under_load(scratch: Path, processes: int, threads: int, requests: int, spans: int,
                      items: str = "traces") -> dict[str, Any]:
    """``aitrail serve`` on its own store; maximum load of ``items`` requests (traces or logs) from client processes; its VmHWM and
    VmRSS ("spans" in the figures are the requests' items: log records for logs)."""
    http_port, sql_port = _free_port(), _free_port()
    log = scratch / "serve.log"
    argv = [sys.executable, "-c", "from aitrail.cli import main; main()", "serve", "--data-dir", str(scratch / f"serve-{items}"),
            "--http-port", str(http_port), "--grpc-port", "0", "--sql-port", str(sql_port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"aitrail serve exited: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        query = urllib.parse.quote(COUNT_SQL.replace("otel_traces", f"otel_{items}"))

        def count() -> int:
            with urllib.request.urlopen(f"http://127.0.0.1:{sql_port}/?query={query}", timeout=30) as response:
                return int(response.read())

        idle = _status(proc.pid)
        rss: list[int] = []
        load = Load("http", str(http_port), processes, threads, requests, spans, first_client=200, signal=items)
        cpu0, threads0 = _cpu_seconds(proc.pid), _thread_cpu(proc.pid)
        started = load.start()
        stored = wait_count(count, load.spans, 1800, sample=lambda: rss.append(_status(proc.pid)["VmRSS"]))
        cpu, threads1 = _cpu_seconds(proc.pid) - cpu0, _thread_cpu(proc.pid)
        done = load.finish()
        after = _status(proc.pid)
        figures = _figures(load.spans, stored - started, cpu, done["acked"], started, done["retries"], load.bytes)
        return {
            **figures,
            "vm_hwm_mib": round(after["VmHWM"] / 1024, 1),
            "vm_rss_max_sampled_mib": round(max(rss) / 1024, 1),
            "vm_rss_idle_mib": round(idle["VmRSS"] / 1024, 1),
            "vm_rss_after_mib": round(after["VmRSS"] / 1024, 1),
            "cpu_us_per_span_by_thread": cpu_by_thread(threads0, threads1, load.spans),
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the benchmark -------------------------------------------------------------------------------


def work(quick: bool, echo: bool) -> dict[str, Any]:
    from aitrail.collector.config import CollectorConfig

    from bench import ingest_logs
    from aitrail.collector.server import BackgroundCollector
    from aitrail.collector.store import StoreLocation

    processes, threads = (1, 2) if quick else (2, 2)
    spans = 50 if quick else SPANS_PER_REQUEST
    requests = 2 if quick else 50  # per client thread: 200,000 spans per protocol
    scratch = Path(tempfile.mkdtemp(prefix="aitrail-bench-ingest-"))
    result: dict[str, Any] = {"clients": f"{processes} processes x {threads} threads, keep-alive",
                              "spans_per_request": spans}
    try:
        bodies = build_bodies(100, 4 if quick else 20, spans)
        result["floor_parse_only"] = parse_floor(bodies, 3 if quick else 7)
        cfg = CollectorConfig(location=StoreLocation(data_dir=scratch / "store"), spool_dir=scratch / "spool",
                              http_port=0, grpc_port=0, sql_port=0)
        with BackgroundCollector(cfg) as collector:
            warm = check_stub(collector, build_bodies(99, 1, spans)[0])  # also warms the path
            wait_count(lambda: int(collector.store.query(COUNT_SQL, fmt="TSV", readonly=True)), warm, 120)
            # In-process stages first, while the engine has no background work (merges) of its own.
            result["profile"] = profile_stages(collector.store, cfg, bodies)
            result["clickhouse_native"] = clickhouse_native(collector.store, bodies, scratch, 2 if quick else 3)
            result["engine_path"] = engine_path(collector.store, bodies, scratch, 2 if quick else 3)
            for protocol, first_client in (("http", 0), ("grpc", 10)):
                if echo:
                    print(f"  ingest over {protocol} ...", file=sys.stderr, flush=True)
                result[protocol] = through_collector(collector, protocol, processes, threads, requests, spans,
                                                     first_client, timeout=1800)
            if echo:
                print("  logs in-process ...", file=sys.stderr, flush=True)
            result["logs"] = ingest_logs.in_process(collector.store, cfg, scratch, quick)
        if echo:
            print("  collector memory under sustained load (aitrail serve) ...", file=sys.stderr, flush=True)
        result["serve_memory"] = memory_under_load(scratch, processes, threads, requests * 3 // 2 if not quick else 2,
                                                   spans)
        if echo:
            print("  logs through aitrail serve ...", file=sys.stderr, flush=True)
        records = 50 if quick else ingest_logs.LOG_RECORDS_PER_REQUEST
        result["logs"]["serve"] = memory_under_load(scratch, processes, threads, requests if not quick else 2, records,
                                                    items="logs")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def run(quick: bool = False, echo: bool = True) -> dict[str, Any]:
    result = isolated.in_subprocess("bench.ingest", quick, echo)
    floor = result["floor_parse_only"]["spans_per_s"]
    for protocol in ("http", "grpc"):
        figures = result[protocol]
        figures["ratio_to_parse_floor"] = round(figures["spans_per_s"] / floor, 3)
        figures["met_target_per_core"] = (figures["spans_per_collector_cpu_s"] or 0) >= TARGET_PER_CORE
    result["baselines"] = {
        "target_spans_per_s_per_core": TARGET_PER_CORE,
        "jaeger_clickhouse_spans_per_s": JAEGER_SPANS_PER_S, "jaeger_cores": JAEGER_CORES,
        "jaeger_clickhouse_spans_per_s_per_core": JAEGER_SPANS_PER_S // JAEGER_CORES,
        "otelcol_contrib_clickhouse_log_records_per_s_per_core": CONTRIB_LOGS_PER_CORE,
    }
    if echo:
        for protocol, name in (("http", "OTLP/HTTP protobuf"), ("grpc", "OTLP/gRPC")):
            f = result[protocol]
            print(f"ingest {name}: {f['spans_per_s']:,} spans/s end to end, stored and queryable "
                  f"({f['spans_per_s_acked']:,}/s acknowledged), {f['spans_per_collector_cpu_s']:,} spans per collector "
                  f"CPU-second ({f['collector_cpu_us_per_span']} µs/span, {f['bytes_per_span']} B/span) vs "
                  f"{floor:,} spans/s only parsing the same bytes (ratio {f['ratio_to_parse_floor']}); "
                  f"target >= {TARGET_PER_CORE:,}/s per core: {'met' if f['met_target_per_core'] else 'not met'}; "
                  f"Jaeger ClickHouse ~{JAEGER_SPANS_PER_S:,} spans/s on {JAEGER_CORES} cores "
                  f"(~{JAEGER_SPANS_PER_S // JAEGER_CORES:,}/core), contrib exporter ~{CONTRIB_LOGS_PER_CORE:,} "
                  f"log records/s per core")
        p = result["profile"]
        shares = ", ".join(f"{k} {v:.0%}" for k, v in sorted(p["stages_share"].items(), key=lambda kv: -kv[1]))
        print(f"ingest, where a span's time goes in-process ({p['in_process_us_per_span']} µs/span: "
              f"{p['python_us_per_span']} Python + {p['clickhouse_us_per_span']} ClickHouse; "
              f"{p['in_process_spans_per_cpu_s']:,} spans per CPU-second): {shares}")
        print("  top Python functions (cProfile, own time): " + ", ".join(
            f"{f['function']} {f['share']:.0%}" for f in p["cprofile_top_python_functions"][:6]))
        n = result["clickhouse_native"]
        print(f"ingest, ClickHouse-native floor (ClickHouse parses the same protobuf and flattens it in SQL; scalar "
              f"values only, no limits, aliases or redaction): {n['parse_and_flatten_us_per_span']} µs/span to parse "
              f"and flatten, {n['parse_flatten_insert_us_per_span']} µs/span with the insert and its views = "
              f"{n['spans_per_cpu_s']:,} spans per CPU-second, vs {p['in_process_us_per_span']} µs/span the collector's way")
        e = result["engine_path"]
        print(f"ingest, the engine's ingest SQL at full fidelity (every value type as the exporter writes it, tenant "
              f"stamp, refused ids), one batch of {e['spans']:,} spans: the common statement plans in "
              f"{e['planning_s_per_statement']} s CPU, then {e['parse_and_flatten_us_per_span']} µs/span to parse and "
              f"flatten, {e['flatten_insert_raw_table_only_us_per_span']} µs/span into the raw table alone, "
              f"{e['parse_flatten_insert_us_per_span']} µs/span with its views; {e['spans_per_cpu_s']:,} spans per "
              f"CPU-second ({round(e['spans_per_cpu_s'] / n['spans_per_cpu_s'], 2)} of the floor), "
              f"{e['spans_per_cpu_s_without_planning']:,} without planning; the deep statement (for requests whose "
              f"values nest deeper, rare) plans in {e['planning_s_deep_statement']} s, "
              f"{e['deep_statement_us_per_span']} µs/span")
        m = result["serve_memory"]
        print(f"collector memory (aitrail serve) under sustained maximum ingest of {m['spans']:,} spans "
              f"({m['spans_per_s']:,} spans/s, {m['spans_per_collector_cpu_s']:,} spans per CPU-second): "
              f"VmHWM {m['vm_hwm_mib']} MiB, VmRSS up to {m['vm_rss_max_sampled_mib']} MiB "
              f"(idle {m['vm_rss_idle_mib']} MiB, after {m['vm_rss_after_mib']} MiB); its CPU per span by thread: "
              + ", ".join(f"{name} {us} µs" for name, us in m["cpu_us_per_span_by_thread"].items()))
        from bench import ingest_logs

        ingest_logs.report(result["logs"])
    return result


def main() -> None:
    isolated.main(__doc__, work, run)


if __name__ == "__main__":
    main()
