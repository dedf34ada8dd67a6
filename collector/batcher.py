"""Group commit: many requests' rows, one insert per table, and every request answered only once its rows are stored.

A request's rows join the pending batch of their table; the batch is written
when it reaches ``max_rows`` or when its oldest rows have waited
``flush_interval`` seconds. The request's future resolves after the insert,
so a 2xx always means "in the store". Each insert carries a deduplication
token, so retrying a failed insert never stores a row twice. Past
``max_pending_rows`` the batcher refuses new rows (Backpressure -> 503) rather
than grow without bound.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa

from aitrail.collector.store import Store
from aitrail.collector.telemetry import SelfMetrics
from aitrail.errors import Backpressure, StoreError, StoreUnavailable

SORT_KEYS: dict[str, list[str]] = {
    "otel_traces": ["ServiceName", "SpanName", "Timestamp"],
    "otel_logs": ["ServiceName", "Timestamp"],
}
"""Rows are handed to ClickHouse already in (most of) the table's key order."""


@dataclass
class _Pending:
    batches: list[pa.Table] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    rows: int = 0
    since: float = 0.0


class Batcher:
    """One pending batch per table, flushed by size or age, inserted on one writer thread."""

    def __init__(
        self,
        store: Store,
        metrics: SelfMetrics,
        flush_interval: float = 1.0,
        max_rows: int = 50_000,
        max_pending_rows: int = 1_000_000,
        insert_attempts: int = 3,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.flush_interval = flush_interval
        self.max_rows = max_rows
        self.max_pending_rows = max_pending_rows
        self.insert_attempts = insert_attempts
        self._pending: dict[str, _Pending] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aitrail-insert")
        self._run_id = uuid.uuid4().hex[:12]
        self._seq = itertools.count()

    @property
    def pending_rows(self) -> int:
        return sum(p.rows for p in self._pending.values())

    async def submit(self, tables: dict[str, pa.Table]) -> None:
        """Queue rows; return once all of them are inserted (raises if the store failed them)."""
        rows = sum(t.num_rows for t in tables.values())
        if rows == 0:
            return
        if self.pending_rows + rows > self.max_pending_rows:
            self.metrics.count(self.metrics.rejected, "backpressure")
            raise Backpressure(f"collector is full ({self.pending_rows} rows waiting for the store); retry later")
        loop = asyncio.get_running_loop()
        waiters = []
        for table, batch in tables.items():
            if batch.num_rows == 0:
                continue
            pending = self._pending.setdefault(table, _Pending())
            if not pending.batches:
                pending.since = time.monotonic()
                self._timers[table] = loop.call_later(self.flush_interval, self._flush, table)
            future: asyncio.Future[None] = loop.create_future()
            pending.batches.append(batch)
            pending.waiters.append(future)
            pending.rows += batch.num_rows
            waiters.append(future)
            if pending.rows >= self.max_rows:
                self._flush(table)
        await asyncio.gather(*waiters)

    def _flush(self, table: str) -> None:
        timer = self._timers.pop(table, None)
        if timer is not None:
            timer.cancel()
        pending = self._pending.pop(table, None)
        if pending is None or not pending.batches:
            return
        task = asyncio.get_running_loop().create_task(self._insert(table, pending))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _insert(self, table: str, pending: _Pending) -> None:
        token = f"{self._run_id}:{next(self._seq)}"
        try:
            batch = pa.concat_tables(pending.batches, promote_options="default")
            keys = [k for k in SORT_KEYS.get(table, []) if k in batch.schema.names]
            if keys:
                batch = batch.sort_by([(k, "ascending") for k in keys])
            await self._insert_with_retry(table, batch, token)
        except BaseException as exc:  # every waiter learns the outcome, whatever it is
            for waiter in pending.waiters:
                if not waiter.done():
                    waiter.set_exception(exc if isinstance(exc, Exception) else StoreError(str(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        for waiter in pending.waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _insert_with_retry(self, table: str, batch: pa.Table, token: str) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.1
        for attempt in range(1, self.insert_attempts + 1):
            started = time.perf_counter()
            try:
                await loop.run_in_executor(self._writer, self.store.insert, table, batch, token)
            except StoreError as exc:
                self.metrics.count(self.metrics.rejected, "store_error")
                if not exc.retryable or attempt == self.insert_attempts:
                    raise
                await asyncio.sleep(delay)
                delay *= 4
                continue
            self.metrics.batch(table, batch.num_rows, time.perf_counter() - started)
            return

    async def flush(self) -> None:
        """Write everything pending now and wait for every insert under way."""
        for table in list(self._pending):
            self._flush(table)
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def close(self) -> None:
        await self.flush()
        self._writer.shutdown(wait=True)


def store_unavailable(exc: BaseException) -> bool:
    """Whether a failure means "try again later" to the client."""
    return isinstance(exc, (Backpressure, StoreUnavailable)) or getattr(exc, "retryable", False)


