"""Ingest of logs (a section of ``python -m bench ingest``): Claude Code–shaped events, from request bytes to rows.

Claude Code, Codex and Gemini CLI send mostly log events. The requests here are
built by the OpenTelemetry SDK's logs API and the OTLP encoder the way Claude
Code's events look (``tests/fixtures/native/claude_code``): its resource, the
scope ``com.anthropic.claude_code.events``, a string body naming the event, and
per event the attributes it carries — ``claude_code.user_prompt`` (the prompt),
``claude_code.api_request`` (model, tokens, cost, durations),
``claude_code.tool_decision`` and ``claude_code.tool_result`` (the tool's input
as JSON text) — beside the session, user and sequence attributes every event
repeats; ``LOG_RECORDS_PER_REQUEST`` to a request (the SDKs' default export
batch).

Figures, each beside its baseline from the same run:

* log records per collector CPU-second of a live ``aitrail serve`` (its engine included) under sustained load
  over OTLP/HTTP, its CPU per record by thread and its VmHWM; and of the same collector without its item limits
  and processors (``bench.ingest.without_item_checks``: the ceiling of this receive path);
* the ClickHouse-native floor for the same bodies: ClickHouse parsing them with a cut-down schema and flattening
  them in SQL into ``otel_logs`` (scalar values only; no materialized view reads ``otel_logs``);
* the engine's statement (``aitrail.collector.engine.logs``, what the drain runs) on the same bodies, and the
  collector's Python stages in-process;
* OTLP/JSON: what decoding the same requests sent as JSON costs per record, beside protobuf, and beside
  ClickHouse parsing the same JSON bytes itself (the floor of a path that would not convert them).
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.queries import settle

LOG_RECORDS_PER_REQUEST = 512
"""The OpenTelemetry SDKs' default ``max_export_batch_size``: what an assistant's exporter sends at once."""

FIXED_NOW_NS = 1_750_000_000 * 1_000_000_000
_EVENTS = ("user_prompt", "api_request", "tool_decision", "tool_result", "api_request")
"""A turn of Claude Code's events: the prompt, a model call, a tool decided and run, a model call again."""
_MODELS = ("claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5")
_TOOLS = ("Write", "Edit", "Bash", "Read")


def _event_attributes(rng: random.Random, event: str, session: str, user: str, prompt_id: str, sequence: int,
                      when_ns: int) -> dict[str, Any]:
    """The attributes Claude Code puts on one event (names and kinds as its recordings show them)."""
    attributes: dict[str, Any] = {
        "user.id": user, "session.id": session, "organization.id": "6f1c3e2a-0b7d-4c55-9a1e-2d8f4b6c7e90",
        "terminal.type": "vscode", "event.name": event, "event.sequence": sequence, "prompt.id": prompt_id,
        "event.timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when_ns // 1_000_000_000)),
    }
    if event == "user_prompt":
        prompt = rng.choice(("Add a retry policy for the card gateway in src/retry.py",
                             "Why does the settlement job time out on Mondays?",
                             "Refactor the ledger export to stream rows instead of loading them all"))
        attributes.update({"prompt_length": str(len(prompt)), "prompt": prompt})
    elif event == "api_request":
        tokens_in, tokens_out = rng.randrange(200, 40_000), rng.randrange(20, 4_000)
        attributes.update({
            "model": rng.choice(_MODELS), "input_tokens": tokens_in, "output_tokens": tokens_out,
            "cache_read_tokens": rng.randrange(0, tokens_in), "cache_creation_tokens": rng.randrange(0, 2_000),
            "cost_usd": round(tokens_in * 3e-6 + tokens_out * 15e-6, 6), "duration_ms": rng.randrange(300, 30_000),
            "ttft_ms": rng.randrange(100, 3_000), "speed": "normal", "query_source": "repl_main_thread",
        })
    else:
        tool = rng.choice(_TOOLS)
        attributes.update({"tool_name": tool, "tool_use_id": f"toolu_{rng.randbytes(12).hex()}"})
        if event == "tool_decision":
            attributes.update({"decision": "accept", "source": "config", "permission_mode": "acceptEdits"})
        else:
            tool_input = json.dumps({"file_path": f"/home/dev/payments/src/module_{rng.randrange(40)}.py",
                                     "old_string": "MAX_ATTEMPTS = 3", "new_string": "MAX_ATTEMPTS = 5\n" * 8})
            attributes.update({"success": "true", "duration_ms": str(rng.randrange(5, 2_000)),
                               "tool_input": tool_input, "tool_input_size_bytes": str(len(tool_input)),
                               "tool_result_size_bytes": str(rng.randrange(50, 5_000))})
    return attributes


def build_log_bodies(client: int, requests: int, records: int) -> list[bytes]:
    """``requests`` serialized ExportLogsServiceRequests of ``records`` Claude Code–shaped events; the same every
    run."""
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    rng = random.Random(4318 * 7 + client)
    templates = []
    for template in range(4):
        exporter = InMemoryLogRecordExporter()
        provider = LoggerProvider(resource=Resource({
            "service.name": "claude-code", "service.version": "2.1.32", "os.type": "linux", "host.arch": "amd64",
            "os.version": "6.8.0", "aitrail.repo.root": f"/home/dev-{client}/payments"}))
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        logger = provider.get_logger("com.anthropic.claude_code.events", "2.1.32")
        session, user = rng.randbytes(16).hex(), rng.randbytes(32).hex()
        when = FIXED_NOW_NS - rng.randrange(3600) * 1_000_000_000
        for sequence in range(records):
            event = _EVENTS[sequence % len(_EVENTS)]
            if event == "user_prompt":
                prompt_id = rng.randbytes(16).hex()
            when += rng.randrange(10, 2_000) * 1_000_000
            logger.emit(timestamp=when, observed_timestamp=when, severity_number=SeverityNumber.INFO,
                        body=f"claude_code.{event}",
                        attributes=_event_attributes(rng, event, session, user, prompt_id, sequence, when))
        templates.append(encode_logs(exporter.get_finished_logs()).SerializeToString())
        provider.shutdown()
    return [templates[(template + client) % len(templates)] for template in range(requests)]


# --- the ClickHouse-native floor: ClickHouse parses and flattens the same bodies itself -------------

NATIVE_PROTO = Path(__file__).with_name("otlp_logs.proto")


def native_select(path: Path) -> str:
    """otel_logs rows from a file of length-delimited ExportLogsServiceRequests, all in ClickHouse SQL (values as the
    traces' fair floor renders them: scalars and arrays of scalars as the exporter writes them, lists as hex: a
    floor, not the product)."""
    from bench.ingest import _ANY_VALUE, _KEY_VALUES, _as_string

    as_string = _as_string(arrays=True)

    structure = (
        f"resource_logs Array(Tuple(resource Tuple(attributes {_KEY_VALUES}), schema_url String, scope_logs Array(Tuple("
        f"scope Tuple(name String, version String, attributes {_KEY_VALUES}), schema_url String, log_records Array(Tuple("
        "time_unix_nano UInt64, observed_time_unix_nano UInt64, severity_number Int32, severity_text String, "
        f"body {_ANY_VALUE}, attributes {_KEY_VALUES}, flags UInt32, trace_id String, span_id String, "
        "event_name String))))))"
    ).replace("'", "\\'")
    return f"""
        SELECT fromUnixTimestamp64Nano(toInt64(if(lr.time_unix_nano != 0, lr.time_unix_nano,
                                                  lr.observed_time_unix_nano))) AS Timestamp,
               if(lr.trace_id = '', '', lower(hex(lr.trace_id))) AS TraceId,
               if(lr.span_id = '', '', lower(hex(lr.span_id))) AS SpanId,
               toUInt8(bitAnd(lr.flags, 255)) AS TraceFlags, lr.severity_text AS SeverityText,
               toUInt8(lr.severity_number) AS SeverityNumber, ResourceAttributes['service.name'] AS ServiceName,
               arrayMap({as_string}, [lr.body])[1] AS Body, rl.schema_url AS ResourceSchemaUrl,
               mapUpdate(mapFromArrays(rl.resource.attributes.key, arrayMap({as_string}, rl.resource.attributes.value)),
                         map('aitrail.tenant.id', 'default')) AS ResourceAttributes,
               sl.schema_url AS ScopeSchemaUrl, sl.scope.name AS ScopeName, sl.scope.version AS ScopeVersion,
               mapFromArrays(sl.scope.attributes.key, arrayMap({as_string}, sl.scope.attributes.value)) AS ScopeAttributes,
               mapFromArrays(lr.attributes.key, arrayMap({as_string}, lr.attributes.value)) AS LogAttributes,
               if(lr.event_name != '', lr.event_name, LogAttributes['event.name']) AS EventName
        FROM file('{path}', Protobuf, '{structure}')
        ARRAY JOIN resource_logs AS rl ARRAY JOIN rl.scope_logs AS sl ARRAY JOIN sl.log_records AS lr
        SETTINGS format_schema = '{NATIVE_PROTO}:ExportLogsServiceRequest', input_format_protobuf_oneof_presence = 1"""


def _best_cpu(fn: Any, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def clickhouse_native(store: Any, bodies: list[bytes], scratch: Path, rounds: int) -> dict[str, Any]:
    """The floor: the same bodies parsed by ClickHouse's Protobuf format, flattened in SQL and inserted."""
    from aitrail.collector.engine.logs import COLUMNS
    from aitrail.collector.engine.schema import length_delimited

    path = scratch / "log-bodies.protobuf"
    path.write_bytes(length_delimited(bodies))
    select = native_select(path)
    settle(store)  # at rest (see bench.ingest.clickhouse_native)
    records = int(store.query(f"SELECT count() FROM ({select})", fmt="TSV"))
    parse = _best_cpu(lambda: store.query(f"SELECT count() FROM ({select}) WHERE NOT ignore(*)", fmt="TSV"), rounds)
    insert = _best_cpu(lambda: store.command(f"INSERT INTO aitrail.otel_logs ({', '.join(COLUMNS)}) {select}"), rounds)
    return {"records": records, "parse_and_flatten_us_per_record": round(parse / records * 1e6, 2),
            "parse_flatten_insert_us_per_record": round(insert / records * 1e6, 2),
            "records_per_cpu_s": round(records / insert)}


def engine_path(store: Any, bodies: list[bytes], scratch: Path, rounds: int) -> dict[str, Any]:
    """The engine's logs statement on the same bodies spooled as the collector spools them (one batch; its
    planning told apart by running it on one body too)."""
    from aitrail.collector.engine import logs
    from aitrail.collector.engine.schema import spooled

    statement = logs.STATEMENT
    columns = ", ".join(f"`{c}`" for c in statement.columns)
    figures = {}
    for name, some in (("one", bodies[:1]), ("all", bodies)):
        path = scratch / "spooled-logs.protobuf"
        path.write_bytes(b"".join(spooled(body, "default", None) for body in some))
        select = f"{statement.select_sql(statement.source(str(path)))} {statement.settings()}"
        settle(store)
        figures[name] = {
            "records": int(store.query(f"SELECT count() FROM ({select})", fmt="TSV")),
            "parse": _best_cpu(lambda: store.query(f"SELECT count() FROM ({select}) WHERE NOT ignore(*)", fmt="TSV"),
                               rounds),
            "insert": _best_cpu(lambda: store.command(f"INSERT INTO aitrail.otel_logs ({columns}) {select}"), rounds),
        }
    one, every = figures["one"], figures["all"]
    records, extra = every["records"], max(every["records"] - one["records"], 1)
    per_record = {stage: max(every[stage] - one[stage], 0.0) / extra for stage in ("parse", "insert")}
    return {"records": records,
            "parse_and_flatten_us_per_record": round(per_record["parse"] * 1e6, 2),
            "parse_flatten_insert_us_per_record": round(per_record["insert"] * 1e6, 2),
            "planning_s_per_statement": round(max(one["insert"] - per_record["insert"] * one["records"], 0.0), 3),
            "records_per_cpu_s": round(records / every["insert"])}


def python_stages(cfg: Any, bodies: list[bytes]) -> dict[str, Any]:
    """The collector's Python work per record, stage by stage, in-process (decode, limits, each processor, the
    spool part and record)."""
    from bench.ingest import _stages

    _stages(bodies[:1], cfg, None, "logs")  # warm: imports, the redaction cache of clean values
    times: dict[str, float] = defaultdict(float)
    parts = _stages(bodies, cfg, times, "logs")
    records = sum(requests.num_rows for tables in parts for requests in tables.values())
    total = sum(times.values())
    return {"records": records, "python_us_per_record": round(total / records * 1e6, 1),
            "stages_us_per_record": {k: round(v / records * 1e6, 2) for k, v in times.items()}}


def otlp_json(store: Any, bodies: list[bytes], scratch: Path, rounds: int) -> dict[str, Any]:
    """Decoding the same requests sent as OTLP/JSON (hex ids, lowerCamelCase) against protobuf, per record; and
    ClickHouse parsing the same JSON bytes itself into typed columns (values one level deep: less than the
    product needs), the floor of a path that would not convert JSON to protobuf."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    from aitrail.collector.otlp import Limits, decode_request

    documents = []
    for body in bodies:
        document = json_format.MessageToDict(ExportLogsServiceRequest.FromString(body))
        for resource_logs in document.get("resourceLogs", []):
            for scope_logs in resource_logs.get("scopeLogs", []):
                for record in scope_logs.get("logRecords", []):
                    for key in ("traceId", "spanId"):
                        if key in record:
                            record[key] = base64.b64decode(record[key]).hex()
        documents.append(json.dumps(document).encode())
    records = sum(len(sl.log_records) for body in bodies
                  for rl in ExportLogsServiceRequest.FromString(body).resource_logs for sl in rl.scope_logs)
    limits = Limits(max_body_bytes=64 << 20, max_decompressed_bytes=64 << 20)
    kinds = {"protobuf": ("application/x-protobuf", bodies), "json": ("application/json", documents)}
    decode = {name: _best_cpu(lambda kind=kind, some=some: [decode_request("logs", b, kind, None, limits)
                                                             for b in some], rounds)
              for name, (kind, some) in kinds.items()}
    value = ("Tuple(stringValue String, intValue String, boolValue Bool, doubleValue Float64, bytesValue String, "
             "arrayValue String, kvlistValue String)")
    key_values = f"Array(Tuple(key String, value {value}))"
    structure = (
        f"resourceLogs Array(Tuple(resource Tuple(attributes {key_values}), schemaUrl String, scopeLogs Array(Tuple("
        f"scope Tuple(name String, version String, attributes {key_values}), schemaUrl String, logRecords Array(Tuple("
        "timeUnixNano String, observedTimeUnixNano String, severityNumber String, severityText String, "
        f"body {value}, attributes {key_values}, flags UInt32, traceId String, spanId String, eventName String))))))")
    path = scratch / "log-bodies.ndjson"
    path.write_bytes(b"\n".join(documents) + b"\n")
    sql = (f"SELECT count() FROM (SELECT lr FROM file('{path}', JSONEachRow, '{structure}') ARRAY JOIN resourceLogs AS rl "
           "ARRAY JOIN rl.scopeLogs AS sl ARRAY JOIN sl.logRecords AS lr) WHERE NOT ignore(*) SETTINGS "
           "input_format_json_read_objects_as_strings = 1, input_format_json_read_arrays_as_strings = 1")
    clickhouse = _best_cpu(lambda: store.query(sql, fmt="TSV"), rounds)
    return {"records": records, "bytes_per_record_protobuf": round(sum(map(len, bodies)) / records),
            "bytes_per_record_json": round(sum(map(len, documents)) / records),
            "decode_us_per_record": {name: round(cpu / records * 1e6, 2) for name, cpu in decode.items()},
            "clickhouse_parses_json_us_per_record": round(clickhouse / records * 1e6, 2)}


def in_process(store: Any, cfg: Any, scratch: Path, quick: bool) -> dict[str, Any]:
    """The figures measured in the bench's own process (beside its BackgroundCollector's store)."""
    bodies = build_log_bodies(100, 2 if quick else 20, 50 if quick else LOG_RECORDS_PER_REQUEST)
    rounds = 2 if quick else 3
    return {"records_per_request": 50 if quick else LOG_RECORDS_PER_REQUEST,
            "python": python_stages(cfg, bodies),
            "clickhouse_native": clickhouse_native(store, bodies, scratch, rounds),
            "engine_path": engine_path(store, bodies, scratch, rounds),
            "otlp_json": otlp_json(store, bodies[:4], scratch, rounds)}


def report(logs: dict[str, Any]) -> None:
    """Print the logs figures."""
    serve, native, engine = logs["serve"], logs["clickhouse_native"], logs["engine_path"]
    per_cpu = serve["spans_per_collector_cpu_s"]
    print(f"ingest logs (Claude Code events, {logs['records_per_request']} per request, OTLP/HTTP protobuf, live "
          f"aitrail serve): {per_cpu:,} log records per collector CPU-second ({serve['collector_cpu_us_per_span']} "
          f"µs/record, {serve['bytes_per_span']} B/record), {serve['spans_per_s']:,} records/s end to end; "
          f"ClickHouse-native floor on the same bodies {native['records_per_cpu_s']:,} per CPU-second "
          f"({native['parse_flatten_insert_us_per_record']} µs/record): {round(per_cpu / native['records_per_cpu_s'], 2)} "
          f"of the floor; VmHWM {serve['vm_hwm_mib']} MiB; CPU per record by thread: "
          + ", ".join(f"{name} {us} µs" for name, us in serve["cpu_us_per_span_by_thread"].items()))
    ceiling = logs["serve_ceiling"]
    print(f"  the same load, its per-item checks off (limits, redaction: a bench-only patch, never a configuration): "
          f"{ceiling['spans_per_collector_cpu_s']:,} per collector CPU-second ({ceiling['collector_cpu_us_per_span']} "
          f"µs/record) = {round(ceiling['spans_per_collector_cpu_s'] / native['records_per_cpu_s'], 2)} of the floor: "
          f"the ceiling of this receive path; the checks cost "
          f"{round(serve['collector_cpu_us_per_span'] - ceiling['collector_cpu_us_per_span'], 1)} µs/record; by thread: "
          + ", ".join(f"{name} {us} µs" for name, us in ceiling["cpu_us_per_span_by_thread"].items()))
    print(f"  the engine's logs statement, one batch of {engine['records']:,}: plans in "
          f"{engine['planning_s_per_statement']} s, {engine['parse_and_flatten_us_per_record']} µs/record to parse "
          f"and flatten, {engine['parse_flatten_insert_us_per_record']} µs/record inserted "
          f"({engine['records_per_cpu_s']:,} per CPU-second, planning included); the collector's Python "
          f"{logs['python']['python_us_per_record']} µs/record: " + ", ".join(
              f"{stage} {us}" for stage, us in logs["python"]["stages_us_per_record"].items()))
    j = logs["otlp_json"]
    print(f"  OTLP/JSON ({j['bytes_per_record_json']} B/record against {j['bytes_per_record_protobuf']} in protobuf): "
          f"decoding {j['decode_us_per_record']['json']} µs/record against {j['decode_us_per_record']['protobuf']} "
          f"for protobuf; ClickHouse parsing the same JSON itself {j['clickhouse_parses_json_us_per_record']} µs/record")
