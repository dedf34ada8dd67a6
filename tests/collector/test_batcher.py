"""Group commit on the real engine: requests wait for their insert, share it, and survive retried inserts."""

from __future__ import annotations

import asyncio

import pyarrow as pa
import pytest

from aitrail.collector.batcher import Batcher
from aitrail.collector.telemetry import SelfMetrics
from aitrail.errors import Backpressure, StoreError, StoreUnavailable


def _rows(n, start=0):
    return {"otel_logs": pa.table({
        "Timestamp": pa.array([1_700_000_000_000_000_000 + i for i in range(start, start + n)], pa.timestamp("ns")),
        "Body": [f"line {i}" for i in range(start, start + n)],
    })}


class FlakyStore:
    """The real store, failing chosen inserts *after* they happened (the worst case: stored but not acknowledged)."""

    def __init__(self, store, fail_after_insert=0, fail_before_insert=0, error=StoreUnavailable):
        self.store, self.after, self.before, self.error = store, fail_after_insert, fail_before_insert, error
        self.calls = 0

    def insert(self, table, batch, dedup_token=None):
        self.calls += 1
        if self.before:
            self.before -= 1
            raise self.error("refused before writing")
        self.store.insert(table, batch, dedup_token)
        if self.after:
            self.after -= 1
            raise self.error("connection lost after writing")


def _count(store):
    return store.rows("SELECT count() AS n FROM aitrail.otel_logs")[0]["n"]


def test_concurrent_requests_share_one_insert(store):
    metrics = SelfMetrics()

    async def scenario():
        batcher = Batcher(store, metrics, flush_interval=0.2)
        await asyncio.gather(*(batcher.submit(_rows(10, i * 10)) for i in range(20)))
        await batcher.close()

    asyncio.run(scenario())
    assert _count(store) == 200
    assert metrics.batches == 1 and metrics.inserted["otel_logs"] == 200


def test_max_rows_flushes_without_waiting(store):
    metrics = SelfMetrics()

    async def scenario():
        batcher = Batcher(store, metrics, flush_interval=3600, max_rows=50)
        await asyncio.wait_for(batcher.submit(_rows(60)), timeout=30)
        await batcher.close()

    asyncio.run(scenario())
    assert _count(store) == 60


def test_retry_after_a_lost_acknowledgement_stores_once(store):
    flaky = FlakyStore(store, fail_after_insert=2)

    async def scenario():
        batcher = Batcher(flaky, SelfMetrics(), flush_interval=0.01, insert_attempts=3)
        await batcher.submit(_rows(25))
        await batcher.close()

    asyncio.run(scenario())
    assert flaky.calls == 3
    assert _count(store) == 25


def test_a_store_that_stays_down_fails_the_request(store):
    flaky = FlakyStore(store, fail_before_insert=10)

    async def scenario():
        batcher = Batcher(flaky, SelfMetrics(), flush_interval=0.01, insert_attempts=2)
        with pytest.raises(StoreUnavailable):
            await batcher.submit(_rows(5))
        await batcher.close()

    asyncio.run(scenario())
    assert _count(store) == 0


def test_permanent_errors_are_not_retried(store):
    flaky = FlakyStore(store, fail_before_insert=1, error=StoreError)

    async def scenario():
        batcher = Batcher(flaky, SelfMetrics(), flush_interval=0.01, insert_attempts=3)
        with pytest.raises(StoreError):
            await batcher.submit(_rows(5))
        await batcher.close()

    asyncio.run(scenario())
    assert flaky.calls == 1


def test_full_collector_refuses_instead_of_growing(store):
    metrics = SelfMetrics()

    async def scenario():
        batcher = Batcher(store, metrics, flush_interval=0.5, max_pending_rows=30)
        first = asyncio.ensure_future(batcher.submit(_rows(20)))
        await asyncio.sleep(0)
        with pytest.raises(Backpressure):
            await batcher.submit(_rows(20, 100))
        await first
        await batcher.close()

    asyncio.run(scenario())
    assert _count(store) == 20 and metrics.rejected["backpressure"] == 1
