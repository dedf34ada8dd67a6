"""Ingest of metrics, in-process: data points per collector CPU-second on the assistants' own metrics.

Claude Code exports its counters once a minute per session: a request holds one
session's 16 data points (``bench.native_metrics``: ``claude_code.token.usage``
by type and model, cost, lines, active time, decisions, commits, with its
standard attributes on every point). Every figure is CPU time of this process
(``time.process_time``: its Python and the embedded engine's threads), from the
decoded requests to rows in ``otel_metrics_*``:

* ``collector``: what the collector's pipeline does to each request (limits, processors, and what it hands the
  spool) and the spool record it writes;
* ``drain``: the drain reading the records back, merging a batch's parts and storing them (the engine's statements,
  or Arrow inserts where a signal is still flattened in Python);
* ``planning``: the same drain on a batch of one request, per statement: the fixed cost a trickle pays per flush.

The same file runs against any checkout (``prepare`` and ``ingest.insert`` take whatever the pipeline makes), so
the figures before the switch come from running it on the commit before it.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

REQUESTS = 600
"""Requests of one session each (16 data points): one minute of 600 developers' Claude Code."""


def _bodies(count: int) -> list[bytes]:
    from bench.native_metrics import claude_code

    rng = random.Random(15)
    return [claude_code(rng, 1).SerializeToString() for _ in range(count)]


def _drain(store: Any, records: list[bytes]) -> int:
    """Store the spool records as the drain does: decode, merge each part across the batch, insert; return the
    statements run."""
    from aitrail.collector.batcher import _merge
    from aitrail.collector.engine import ingest
    from aitrail.collector.spool import HEADER, Batch, Record

    batch = Batch("bench", 0, 0, len(records), [Record(0, i, i + 1, 0, record[HEADER.size:]) for i, record in enumerate(records)])
    merged = _merge(batch)
    for part, data in merged.items():
        assert not isinstance(data, Exception), data
        ingest.insert(store, part, data, batch.token(part))
    return len(merged)


def _count(store: Any) -> int:
    tables = ("gauge", "sum", "histogram", "exponential_histogram", "summary")
    return sum(store.rows(f"SELECT count() AS n FROM aitrail.otel_metrics_{kind}")[0]["n"] for kind in tables)


def measure(requests: int) -> dict[str, Any]:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    from aitrail.collector.config import load
    from aitrail.collector.pipeline import prepare
    from aitrail.collector.processors import IngestContext
    from aitrail.collector.spool import encode_record
    from aitrail.collector.store import StoreLocation, open_store

    bodies = _bodies(requests)
    with tempfile.TemporaryDirectory() as scratch, open_store(StoreLocation(data_dir=Path(scratch) / "store")) as store:
        config = load(None, location=StoreLocation(data_dir=Path(scratch) / "store"))
        context = IngestContext(tenant="acme", team="payments")
        _drain(store, [encode_record(prepare("metrics", ExportMetricsServiceRequest.FromString(bodies[0]), context,
                                             config).tables)])  # warm: imports, the store's first insert
        warm = _count(store)
        started = time.process_time()
        records, points = [], 0
        for body in bodies:
            flattened = prepare("metrics", ExportMetricsServiceRequest.FromString(body), context, config)
            records.append(encode_record(flattened.tables))
            points += sum(data.num_rows for data in flattened.tables.values())
        collector = time.process_time() - started
        started = time.process_time()
        statements = _drain(store, records)
        drain = time.process_time() - started
        stored = _count(store) - warm
        started = time.process_time()
        single = _drain(store, records[:1])
        planning = time.process_time() - started
    total = collector + drain
    return {
        "requests": requests, "points": points, "stored": stored, "statements": statements,
        "collector_us_per_point": round(collector / points * 1e6, 2),
        "drain_us_per_point": round(drain / points * 1e6, 2),
        "points_per_cpu_second": round(points / total),
        "planning_ms_per_statement": round(planning / single * 1e3, 1),
    }


def run(quick: bool = False, echo: bool = True) -> dict[str, Any]:
    figures = measure(20 if quick else REQUESTS)
    if echo:
        print(f"metrics ingest, in-process: {figures['points']} data points in {figures['requests']} requests, "
              f"{figures['statements']} statement(s) for the batch")
        print(f"  collector {figures['collector_us_per_point']} µs/point, drain {figures['drain_us_per_point']} "
              f"µs/point: {figures['points_per_cpu_second']:,} data points per CPU-second")
        print(f"  a batch of one request: {figures['planning_ms_per_statement']} ms of CPU per statement")
    return figures
