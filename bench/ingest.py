"""Ingest: OTLP spans of AI generations from request bytes to rows queryable in ClickHouse.

Two workloads (:data:`WORKLOADS`), as issue 15 names them: the aitrail SDK's generation spans
(``ExportTraceServiceRequest``, 1,000 spans each, with the ~28 attributes the SDK sends: prompt text, tokens,
cost, repository, file, line fingerprints, identity) and plain GenAI client spans (2,000 each, the 15 attributes
of the GenAI semantic conventions an instrumented model client sends). Request bodies are built up front by the
OpenTelemetry SDK and the OTLP encoder, deterministically, inside the client processes, which then send them
together over keep-alive connections — OTLP/HTTP protobuf (``http.client``) or OTLP/gRPC (the generated
``TraceService`` stub checks the path; the load then sends the same serialized bytes on that method) — to a real
collector (every answer comes after the durable spool). The clock stops when ``SELECT count()`` on
``otel_traces`` sees every span (``ai_generations`` is filled in the same insert). Clients run in processes of
their own, so their GIL is not the collector's.

Figures, each beside its baseline from the same run:

* the issue's target: spans per CPU-second of a live ``aitrail serve`` subprocess (all its threads, its engine
  included) under sustained maximum load of each workload, against the 2,006 before the engine and against the
  ClickHouse-native floor on the same workload; its CPU per span by thread, its VmHWM and VmRSS; beside it the
  same load against the same collector without its item limits and processors (:func:`without_item_checks`, a
  bench-only patch): the ceiling of this receive path, and what the checks cost live;
* the ClickHouse-native floor: ClickHouse parses the same bodies (``otlp_trace.proto``) and flattens them in SQL
  of its own, arrays of scalars rendered as the exporter's JSON (so the views do a real row's work: the
  fingerprints), inserted with the views; beside it the floor with arrays as hex, as first measured;
* spans/s end to end and per collector CPU-second in-process (``BackgroundCollector``), over both protocols; the
  floor of only parsing the same bytes (``ExportTraceServiceRequest.FromString``);
* where the time goes: the pipeline stages run in-process on the same bodies (decode, item limits, each
  processor, the request beside its tenant (its bytes as sent unless changed), the spool record, the engine's statement into
  ``otel_traces`` alone and with its materialized views), each stage's share of CPU time, and the top
  functions of a cProfile; the collector's ingest SQL (``aitrail.collector.engine.traces``) parsed and flattened
  alone and inserted, with its planning time; the engine's costs part by part (the raw table's skip indexes,
  each materialized view on the rows its source receives).

The issue's targets and published figures are printed beside ours: >= 100,000 spans/s on one collector
core; Jaeger's ClickHouse storage ~52,000 spans/s on 4 cores; the OpenTelemetry Collector (contrib)
ClickHouse exporter ~40,000 log records/s per core.

chDB opens one data directory per process: the work runs in a subprocess (``python -m bench.ingest``).
"""

from __future__ import annotations

import contextlib
import cProfile
import http.client
import io
import json
import multiprocessing
import os
import pstats
import queue
import re
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import isolated
from bench.queries import settle

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
BEFORE_ENGINE_SPANS_PER_CPU_S = 2_006
"""The live collector before ingest moved into the engine (the Python flattener, bench spans over OTLP/HTTP;
docs/performance.md): the issue's baseline, which the code of this tree can no longer measure."""
TARGET_TIMES_BEFORE = 10
TARGET_OF_FLOOR = 0.8


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


Span = tuple[str, Any, int, int, dict[str, object]]
"""What a workload makes of a span: name, kind, start (Unix ns), duration (ns), attributes."""


def generation_spans(client: int, count: int) -> list[Span]:
    """The aitrail SDK's generation spans (~28 attributes: prompt text, tokens, cost, repository, file, the line
    fingerprints, who asked)."""
    from opentelemetry.trace import SpanKind

    from aitrail.demo.activity import generate_activity

    return [(f"generation {gen.assistant}", SpanKind.INTERNAL, gen.start_ns, gen.duration_ns, span_attributes(gen))
            for gen in generate_activity(count=count, days=7, seed=SEED + client, now_ns=FIXED_NOW_NS)]


GENAI_MODELS = [("openai", "gpt-4o-2024-08-06", "api.openai.com"), ("anthropic", "claude-sonnet-4-5", "api.anthropic.com"),
                ("gcp.gemini", "gemini-2.5-pro", "generativelanguage.googleapis.com"), ("openai", "gpt-4o-mini", "api.openai.com")]


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def genai_spans(client: int, count: int) -> list[Span]:
    """Plain GenAI client spans as an instrumented model client sends them (the OpenTelemetry GenAI semantic
    conventions, 15 attributes: no prompt, no file, no fingerprints; tokens without cost, so the price table
    estimates it): what most senders that are not the aitrail SDK look like."""
    import random

    from opentelemetry.trace import SpanKind

    from aitrail.sdk import vocabulary as v

    rng = random.Random(SEED * 7 + client)
    out: list[Span] = []
    for i in range(count):
        provider, model, host = rng.choice(GENAI_MODELS)
        attributes: dict[str, object] = {
            v.GEN_AI_OPERATION_NAME: "chat",
            v.GEN_AI_PROVIDER_NAME: provider,
            v.GEN_AI_REQUEST_MODEL: model,
            v.GEN_AI_RESPONSE_MODEL: model,
            v.GEN_AI_RESPONSE_ID: "chatcmpl-" + "".join(rng.choices(_BASE62, k=29)),  # OpenAI's shape
            v.GEN_AI_RESPONSE_FINISH_REASONS: [rng.choice(["stop", "stop", "length", "tool_calls"])],
            v.GEN_AI_USAGE_INPUT_TOKENS: rng.randrange(200, 12000),
            v.GEN_AI_USAGE_OUTPUT_TOKENS: rng.randrange(20, 3000),
            v.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: rng.randrange(0, 4000),
            v.GEN_AI_CONVERSATION_ID: f"conv-{client}-{i // 8}",
            # the semantic conventions' names the product does not read: sent, stored, never derived from
            "gen_ai.request.max_tokens": 4096,
            "gen_ai.request.temperature": rng.choice([0.0, 0.2, 0.7, 1.0]),
            "gen_ai.request.top_p": 1.0,
            "server.address": host,
            "server.port": 443,
        }
        start = FIXED_NOW_NS - rng.randrange(60, RECENT_NS // 1_000_000_000) * 1_000_000_000
        out.append((f"chat {model}", SpanKind.CLIENT, start, rng.randrange(300, 30_000) * 1_000_000, attributes))
    return out


WORKLOADS: dict[str, tuple[str, tuple[str, str], Any]] = {
    "generations": ("aitrail-sdk", ("aitrail.sdk", "0.1.0"), generation_spans),
    "genai": ("chat-service", ("opentelemetry.instrumentation.openai_v2", "2.1b0"), genai_spans),
}
"""The issue's two workloads: name -> (service.name, instrumentation scope, the spans' maker)."""
SPANS_PER_REQUEST_OF = {"generations": SPANS_PER_REQUEST, "genai": 2 * SPANS_PER_REQUEST}


def build_bodies(client: int, requests: int, spans: int, workload: str = "generations") -> list[bytes]:
    """``requests`` serialized ExportTraceServiceRequests of ``spans`` spans of ``workload`` (:data:`WORKLOADS`), or
    ExportLogsServiceRequests of ``spans`` records for the ``logs`` workload: the same every run."""
    if workload == "logs":
        from bench import ingest_logs

        return ingest_logs.build_log_bodies(client, requests, spans)
    import random

    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    templates = []
    service, scope, make = WORKLOADS[workload]
    spans_of = make(client, spans * TEMPLATES)
    for t in range(TEMPLATES):
        # The OpenTelemetry SDK and the OTLP exporters' encoder make the request, as an SDK user's process does.
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource({
            "service.name": service, "telemetry.sdk.language": "python", "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": "1.45.2", "host.name": f"laptop-{client}-{t}"}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer(*scope)
        for name, kind, start, duration, attributes in spans_of[t * spans:(t + 1) * spans]:
            start = FIXED_NOW_NS - (FIXED_NOW_NS - start) % RECENT_NS
            span = tracer.start_span(name, kind=kind, start_time=start, attributes=attributes)
            span.end(end_time=start + duration)
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
                   spans: int, ready: Any, go: Any, results: Any, workload: str = "generations") -> None:
    """One client process: build its bodies, say so, wait for the start, send them from ``threads`` threads."""
    try:
        bodies = build_bodies(client, threads * requests_per_thread, spans, workload)
        ready.put(sum(len(b) for b in bodies))
        go.wait()
        stats: dict[str, Any] = {"retries": 0, "errors": []}

        def sender(share: list[bytes]) -> None:
            try:
                if protocol == "http":
                    _send_http(int(target), share, stats, "logs" if workload == "logs" else "traces")
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
                 spans: int, first_client: int, workload: str = "generations") -> None:
        ctx = multiprocessing.get_context("spawn")
        self.ready, self.results, self.go = ctx.Queue(), ctx.Queue(), ctx.Event()
        self.spans = processes * threads * requests_per_thread * spans
        self.procs = [
            ctx.Process(target=client_process, daemon=True,
                        args=(protocol, target, first_client + i, threads, requests_per_thread, spans,
                              self.ready, self.go, self.results, workload))
            for i in range(processes)
        ]
        for proc in self.procs:
            proc.start()
        sizes = [self.ready.get(timeout=600) for _ in self.procs]
        if min(sizes) < 0:
            raise RuntimeError("a client process could not build its requests")
        self.bytes = sum(sizes)
        self._stats: list[dict[str, Any]] = []

    def start(self) -> float:
        started = time.monotonic()
        self.go.set()
        return started

    def failure(self) -> str | None:
        """What the client processes that are done reported failing (without waiting for the others): the rows
        they did not send will never be stored, so the bench stops instead of waiting out its timeout."""
        while len(self._stats) < len(self.procs):
            try:
                self._stats.append(self.results.get_nowait())
            except queue.Empty:
                break
        errors = [e for s in self._stats for e in s["errors"]]
        return f"the load failed: {errors[:3]}" if errors else None

    def finish(self) -> dict[str, Any]:
        while len(self._stats) < len(self.procs):
            self._stats.append(self.results.get(timeout=600))
        for proc in self.procs:
            proc.join(60)
        why = self.failure()
        if why:
            raise RuntimeError(why)
        stats = self._stats
        return {"acked": max(s["done"] for s in stats), "retries": sum(s["retries"] for s in stats)}


POLL_SECONDS = 0.25
"""How often the bench asks the collector how many rows it stored. Each ask is a query the collector answers
(through the SQL endpoint: its guard parses the statement with two more queries), and its CPU is counted as the
collector's: at every 20 ms, as before, answering cost 0.135 CPU-seconds per second, about 10 µs of the ~110
charged to each span. Every 250 ms it is under 1 µs, and the end-to-end time is known within 0.25 s of a run
of 15 s or more."""


def wait_count(count: Any, expected: int, timeout: float, sample: Any = None, failed: Any = None) -> float:
    """Poll ``count()`` every :data:`POLL_SECONDS` until it reaches ``expected``; return when it did
    (monotonic). ``failed()``: why the count will never come (the load failed), else None."""
    deadline = time.monotonic() + timeout
    while True:
        if sample is not None:
            sample()
        why = failed() if failed is not None else None
        if why:
            raise RuntimeError(why)
        seen = count()
        if seen >= expected:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {seen} of {expected} spans stored after {timeout} s")
        time.sleep(POLL_SECONDS)


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
    stored = wait_count(count, before + load.spans, timeout, failed=load.failure)
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
    from aitrail.collector.otlp import Limits, decode
    from aitrail.collector.pipeline import SPOOL, run_processors, standard_processors
    from aitrail.collector.processors import IngestContext
    from aitrail.collector.spool import encode_record

    processors = standard_processors(cfg)  # the collector's, in its order
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
        request, sent = timed("decode (protobuf)", decode, signal, body, "application/x-protobuf", None, limits)
        enforced = timed("item limits", enforce, signal, request, cfg.item_limits, sent)
        as_sent = enforced.as_sent
        changed, model_calls = run_processors(
            processors, signal, request, context, sent,
            lambda processor, *args: timed(f"processor: {type(processor).__name__}", processor.process, *args))
        as_sent = as_sent and not changed
        spooled = timed("spool part (the request beside its tenant: as sent, or serialized again if changed)",
                        SPOOL[signal], request, context.tenant, context.team, enforced.depth, sent if as_sent else None,
                        model_calls)
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
    batch = {name: Requests.concat(every) for name, every in merged.items()}  # the drain stores many at once
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
_KINDS = ("Enum8('none' = 0, 'string_value' = 1, 'bool_value' = 2, 'int_value' = 3, 'double_value' = 4, "
          "'array_value' = 5, 'kvlist_value' = 6, 'bytes_value' = 7)")
_SCALARS = "string_value String, bool_value Bool, int_value Int64, double_value Float64"
_ITEM_VALUE = f"Tuple(value {_KINDS}, {_SCALARS}, array_value String, kvlist_value String, bytes_value String)"
_ANY_VALUE = (f"Tuple(value {_KINDS}, {_SCALARS}, array_value Tuple(values Array({_ITEM_VALUE})), "
              "kvlist_value String, bytes_value String)")
_KEY_VALUES = f"Array(Tuple(key String, value {_ANY_VALUE}))"
NATIVE_STRUCTURE = (
    f"resource_spans Array(Tuple(resource Tuple(attributes {_KEY_VALUES}), scope_spans Array(Tuple("
    "scope Tuple(name String, version String), spans Array(Tuple(trace_id String, span_id String, "
    "trace_state String, parent_span_id String, name String, kind Int32, start_time_unix_nano UInt64, "
    f"end_time_unix_nano UInt64, attributes {_KEY_VALUES}, status Tuple(message String, code Int32)))))))"
)


def _scalar(v: str, string: str) -> str:
    """pcommon.Value.AsString of a scalar ``v``, a string rendered by ``string`` (no Go escaping, no NaN text)."""
    return (f"multiIf({v}.value = 'string_value', {string}, {v}.value = 'int_value', toString({v}.int_value), "
            f"{v}.value = 'bool_value', if({v}.bool_value, 'true', 'false'), {v}.value = 'double_value', "
            f"toString({v}.double_value), {v}.value = 'bytes_value', base64Encode({v}.bytes_value), ")


def _as_string(arrays: bool) -> str:
    """A lambda: an attribute value as text. ``arrays``: an array of scalars as the exporter's JSON (``[1,2]``,
    ``["a"]``), as a real row has it; else arrays and lists as hex, which no view reads (the floor as first
    measured, whose generations carried no fingerprints)."""
    if arrays:
        item = _scalar("i", "toJSONString(i.string_value)") + "'null')"
        array = f"concat('[', arrayStringConcat(arrayMap(i -> {item}, v.array_value.values), ','), ']')"
    else:
        array = "hex(v.kvlist_value)"
    return f"(v -> {_scalar('v', 'v.string_value')}v.value = 'array_value', {array}, hex(v.kvlist_value)))"


def native_select(path: Path, arrays: bool = True) -> str:
    """otel_traces rows from a file of length-delimited ExportTraceServiceRequests, all in ClickHouse SQL
    (``arrays``: see :func:`_as_string`)."""
    structure = NATIVE_STRUCTURE.replace("'", "\\'")
    as_string = _as_string(arrays)
    return f"""
        SELECT fromUnixTimestamp64Nano(toInt64(sp.start_time_unix_nano)) AS Timestamp,
               lower(hex(sp.trace_id)) AS TraceId, lower(hex(sp.span_id)) AS SpanId,
               if(sp.parent_span_id = '', '', lower(hex(sp.parent_span_id))) AS ParentSpanId,
               sp.trace_state AS TraceState, sp.name AS SpanName,
               ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'][sp.kind + 1] AS SpanKind,
               mapUpdate(mapFromArrays(rs.resource.attributes.key, arrayMap({as_string}, rs.resource.attributes.value)),
                         map('aitrail.tenant.id', 'default')) AS ResourceAttributes,
               ResourceAttributes['service.name'] AS ServiceName,
               ss.scope.name AS ScopeName, ss.scope.version AS ScopeVersion,
               mapFromArrays(sp.attributes.key, arrayMap({as_string}, sp.attributes.value)) AS SpanAttributes,
               sp.end_time_unix_nano - sp.start_time_unix_nano AS Duration,
               ['Unset', 'Ok', 'Error'][sp.status.code + 1] AS StatusCode, sp.status.message AS StatusMessage
        FROM file('{path}', Protobuf, '{structure}')
        ARRAY JOIN resource_spans AS rs ARRAY JOIN rs.scope_spans AS ss ARRAY JOIN ss.spans AS sp
        SETTINGS format_schema = '{NATIVE_PROTO}:ExportTraceServiceRequest', input_format_protobuf_oneof_presence = 1"""


def requests_file(bodies: list[bytes], scratch: Path) -> Path:
    """The bodies as one file of length-delimited messages, as ClickHouse's Protobuf format reads them."""
    from aitrail.collector.engine.schema import length_delimited

    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / "bodies.protobuf"
    path.write_bytes(length_delimited(bodies))
    return path


NATIVE_COLUMNS = ("Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ResourceAttributes, "
                  "ServiceName, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage")
FINGERPRINTED_SQL = "SELECT countIf(notEmpty(line_fingerprints)) FROM aitrail.ai_generations"


def clickhouse_native(store: Any, bodies: list[bytes], scratch: Path, rounds: int, arrays: bool = True) -> dict[str, Any]:
    """What moving decoding into ClickHouse would cost at best: the same bodies parsed by ClickHouse's
    Protobuf format and flattened in SQL (no limits, aliases, redaction, Go's escaping; ``arrays``: an array of
    scalars rendered as the exporter's JSON, so the views do a real row's work), alone and then inserted into
    otel_traces with its materialized views. Also how many of the generations the views made carry fingerprints
    (what tells a fair floor from one whose rows skip the views' costliest work)."""
    # The same statement over one body tells its fixed cost (planning, mostly the views') from its cost per span.
    # Each side starts at rest: process time counts every thread, the background merges of what came before too.
    settle(store)
    one = native_select(requests_file(bodies[:1], scratch / "one"), arrays)
    one_spans = int(store.query(f"SELECT count() FROM ({one})", fmt="TSV"))
    one_insert = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        store.command(f"INSERT INTO aitrail.otel_traces ({NATIVE_COLUMNS}) {one}")
        one_insert = min(one_insert, time.process_time() - started)
    settle(store)
    path = requests_file(bodies, scratch)
    select = native_select(path, arrays)
    spans = int(store.query(f"SELECT count() FROM ({select})", fmt="TSV"))
    parse, insert = float("inf"), float("inf")
    fingerprinted = -int(store.query(FINGERPRINTED_SQL, fmt="TSV"))
    for _ in range(rounds):
        started = time.process_time()
        store.query(f"SELECT count() FROM ({select}) WHERE NOT ignore(*)", fmt="TSV")
        parse = min(parse, time.process_time() - started)
        started = time.process_time()
        store.command(f"INSERT INTO aitrail.otel_traces ({NATIVE_COLUMNS}) {select}")
        insert = min(insert, time.process_time() - started)
    fingerprinted += int(store.query(FINGERPRINTED_SQL, fmt="TSV"))
    marginal = max(insert - one_insert, 0.0) / max(spans - one_spans, 1)
    return {
        "spans": spans,
        "parse_and_flatten_us_per_span": round(parse / spans * 1e6, 2),
        "parse_flatten_insert_us_per_span": round(insert / spans * 1e6, 2),
        "spans_per_cpu_s": round(spans / insert),
        "fixed_s_per_statement": round(max(one_insert - marginal * one_spans, 0.0), 3),
        "spans_per_cpu_s_without_planning": round(1 / marginal) if marginal else None,
        "generations_with_fingerprints_per_round": fingerprinted // rounds,
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
            settle(store)  # (see clickhouse_native)
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
        "planning_s_raw_table_alone": planning("alone"),
        "planning_s_deep_statement": planning("deep"),
        "spans_per_cpu_s": round(spans / every["insert"]),
        "spans_per_cpu_s_without_planning": round(1 / per_span("insert")) if per_span("insert") else None,
    }


# --- where the engine's time goes: the raw table's skip indexes, each materialized view --------------

RAW_SOURCES = ("otel_traces", "ai_generations", "ai_cost_estimates", "ai_commits")
"""The tables materialized views read: each view is timed on a copy of the rows its source received."""


def _best_cpu(store: Any, setup: list[str], statement: str, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        for sql in setup:
            store.command(sql)
        started = time.process_time()
        store.command(statement)
        best = min(best, time.process_time() - started)
    return best


def _fresh_copy(store: Any, table: str, name: str, drop_indexes: tuple[str, ...] = ()) -> list[str]:
    """Statements making ``name`` an empty copy of ``table`` (engine, codecs, settings), less ``drop_indexes``."""
    ddl = store.query(f"SHOW CREATE TABLE aitrail.{table}", fmt="TSVRaw").decode()
    ddl = ddl.replace(f"aitrail.{table}", f"aitrail.{name}", 1)
    lines = [line for line in ddl.split("\n") if not any(f"INDEX {index} " in line for index in drop_indexes)]
    return [f"DROP TABLE IF EXISTS aitrail.{name}", "\n".join(lines).replace(",\n)", "\n)")]


def _view_selects(store: Any, sources: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each materialized view: (its table, its SELECT reading the copies ``sources`` names instead of the tables)."""
    out = {}
    for view in store.rows("SELECT name, as_select, create_table_query FROM system.tables "
                           "WHERE database = 'aitrail' AND engine = 'MaterializedView' ORDER BY name"):
        target = view["create_table_query"].split(" TO aitrail.", 1)[1].split()[0]
        select = view["as_select"]
        for table, copy in sources.items():
            select = re.sub(rf"\baitrail\.{table}\b", f"aitrail.{copy}", select)
        out[view["name"]] = (target, select)
    return out


def _insert_select(store: Any, table: str, select: str) -> str:
    """``INSERT INTO table (its columns by name, as a view writes them) select``."""
    columns = ", ".join(f"`{row['name']}`" for row in store.rows(f"DESCRIBE ({select})"))
    return f"INSERT INTO aitrail.{table} ({columns}) {select}"


def engine_costs(store: Any, bodies: list[bytes], rounds: int) -> dict[str, Any]:
    """What the engine spends per span beyond parsing and flattening, part by part, on the rows these bodies make:
    writing them into the raw table with and without its skip indexes (each index's share), and each materialized
    view's work (its SELECT over the rows its source receives, written into an empty copy of its table: the view
    alone, without the planning an insert spends on every view; the views fed by a view are timed apart)."""
    from aitrail.collector.engine import ingest as engine
    from aitrail.collector.engine.schema import spooled
    from aitrail.collector.spool import Requests

    sources = {table: f"bench_rows_{table}" for table in RAW_SOURCES}
    for table, copy in sources.items():
        store.command(f"DROP TABLE IF EXISTS aitrail.{copy}")
        store.command(f"CREATE TABLE aitrail.{copy} AS aitrail.{table} ENGINE = Memory")
    selects = _view_selects(store, sources)
    indexes = store.query("SELECT name FROM system.data_skipping_indices WHERE database = 'aitrail' "
                          "AND table = 'otel_traces' ORDER BY name", fmt="TSV").decode().split()
    insert_raw = f"INSERT INTO aitrail.bench_raw SELECT * FROM aitrail.{sources['otel_traces']}"
    try:
        # The rows each source receives: the statement's, then what the views over otel_traces make of them.
        data = b"".join(spooled(body, "default", None) for body in bodies)
        engine.insert(store, "requests.traces", Requests(data, 0), into=sources["otel_traces"])
        for target, select in selects.values():
            if target in sources and f"aitrail.{sources['otel_traces']}" in select:
                store.command(_insert_select(store, sources[target], select))
        spans = int(store.query(f"SELECT count() FROM aitrail.{sources['otel_traces']}", fmt="TSV"))

        def per_span(seconds: float) -> float:
            return round(max(seconds, 0.0) / spans * 1e6, 2)

        raw = _best_cpu(store, _fresh_copy(store, "otel_traces", "bench_raw"), insert_raw, rounds)
        bare = _best_cpu(store, _fresh_copy(store, "otel_traces", "bench_raw", tuple(indexes)), insert_raw, rounds)
        each_index = {index: per_span(raw - _best_cpu(store, _fresh_copy(store, "otel_traces", "bench_raw", (index,)),
                                                      insert_raw, rounds)) for index in indexes}
        each_view = {f"{name} -> {target}": per_span(_best_cpu(store, _fresh_copy(store, target, "bench_view_target"),
                                                               _insert_select(store, "bench_view_target", select), rounds))
                     for name, (target, select) in selects.items()}
    finally:
        for name in (*sources.values(), "bench_raw", "bench_view_target"):
            store.command(f"DROP TABLE IF EXISTS aitrail.{name}")
    return {
        "spans": spans,
        "raw_table_insert_us_per_span": per_span(raw),
        "raw_table_insert_without_skip_indexes_us_per_span": per_span(bare),
        "skip_index_us_per_span": each_index,
        "view_us_per_span": dict(sorted(each_view.items(), key=lambda kv: -kv[1])),
        "views_total_us_per_span": round(sum(each_view.values()), 2),
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


SERVER_STAND_IN = Path(__file__).parent.parent / "tests" / "fault" / "chserver.py"
"""The ClickHouse-HTTP stand-in of the fault tests (chDB behind a Python HTTP front): the server a collector sends
its batches to when the bench measures the two apart."""


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{log.stem} exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def without_item_checks() -> None:
    """This process's collector with neither its item limits nor its processors (redaction, GenAI content, identity
    mapping): receiving, decoding, spooling and storing alone. What a live collector would reach were its per-item
    checks free: the ceiling of this receive path, against which the floor's target can be read. A bench-only
    patch, never a configuration: a collector that does not redact stores secrets.

    Every request is taken as canonical and nesting no deeper than the common statement reads (true of the
    bench's bodies, which the OpenTelemetry SDK encodes: the bench checks every row is stored), and its spans are
    left for the engine to mark as the collector leaves them (``GenAIContent.leaves_marks``)."""
    from aitrail.collector import limits, pipeline
    from aitrail.collector.engine.schema import SHALLOW_DEPTH
    from aitrail.collector.processors.genai_content import GenAIContent

    def enforce(signal: str, request: Any, item_limits: Any, body: bytes | bytearray | None = None) -> Any:
        return limits.Enforced(0, [], SHALLOW_DEPTH, as_sent=body is not None)

    def run_processors(processors: Any, signal: str, request: Any, context: Any, body: bytes | bytearray | None,
                       call: Any = None) -> tuple[bool, bool]:
        return False, any(isinstance(p, GenAIContent) and p.leaves_marks(signal, body) for p in processors)

    pipeline.enforce, pipeline.run_processors = enforce, run_processors  # type: ignore[assignment]


@contextlib.contextmanager
def _serving(scratch: Path, name: str, *options: str, min_batch_rows: int | None = None, ceiling: bool = False
             ) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    """``aitrail serve`` in a subprocess with ``options`` (and ``min_batch_rows`` when given, else its default), on
    free ports: (the process, its OTLP/HTTP port, its SQL port), once it answers; stopped (SIGTERM, its spool
    drained) afterwards. ``ceiling``: :func:`without_item_checks` first."""
    http_port, sql_port = _free_port(), _free_port()
    log = scratch / f"serve-{name}.log"
    if min_batch_rows is not None:
        config = scratch / f"serve-{name}.toml"
        config.write_text(f"[collector]\nmin_batch_rows = {min_batch_rows}\n")
        options = (*options, "--config", str(config))
    program = "from aitrail.cli import main; main()"
    if ceiling:
        program = "from bench.ingest import without_item_checks; without_item_checks(); " + program
    argv = [sys.executable, "-c", program, "serve", *options,
            "--http-port", str(http_port), "--grpc-port", "0", "--sql-port", str(sql_port)]
    with open(log, "wb") as out:  # (from the project's root, where ``bench`` is found, wherever the bench runs)
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=isolated.ROOT)
    try:
        _wait_http(f"http://127.0.0.1:{http_port}/healthz", proc, log)
        yield proc, http_port, sql_port
    finally:
        _stop(proc)


def serve_under_load(scratch: Path, processes: int, threads: int, requests: int, spans: int,
                     workload: str = "generations", server: bool = False, ceiling: bool = False) -> dict[str, Any]:
    """``aitrail serve`` on its own store under sustained maximum load of ``workload`` from client processes: its
    spans per CPU-second (all its threads, the engine's included), its VmHWM and VmRSS. ``server``: the collector
    sends its batches to a ClickHouse server (:data:`SERVER_STAND_IN`) instead, whose CPU is measured apart.
    ``ceiling``: the collector without its per-item checks (:func:`without_item_checks`)."""
    stand_in = None
    name = f"{workload}-ceiling" if ceiling else workload
    store = ["--data-dir", str(scratch / f"serve-{name}")]
    if server:
        ch_port, ch_log = _free_port(), scratch / f"server-{workload}.log"
        with open(ch_log, "wb") as out:
            stand_in = subprocess.Popen([sys.executable, str(SERVER_STAND_IN), "--data-dir",
                                         str(scratch / f"server-{workload}"), "--port", str(ch_port)],
                                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        store = ["--clickhouse-url", f"http://127.0.0.1:{ch_port}", "--spool-dir", str(scratch / f"spool-{workload}")]
    try:
        if stand_in is not None:
            _wait_http(f"http://127.0.0.1:{ch_port}/ping", stand_in, ch_log)
        # The load's last requests would wait ten flush intervals for company (min_batch_rows): idle time at the
        # end of the run, not sustained load (under it, every batch holds tens of thousands of rows).
        with _serving(scratch, name, *store, min_batch_rows=0, ceiling=ceiling) as (proc, http_port, sql_port):
            table = "otel_logs" if workload == "logs" else "otel_traces"
            query = urllib.parse.quote(COUNT_SQL.replace("otel_traces", table))

            def count() -> int:
                with urllib.request.urlopen(f"http://127.0.0.1:{sql_port}/?query={query}", timeout=30) as response:
                    return int(response.read())

            idle = _status(proc.pid)
            rss: list[int] = []
            load = Load("http", str(http_port), processes, threads, requests, spans, 200, workload)
            cpu0, threads0 = _cpu_seconds(proc.pid), _thread_cpu(proc.pid)
            server0 = _cpu_seconds(stand_in.pid) if stand_in else 0.0
            started = load.start()
            # Stored once the collector says it inserted them (its self-metrics: a batch is counted once its rows
            # can be read); then a query checks they are all there, outside the time measured.
            stored = wait_count(lambda: _self_metrics(http_port)[0].get(table, 0), load.spans, 1800,
                                sample=lambda: rss.append(_status(proc.pid)["VmRSS"]), failed=load.failure)
            cpu, threads1 = _cpu_seconds(proc.pid) - cpu0, _thread_cpu(proc.pid)
            server_cpu = _cpu_seconds(stand_in.pid) - server0 if stand_in else 0.0
            done = load.finish()
            after = _status(proc.pid)
            batches = _self_metrics(http_port)[1]
            if (in_store := count()) != load.spans:
                raise RuntimeError(f"{in_store} of the {load.spans} {table} rows sent are in the store")
    finally:
        if stand_in is not None:
            _stop(stand_in)
    figures = _figures(load.spans, stored - started, cpu, done["acked"], started, done["retries"], load.bytes)
    if stand_in:
        figures["server_spans_per_cpu_s"] = round(load.spans / server_cpu) if server_cpu > 0 else None
        figures["server_cpu_us_per_span"] = round(server_cpu / load.spans * 1e6, 1)
    return {
        **figures,
        "vm_hwm_mib": round(after["VmHWM"] / 1024, 1),
        "vm_rss_max_sampled_mib": round(max(rss) / 1024, 1),
        "vm_rss_idle_mib": round(idle["VmRSS"] / 1024, 1),
        "vm_rss_after_mib": round(after["VmRSS"] / 1024, 1),
        "cpu_us_per_span_by_thread": cpu_by_thread(threads0, threads1, load.spans),
        "batches": batches,
        "rows_per_batch": round(load.spans / batches) if batches else None,
    }


def _self_metrics(http_port: int) -> tuple[dict[str, int], int]:
    """The collector on ``http_port``'s own count of the rows it inserted, by table, and of its batches (the
    counters of its health report: read under a lock, where a ``count()`` through its SQL endpoint would be a
    query the engine plans and runs, charged to the collector under measurement)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=30) as response:
        metrics = json.load(response)["metrics"]
    return metrics["inserted"], metrics["batches"]


TRICKLE_RECORDS, TRICKLE_SPANS = 20, 10
"""What a trickle sends each second: a small logs request and a small traces request (a few people's assistants)."""


def trickle(scratch: Path, seconds: int, min_batch_rows: int | None = None, then_idle: bool = False
            ) -> dict[str, Any]:
    """The CPU of an ``aitrail serve`` under a trickle (one small logs and one small traces request a second, for
    ``seconds``), as a share of a core, with its default ``min_batch_rows`` or the one given; ``then_idle``: also
    while it receives nothing, as long."""
    from bench.ingest_logs import build_log_bodies

    logs, traces = build_log_bodies(7, seconds, TRICKLE_RECORDS), build_bodies(7, seconds, TRICKLE_SPANS)
    name = f"trickle-{'default' if min_batch_rows is None else min_batch_rows}"
    stats = {"retries": 0}
    with _serving(scratch, name, "--data-dir", str(scratch / name), min_batch_rows=min_batch_rows) as (proc, port, _):
        time.sleep(5)  # past the start: migrations, the first derivation
        cpu0, started = _cpu_seconds(proc.pid), time.monotonic()
        for second in range(seconds):
            _send_http(port, [logs[second]], stats, "logs")
            _send_http(port, [traces[second]], stats)
            time.sleep(max(0.0, started + second + 1 - time.monotonic()))
        figures = {"seconds": seconds, "min_batch_rows": min_batch_rows,
                   "share_of_a_core": round((_cpu_seconds(proc.pid) - cpu0) / seconds, 3)}
        if then_idle:
            cpu0 = _cpu_seconds(proc.pid)
            time.sleep(seconds)
            figures["idle_share_of_a_core"] = round((_cpu_seconds(proc.pid) - cpu0) / seconds, 3)
    return figures


# --- the benchmark -------------------------------------------------------------------------------


def work(quick: bool, echo: bool) -> dict[str, Any]:
    from aitrail.collector.config import CollectorConfig
    from aitrail.collector.server import BackgroundCollector
    from aitrail.collector.store import StoreLocation
    from bench import ingest_logs

    processes, threads = (1, 2) if quick else (2, 2)
    scale = 20 if quick else 1  # quick: requests of 50 (100) spans, not 1,000 (2,000)
    per_request = {workload: spans // scale for workload, spans in SPANS_PER_REQUEST_OF.items()}
    spans = per_request["generations"]
    requests = 2 if quick else 25  # per client thread: 100,000 spans per protocol
    scratch = Path(tempfile.mkdtemp(prefix="aitrail-bench-ingest-"))
    result: dict[str, Any] = {"clients": f"{processes} processes x {threads} threads, keep-alive",
                              "spans_per_request": spans, "spans_per_request_of": per_request}
    try:
        # 20,000 spans of each workload (quick: 200) for the in-process figures
        bodies_of = {workload: build_bodies(100, 20_000 // scale // n, n, workload) for workload, n in per_request.items()}
        bodies = bodies_of["generations"]
        result["floor_parse_only"] = parse_floor(bodies, 3 if quick else 7)
        cfg = CollectorConfig(location=StoreLocation(data_dir=scratch / "store"), spool_dir=scratch / "spool",
                              http_port=0, grpc_port=0, sql_port=0, min_batch_rows=0)  # (see serve_under_load)
        rounds = 2 if quick else 3
        with BackgroundCollector(cfg) as collector:
            store = collector.store
            warm = check_stub(collector, build_bodies(99, 1, spans)[0])  # also warms the path
            wait_count(lambda: int(store.query(COUNT_SQL, fmt="TSV", readonly=True)), warm, 120)
            # In-process stages first, while the engine has no background work (merges) of its own.
            result["profile"] = profile_stages(store, cfg, bodies)
            result["floors"] = {workload: {"arrays_as_json": clickhouse_native(store, some, scratch, rounds),
                                           "scalars_only": clickhouse_native(store, some, scratch, rounds, arrays=False)}
                                for workload, some in bodies_of.items()}
            result["clickhouse_native"] = result["floors"]["generations"]["arrays_as_json"]
            result["engine_path"] = engine_path(store, bodies, scratch, rounds)
            result["engine_costs"] = {workload: engine_costs(store, some, rounds) for workload, some in bodies_of.items()}
            for protocol, first_client in (("http", 0), ("grpc", 10)):
                if echo:
                    print(f"  ingest over {protocol} ...", file=sys.stderr, flush=True)
                result[protocol] = through_collector(collector, protocol, processes, threads, requests, spans,
                                                     first_client, timeout=1800)
            if echo:
                print("  logs in-process ...", file=sys.stderr, flush=True)
            result["logs"] = ingest_logs.in_process(store, cfg, scratch, quick)
        result["serve"], result["serve_ceiling"] = {}, {}
        for workload, n in per_request.items():  # 200,000 spans of each (quick: a few hundred)
            if echo:
                print(f"  aitrail serve under sustained load of {workload} spans ...", file=sys.stderr, flush=True)
            each = 2 if quick else 200_000 // (processes * threads * n)
            result["serve"][workload] = serve_under_load(scratch, processes, threads, each, n, workload)
            result["serve_ceiling"][workload] = serve_under_load(scratch, processes, threads, each, n, workload,
                                                                 ceiling=True)
        if echo:
            print("  aitrail serve in front of a ClickHouse server (the fault tests' stand-in) ...", file=sys.stderr,
                  flush=True)
        result["serve_to_server"] = serve_under_load(scratch, processes, threads, 2 if quick else 200_000 // (
            processes * threads * spans), spans, "generations", server=True)
        if echo:
            print("  logs through aitrail serve ...", file=sys.stderr, flush=True)
        records, each = (50, 2) if quick else (ingest_logs.LOG_RECORDS_PER_REQUEST, 50)
        result["logs"]["serve"] = serve_under_load(scratch, processes, threads, each, records, "logs")
        result["logs"]["serve_ceiling"] = serve_under_load(scratch, processes, threads, each, records, "logs",
                                                           ceiling=True)
        if echo:
            print("  aitrail serve under a trickle, with small batches waiting and without ...", file=sys.stderr,
                  flush=True)
        seconds = 3 if quick else 20
        result["trickle"] = {"default": trickle(scratch, seconds, then_idle=True), "no_wait": trickle(scratch, seconds, 0)}
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
    for workload, figures in [*result["serve"].items(), *result["serve_ceiling"].items()]:
        floor_of = result["floors"][workload]["arrays_as_json"]["spans_per_cpu_s"]
        per_cpu = figures["spans_per_collector_cpu_s"] or 0
        figures["times_before_engine"] = round(per_cpu / BEFORE_ENGINE_SPANS_PER_CPU_S, 2)
        figures["of_floor"] = round(per_cpu / floor_of, 3)
        figures["met_targets"] = (figures["times_before_engine"] >= TARGET_TIMES_BEFORE
                                  and figures["of_floor"] >= TARGET_OF_FLOOR)
    result["baselines"] = {
        "before_engine_spans_per_collector_cpu_s": BEFORE_ENGINE_SPANS_PER_CPU_S,
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
              f"{e['spans_per_cpu_s_without_planning'] or 'too few spans to tell'} without planning; the deep statement (for requests whose "
              f"values nest deeper, rare) plans in {e['planning_s_deep_statement']} s, "
              f"{e['deep_statement_us_per_span']} µs/span")
        for workload, floors in result["floors"].items():
            fair, scalars = floors["arrays_as_json"], floors["scalars_only"]
            print(f"ingest, ClickHouse-native floor for {workload} spans ({fair['spans']:,} in one statement; "
                  f"ClickHouse parses the same protobuf and flattens it in SQL, no limits, aliases, redaction or Go "
                  f"escaping): arrays as the exporter's JSON {fair['parse_flatten_insert_us_per_span']} µs/span with the "
                  f"insert and its views = {fair['spans_per_cpu_s']:,} spans per CPU-second "
                  f"({fair['generations_with_fingerprints_per_round']:,} generations with fingerprints; "
                  f"{fair['fixed_s_per_statement']} s of it fixed per statement, "
                  f"{format(fair['spans_per_cpu_s_without_planning'] or 0, ',') or 'too few spans to tell'} spans per CPU-second "
                  f"without it); scalars only "
                  f"(arrays as hex, as first measured) {scalars['parse_flatten_insert_us_per_span']} µs/span = "
                  f"{scalars['spans_per_cpu_s']:,} ({scalars['generations_with_fingerprints_per_round']:,} with "
                  f"fingerprints)")
        for workload, c in result["engine_costs"].items():
            print(f"ingest, the engine's costs on {c['spans']:,} {workload} spans (µs per span): raw table insert "
                  f"{c['raw_table_insert_us_per_span']} ({c['raw_table_insert_without_skip_indexes_us_per_span']} "
                  f"without its skip indexes: " + ", ".join(f"{k} {u}" for k, u in c["skip_index_us_per_span"].items())
                  + f"); views {c['views_total_us_per_span']}: "
                  + ", ".join(f"{k.split(' -> ')[0]} {u}" for k, u in c["view_us_per_span"].items()))
        for workload, m in result["serve"].items():
            print(f"aitrail serve under sustained maximum ingest of {m['spans']:,} {workload} spans "
                  f"({result['spans_per_request_of'][workload]:,} per request): {m['spans_per_collector_cpu_s']:,} spans "
                  f"per collector CPU-second, all its threads ({m['collector_cpu_us_per_span']} µs/span) = "
                  f"{m['times_before_engine']}x the {BEFORE_ENGINE_SPANS_PER_CPU_S:,} before the engine (target "
                  f"{TARGET_TIMES_BEFORE}x) and {m['of_floor']} of its ClickHouse-native floor (target {TARGET_OF_FLOOR}); "
                  f"{m['spans_per_s']:,} spans/s; {m['batches']} batches ({m['rows_per_batch']} spans each); "
                  f"VmHWM {m['vm_hwm_mib']} MiB, VmRSS up to "
                  f"{m['vm_rss_max_sampled_mib']} MiB (idle {m['vm_rss_idle_mib']} MiB, after {m['vm_rss_after_mib']} "
                  f"MiB); its CPU per span by thread: "
                  + ", ".join(f"{name} {us} µs" for name, us in m["cpu_us_per_span_by_thread"].items()))
            c = result["serve_ceiling"][workload]
            print(f"  the same load, its per-item checks off (limits, redaction, GenAI content: a bench-only patch, "
                  f"never a configuration): {c['spans_per_collector_cpu_s']:,} spans per collector CPU-second "
                  f"({c['collector_cpu_us_per_span']} µs/span) = {c['times_before_engine']}x and {c['of_floor']} of the "
                  f"floor: the ceiling of this receive path; the checks cost "
                  f"{round(m['collector_cpu_us_per_span'] - c['collector_cpu_us_per_span'], 1)} µs/span; by thread: "
                  + ", ".join(f"{name} {us} µs" for name, us in c["cpu_us_per_span_by_thread"].items()))
        m = result["serve_to_server"]
        print(f"aitrail serve in front of a ClickHouse server (the fault tests' stand-in: chDB behind a Python HTTP "
              f"front), {m['spans']:,} generation spans: the collector {m['spans_per_collector_cpu_s']:,} spans per "
              f"CPU-second ({m['collector_cpu_us_per_span']} µs/span), the server {m['server_spans_per_cpu_s']:,} "
              f"({m['server_cpu_us_per_span']} µs/span); collector VmHWM {m['vm_hwm_mib']} MiB")
        t = result["trickle"]
        print(f"aitrail serve under a trickle ({TRICKLE_RECORDS} log records and {TRICKLE_SPANS} spans a second, "
              f"{t['default']['seconds']} s): {t['default']['share_of_a_core']:.0%} of a core with small batches "
              f"waiting for company (min_batch_rows), {t['no_wait']['share_of_a_core']:.0%} flushing every second; "
              f"idle {t['default']['idle_share_of_a_core']:.0%}")
        from bench import ingest_logs

        ingest_logs.report(result["logs"])
    return result


def main() -> None:
    isolated.main(__doc__, work, run)


if __name__ == "__main__":
    main()
