"""Group commit through the spool: a request is answered once its rows are fsync'd; the drain stores them.

``submit`` appends a request's rows to the spool (:mod:`aitrail.collector.spool`)
as one record; records arriving together share one fsync, and each request
returns once the fsync that covers its record is done. So a 2xx means "in
the store, or fsync'd in the spool" — a crash loses nothing acknowledged.

The drain reads the spool in order and inserts batches: about one insert per
table every ``flush_interval`` seconds, sooner when ``max_rows`` rows wait,
later when fewer than ``min_rows`` do (up to :data:`SMALL_BATCH_WAIT` flush
intervals): an insert costs the engine a fixed time to plan its statement
(0.14-0.34 s of CPU per signal), which a trickle of requests paid at every
flush (20 log records and 10 spans a second: 40-52% of a core flushed every
second, 3-5% waiting).
Each batch is recorded in the spool's checkpoint before it is inserted, and
each insert carries a deduplication token made of the batch's position in the
spool, so an insert retried — after an error or after a crash — stores its
rows once. (The embedded engine dies with the collector; a non-replicated
table records a token before it keeps the rows, so after a crash the drain
also checks that the batch it was inserting is in each raw table, and
restores what is missing without feeding the materialized views twice.) Retryable errors (the store is down) are retried with backoff
until the store comes back, while the spool keeps accepting up to
``max_spool_bytes`` (then Backpressure, 503 + Retry-After). A batch the store
refuses for good is inserted record by record, and the records it still
refuses are moved to the spool's ``dead/`` folder, logged and counted: they
never block the spool.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aitrail.collector.config import CollectorConfig
from aitrail.collector.engine import ingest
from aitrail.collector.spool import Batch, Position, Requests, Spool, encode_record, record_rows
from aitrail.collector.store import Store
from aitrail.collector.telemetry import SelfMetrics
from aitrail.errors import Backpressure, StoreError, StoreUnavailable

log = logging.getLogger("aitrail.collector")

SORT_KEYS: dict[str, list[str]] = {
    "otel_traces": ["ServiceName", "SpanName", "Timestamp"],
    "otel_logs": ["ServiceName", "Timestamp"],
}
"""Rows are handed to ClickHouse already in (most of) the table's key order."""


TIME_COLUMNS = ("Timestamp", "TimeUnix")
"""The event-time column of each raw table, to find a batch's rows again."""


def _canonical(column: Any, like: Any = None) -> list[Any]:
    """Values comparable between what the drain sent and what the store returns (cast to the store's type)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if like is not None:
        if pa.types.is_dictionary(like):
            like = like.value_type
        column = column.cast(like, safe=False)  # e.g. a DateTime (seconds) column keeps what the engine kept
    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_time(kind):
        column = pc.cast(column, pa.int64())
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_large_binary(kind) \
            or pa.types.is_fixed_size_binary(kind):
        column = column.cast(pa.binary())
    values = column.to_pylist()
    if pa.types.is_floating(kind):
        values = ["nan" if v != v else v for v in values]  # NaN is a value like any other here
    return values


def missing_rows(store: Store, table: str, data: pa.Table) -> pa.Table | None:
    """The rows of ``data`` that ``table`` does not hold (compared on every scalar column); None if it cannot tell.

    Why: a non-replicated MergeTree records an insert's deduplication token
    before it commits the part, so an engine killed in between (the embedded
    store dies with the collector) would "deduplicate" the retry of a batch
    whose rows never landed. After a crash the drain checks instead of trusting.
    """
    time_column = next((c for c in TIME_COLUMNS if c in data.schema.names), None)
    columns = [f.name for f in data.schema if not pa.types.is_nested(f.type) and f.name in _columns(store, table)]
    if time_column is None or time_column not in columns or data.num_rows == 0:
        return None
    nanos = pc.cast(data[time_column], pa.int64())
    low, high = pc.min(nanos).as_py(), pc.max(nanos).as_py()
    select = ", ".join(f"`{c}`" for c in columns)
    sql = (f"SELECT {select} FROM {store.qualified(table)} WHERE `{time_column}` BETWEEN "
           f"fromUnixTimestamp64Nano(toInt64({int(low)})) AND fromUnixTimestamp64Nano(toInt64({int(high)}))")
    raw = store.query(sql, fmt="ArrowStream")
    if not raw:
        return data
    stored = pa.ipc.open_stream(raw).read_all()
    present = set(zip(*(_canonical(stored[c]) for c in columns))) if stored.num_rows else set()
    sent = list(zip(*(_canonical(data[c].fill_null(_default(data[c].type)), stored.schema.field(c).type)
                      for c in columns)))
    keep = [i for i, row in enumerate(sent) if row not in present]
    return data.take(pa.array(keep, pa.int64()))


def _default(kind: Any) -> Any:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.scalar("", kind)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return pa.scalar(b"", kind)
    if pa.types.is_boolean(kind):
        return pa.scalar(False)
    if pa.types.is_timestamp(kind):
        return pa.scalar(0, pa.int64()).cast(kind)
    return pa.scalar(0, kind) if pa.types.is_integer(kind) or pa.types.is_floating(kind) else None


def _columns(store: Store, table: str) -> set[str]:
    rows = store.rows("SELECT name FROM system.columns WHERE database = {d:String} AND table = {t:String}",
                      {"d": store.database, "t": table})
    return {r["name"] for r in rows}


_PARTITION = re.compile(r"^[A-Za-z0-9_-]+$")


def restore_rows(store: Store, table: str, rows: pa.Table) -> None:
    """Put rows into ``table`` without feeding its materialized views again (they were fed already).

    The rows go into a scratch copy of the table, whose partitions are then
    attached to the table: ATTACH PARTITION FROM moves parts, it does not
    insert, so the views do not see them a second time.
    """
    scratch = f"_spool_repair_{table}"[:120]
    store.command(f"DROP TABLE IF EXISTS {store.qualified(scratch)}")
    store.command(f"CREATE TABLE {store.qualified(scratch)} AS {store.qualified(table)}")
    try:
        store.insert(scratch, rows, None)
        partitions = store.rows(
            "SELECT DISTINCT partition_id AS p FROM system.parts WHERE database = {d:String} AND table = {t:String} "
            "AND active", {"d": store.database, "t": scratch})
        for partition in partitions:
            if not _PARTITION.match(partition["p"]):
                raise StoreError(f"unexpected partition id {partition['p']!r}")
            store.command(f"ALTER TABLE {store.qualified(table)} ATTACH PARTITION ID '{partition['p']}' "
                          f"FROM {store.qualified(scratch)}")
    finally:
        store.command(f"DROP TABLE IF EXISTS {store.qualified(scratch)}")


class _Refused(Exception):
    """The store refused an insert for good (not retryable, or failed every attempt)."""


class _Interrupted(Exception):
    """Shutting down: the batch stays in the spool (and in flight) for the next start."""


def _merge(batch: Batch) -> dict[str, pa.Table | Requests | Exception]:
    """The batch's rows, one sorted table per table name (or why they cannot be combined)."""
    parts: dict[str, list[Any]] = {}
    for record in batch.records:
        try:
            tables = record.tables()
        except Exception as exc:  # noqa: BLE001 - a record that cannot be decoded is handled record by record
            return {name: exc for name in _names(batch)}
        for name, table in tables.items():
            parts.setdefault(name, []).append(table)
    merged: dict[str, pa.Table | Requests | Exception] = {}
    for name, pieces in parts.items():
        if all(isinstance(piece, Requests) for piece in pieces):  # one INSERT … SELECT over all the requests
            merged[name] = Requests.concat(pieces)
            continue
        try:
            table = pa.concat_tables(pieces, promote_options="default") if len(pieces) > 1 else pieces[0]
            keys = [k for k in SORT_KEYS.get(name, []) if k in table.schema.names]
            merged[name] = table.sort_by([(k, "ascending") for k in keys]) if keys else table
        except Exception as exc:  # noqa: BLE001 - incompatible schemas: insert record by record
            merged[name] = exc
    return merged


def _names(batch: Batch) -> list[str]:
    names: list[str] = []
    for record in batch.records:
        try:
            names += [n for n in record.tables() if n not in names]
        except Exception:  # noqa: BLE001
            continue
    return names or ["(undecodable)"]


SMALL_BATCH_WAIT = 10
"""How many flush intervals a batch of fewer than ``min_rows`` rows may wait for more (each write wakes the drain:
a batch that reaches ``min_rows`` goes at the next flush interval)."""


class Batcher:
    """The spool's writer (group fsync) and its drain (batched, deduplicated inserts) on one event loop."""

    def __init__(
        self,
        store: Store,
        metrics: SelfMetrics,
        spool: Spool,
        flush_interval: float = CollectorConfig.flush_interval,
        max_rows: int = CollectorConfig.max_batch_rows,
        max_pending_rows: int = CollectorConfig.max_pending_rows,
        max_spool_bytes: int = CollectorConfig.max_spool_bytes,
        insert_attempts: int = 3,
        max_batch_bytes: int = 64 << 20,
        max_retry_delay: float = 5.0,
        verify_after_crash: bool | None = None,
        min_rows: int = CollectorConfig.min_batch_rows,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.spool = spool
        self.flush_interval = flush_interval
        self.max_rows = max_rows
        self.min_rows = min_rows
        self.max_pending_rows = max_pending_rows
        self.max_spool_bytes = max_spool_bytes
        self.insert_attempts = insert_attempts
        self.max_batch_bytes = max_batch_bytes
        self.max_retry_delay = max_retry_delay
        # The embedded engine dies with the collector, possibly in the middle of an insert: after a crash, check.
        # (A server outlives the collector: its own deduplication is consistent, and its tables may be replicated.)
        self.verify_after_crash = store.in_process if verify_after_crash is None else verify_after_crash
        self.last_error: str | None = None
        self._queue: list[tuple[bytes, asyncio.Future[None]]] = []
        self._queued_rows = 0
        self._queued_bytes = 0
        self._writing: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._progress: asyncio.Event | None = None  # set (and replaced) whenever the drain moved on
        self._urgent = Position(-1, 0)  # drain without waiting until this position is stored
        self._closing = False
        self._deadline: float | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aitrail-spool")
        self._drainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aitrail-insert")

    # lifecycle

    def start(self) -> None:
        """Start draining (call on the event loop that will submit)."""
        self._loop = asyncio.get_running_loop()
        self._wake, self._stop, self._progress = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._task = self._loop.create_task(self._run(), name="aitrail-drain")

    async def close(self, timeout: float = 10.0) -> None:
        """Refuse new rows, drain what can be drained within ``timeout`` seconds, leave the rest in the spool."""
        self._closing = True
        while self._writing is not None:
            await asyncio.shield(self._writing)
        if self._task is not None:
            self._deadline = time.monotonic() + timeout
            assert self._stop is not None
            self._stop.set()
            self._kick()
            await self._task
        self._writer.shutdown(wait=True)
        self._drainer.shutdown(wait=True)
        left = self.spool.stats()
        if left["pending_records"] or left["pending_bytes"]:
            log.warning("%d records (%d rows) stay in the spool %s; the next start stores them",
                        left["pending_records"], left["pending_rows"], left["dir"])
        await asyncio.to_thread(self.spool.close)

    # accepting

    @property
    def pending_rows(self) -> int:
        """Rows accepted (or being accepted) and not yet in the store."""
        return self.spool.pending_rows + self._queued_rows

    async def submit(self, tables: dict[str, pa.Table | Requests]) -> None:
        """Spool rows; return once they are fsync'd (raise Backpressure when full, StoreUnavailable if the disk fails)."""
        tables = {name: table for name, table in tables.items() if table.num_rows}
        rows = sum(t.num_rows for t in tables.values())
        if rows == 0:
            return
        if self._closing:
            raise StoreUnavailable("the collector is shutting down")
        if self.pending_rows + rows > self.max_pending_rows:
            self.metrics.count(self.metrics.rejected, "backpressure")
            raise Backpressure(f"collector is full ({self.pending_rows} rows waiting for the store); retry later")
        self._queued_rows += rows
        try:
            record = await asyncio.to_thread(encode_record, tables)
            if self.spool.pending_bytes + self._queued_bytes + len(record) > self.max_spool_bytes:
                self.metrics.count(self.metrics.rejected, "backpressure")
                raise Backpressure(f"the spool is full ({self.spool.pending_bytes} bytes waiting for the store); "
                                   "retry later")
            assert self._loop is not None, "Batcher.start() was not called"
            future: asyncio.Future[None] = self._loop.create_future()
            self._queue.append((record, future))
            self._queued_bytes += len(record)
            try:
                if self._writing is None:
                    self._writing = self._loop.create_task(self._write())
                await asyncio.shield(future)  # a client that hangs up does not unwrite its record
            finally:
                self._queued_bytes -= len(record)
        finally:
            self._queued_rows -= rows

    async def _write(self) -> None:
        """Group commit: whatever queued during one fsync goes in the next one."""
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                group, self._queue = self._queue, []
                try:
                    await loop.run_in_executor(self._writer, self.spool.write, [record for record, _ in group])
                except Exception as exc:  # noqa: BLE001 - disk full, I/O error: not acknowledged, retry later
                    log.error("cannot write %d records to the spool %s: %s", len(group), self.spool.directory, exc)
                    for _, future in group:
                        if not future.done():
                            future.set_exception(StoreUnavailable(f"cannot write to the spool: {exc}"))
                    continue
                for _, future in group:
                    if not future.done():
                        future.set_result(None)
                self._kick()
        finally:
            self._writing = None

    # waiting for the drain

    def drained(self) -> bool:
        return not self.spool.has_pending()

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record acknowledged before the call is in the store; False on timeout."""
        target = self.spool.durable_end
        if self.spool.committed >= target:
            return True
        self._urgent = max(self._urgent, target)
        self._kick()
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.spool.committed < target:
            if self._task is None or self._task.done() or self._progress is None:
                return False
            remaining = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if remaining <= 0:
                return False
            try:  # no worker thread is held while waiting (SQL reads may be waiting in all of them)
                await asyncio.wait_for(self._progress.wait(), remaining)
            except TimeoutError:
                pass
        return True

    def _moved(self) -> None:
        assert self._progress is not None
        self._progress.set()
        self._progress = asyncio.Event()

    def wait_drained(self, timeout: float | None = 30.0) -> bool:
        """``flush`` for other threads (never the collector's own loop): block until drained."""
        if self.spool.committed >= self.spool.durable_end:
            return True
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self.flush(timeout), self._loop)
        return future.result(None if timeout is None else timeout + 5)

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # draining

    async def _in_drain(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._drainer, fn, *args)

    async def _sleep(self, seconds: float | None) -> None:
        assert self._wake is not None
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    def _due(self) -> float:
        """Seconds until the next batch should go (0: now)."""
        if self._closing or self.spool.committed < self._urgent or self.spool.pending_rows >= self.max_rows:
            return 0.0
        oldest = self.spool.oldest_pending()
        if oldest is None:
            return 0.0
        waits = SMALL_BATCH_WAIT if self.spool.pending_rows < self.min_rows else 1
        return max(0.0, oldest + waits * self.flush_interval - time.monotonic())

    async def _run(self) -> None:
        while True:
            if self._deadline is not None and time.monotonic() >= self._deadline:
                return
            try:
                if not self.spool.has_pending():
                    if self._closing:
                        return
                    await self._sleep(None)
                    continue
                wait = self._due()
                if wait > 0:
                    await self._sleep(wait)
                    continue
                batch = await self._in_drain(self.spool.read_batch, self.max_rows, self.max_batch_bytes)
                if batch is None:  # (it may have moved on to the next segment)
                    self._moved()
                    await self._sleep(0.01)
                    continue
                await self._store(batch)
                self._moved()
            except _Interrupted:
                return
            except Exception as exc:  # noqa: BLE001 - the drain never dies; the spool keeps everything meanwhile
                if isinstance(exc, OSError):  # a full disk, an I/O error: an expected condition, in one line
                    log.error("the spool drain cannot go on (%s); retrying in 1s, the spool keeps everything", exc)
                else:
                    log.exception("the spool drain failed; retrying in 1s")
                try:
                    await self._backoff(1.0)
                except _Interrupted:
                    return

    async def _store(self, batch: Batch) -> None:
        if batch.resumed:
            log.warning("inserting again the batch that was in flight when the last run or drain attempt stopped "
                        "(spool %s:%s-%s, deduplicated by its tokens)", batch.segment, batch.start, batch.end)
        else:
            await self._in_drain(self.spool.begin, batch)
        merged = await self._in_drain(_merge, batch)
        for table, data in merged.items():
            if table not in batch.split:
                if isinstance(data, Exception):
                    reason = f"rows cannot be combined: {data}"
                else:
                    try:
                        await self._insert(table, data, batch.token(table))
                        if batch.resumed and self.verify_after_crash:
                            await self._verify(table, data)
                        continue
                    except _Refused as exc:
                        reason = str(exc)
                log.warning("the store refused a batch of %s (%s); inserting its %d records one by one",
                            table, reason, len(batch.records))
                await self._in_drain(self.spool.split, batch, table)
            await self._insert_each(batch, table)
        await self._in_drain(self.spool.commit, batch)

    async def _verify(self, part: str, data: pa.Table | Requests) -> None:
        """After a crash, check that the batch's rows are really in their table; put back the ones that are not."""
        table = ingest.table(part)
        try:
            data = await self._in_drain(ingest.rows, self.store, part, data)
            missing = await self._in_drain(missing_rows, self.store, table, data)
            if missing is None or missing.num_rows == 0:
                return
            log.warning("%d of the %d rows of %s inserted when the last run stopped are not in the store "
                        "(the engine recorded the insert but was killed before keeping its rows): restoring them",
                        missing.num_rows, data.num_rows, table)
            await self._in_drain(restore_rows, self.store, table, missing)
            self.metrics.count(self.metrics.spool, "rows_restored", missing.num_rows)
        except Exception as exc:  # noqa: BLE001 - checking is a safety net; never block the spool on it
            log.error("could not check the rows of %s inserted when the last run stopped: %s", table, exc)

    async def _insert_each(self, batch: Batch, table: str) -> None:
        for record in batch.records:
            try:
                data = record.tables().get(table)
            except Exception as exc:  # noqa: BLE001
                await self._in_drain(self.spool.bury, batch, record, table, f"cannot decode the record: {exc}")
                continue
            if data is None or data.num_rows == 0:
                continue
            try:
                await self._insert(table, data, batch.record_token(record, table))
            except _Refused as exc:
                await self._in_drain(self.spool.bury, batch, record, table, str(exc))

    async def _insert(self, table: str, data: pa.Table | Requests, token: str) -> None:
        attempt, delay = 0, 0.1
        while True:
            started = time.perf_counter()
            try:
                await self._in_drain(ingest.insert, self.store, table, data, token)
            except Exception as exc:  # noqa: BLE001 - classified below
                error = exc if isinstance(exc, StoreError) else StoreError(f"{type(exc).__name__}: {exc}")
                attempt += 1
                if not error.retryable and attempt >= self.insert_attempts:
                    raise _Refused(str(error)) from exc
                if self.last_error is None:
                    log.warning("insert into %s failed (%s); retrying with backoff, the spool keeps the rows",
                                table, error)
                self.last_error = str(error)
                self.metrics.count(self.metrics.spool, "insert_retries")
                await self._backoff(delay)
                delay = min(delay * 2, self.max_retry_delay)
                continue
            if self.last_error is not None:
                log.warning("the store takes inserts again")
            self.last_error = None
            self.metrics.batch(ingest.table(table), data.num_rows, time.perf_counter() - started)
            return

    async def _backoff(self, seconds: float) -> None:
        """Sleep before a retry; give up (leaving the batch in the spool) when shutdown's deadline comes first."""
        if self._deadline is not None and time.monotonic() + seconds >= self._deadline:
            raise _Interrupted
        assert self._stop is not None
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise _Interrupted

    def stats(self) -> dict[str, Any]:
        return {**self.spool.stats(), "store_error": self.last_error, "queued_rows": self._queued_rows}


class ReadAfterWrite(Store):
    """The store as a read-your-writes SQL endpoint sees it: every read first waits for the drain.

    For tests and demos (``read_after_write``): a query sent after a 2xx sees that request's rows.
    """

    def __init__(self, store: Store, batcher: Batcher, timeout: float = 30.0) -> None:
        self._store, self._batcher, self._timeout = store, batcher, timeout
        self.database, self.in_process = store.database, store.in_process

    def query(self, sql: str, params: Any = None, fmt: str = "JSONEachRow", readonly: bool = False) -> bytes:
        self._batcher.wait_drained(self._timeout)
        return self._store.query(sql, params, fmt, readonly)

    def query_in(self, database: str, sql: str, params: Any = None, fmt: str = "JSONEachRow") -> bytes:
        self._batcher.wait_drained(self._timeout)
        return self._store.query_in(database, sql, params, fmt)

    def command(self, sql: str, params: Any = None) -> None:
        self._store.command(sql, params)

    def insert(self, table: str, batch: Any, dedup_token: str | None = None) -> None:
        self._store.insert(table, batch, dedup_token)

    def insert_requests(self, statement: Callable[[str], str], structure: str, settings: Mapping[str, Any],
                        data: bytes, dedup_token: str | None = None) -> None:
        self._store.insert_requests(statement, structure, settings, data, dedup_token)

    def close(self) -> None:
        """The collector owns the store and closes it; this view of it has nothing of its own to release."""


def store_unavailable(exc: BaseException) -> bool:
    """Whether a failure means "try again later" to the client."""
    return isinstance(exc, (Backpressure, StoreUnavailable)) or getattr(exc, "retryable", False)


__all__ = ["Batcher", "ReadAfterWrite", "SORT_KEYS", "record_rows", "store_unavailable"]
