"""The collector observes itself: what it received, stored and rejected (and why), how long batches took, and its spool.

Exposed as JSON at ``/healthz`` and in Prometheus text at ``/metrics`` on the
OTLP/HTTP port.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any


class SelfMetrics:
    """Counters and batch latency, safe to update from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.received: Counter[str] = Counter()  # items received, by signal
        self.requests: Counter[str] = Counter()  # requests, by signal
        self.inserted: Counter[str] = Counter()  # rows inserted, by table
        self.rejected: Counter[str] = Counter()  # items or requests refused, by reason
        self.spool: Counter[str] = Counter()  # spool events: fsyncs (of records), checkpoints, insert_retries, dead_records, torn_bytes
        self.gauges: dict[str, float] = {}  # levels: spool_pending_bytes, spool_pending_records, spool_pending_rows
        self.batches = 0
        self.batch_seconds_total = 0.0
        self.batch_seconds_max = 0.0

    def count(self, counter: Counter[str], key: str, n: int = 1) -> None:
        with self._lock:
            counter[key] += n

    def gauge(self, name: str, value: float) -> None:
        with self._lock:
            self.gauges[name] = value

    def batch(self, table: str, rows: int, seconds: float) -> None:
        with self._lock:
            self.inserted[table] += rows
            self.batches += 1
            self.batch_seconds_total += seconds
            self.batch_seconds_max = max(self.batch_seconds_max, seconds)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "uptime_seconds": round(time.time() - self.started, 3),
                "requests": dict(self.requests),
                "received": dict(self.received),
                "inserted": dict(self.inserted),
                "rejected": dict(self.rejected),
                "batches": self.batches,
                "batch_seconds_total": round(self.batch_seconds_total, 6),
                "batch_seconds_max": round(self.batch_seconds_max, 6),
                "spool": {**self.spool, **self.gauges},
            }

    def prometheus(self) -> str:
        """The snapshot in Prometheus text exposition format."""
        snap = self.snapshot()
        lines = [
            "# TYPE aitrail_requests_total counter",
            *(f'aitrail_requests_total{{signal="{k}"}} {v}' for k, v in snap["requests"].items()),
            "# TYPE aitrail_received_items_total counter",
            *(f'aitrail_received_items_total{{signal="{k}"}} {v}' for k, v in snap["received"].items()),
            "# TYPE aitrail_inserted_rows_total counter",
            *(f'aitrail_inserted_rows_total{{table="{k}"}} {v}' for k, v in snap["inserted"].items()),
            "# TYPE aitrail_rejected_total counter",
            *(f'aitrail_rejected_total{{reason="{k}"}} {v}' for k, v in snap["rejected"].items()),
            "# TYPE aitrail_batches_total counter",
            f"aitrail_batches_total {snap['batches']}",
            "# TYPE aitrail_batch_seconds_total counter",
            f"aitrail_batch_seconds_total {snap['batch_seconds_total']}",
            "# TYPE aitrail_batch_seconds_max gauge",
            f"aitrail_batch_seconds_max {snap['batch_seconds_max']}",
        ]
        for name in ("fsyncs", "checkpoints", "insert_retries", "dead_records", "torn_bytes"):
            lines += [f"# TYPE aitrail_spool_{name}_total counter", f"aitrail_spool_{name}_total {snap['spool'].get(name, 0)}"]
        for name in ("spool_pending_bytes", "spool_pending_records", "spool_pending_rows"):
            lines += [f"# TYPE aitrail_{name} gauge", f"aitrail_{name} {snap['spool'].get(name, 0)}"]
        return "\n".join(lines) + "\n"
