"""Group commit through the spool, on the real engine: a request returns once fsync'd; the drain stores it once."""

from __future__ import annotations

import asyncio

import pyarrow as pa
import pytest

from aitrail.collector.store import Store
from aitrail.collector.batcher import Batcher
from aitrail.collector.spool import Spool
from aitrail.collector.telemetry import SelfMetrics
from aitrail.errors import Backpressure, StoreError, StoreUnavailable


def _rows(n, start=0, body="line"):
    return {"otel_logs": pa.table({
        "Timestamp": pa.array([1_700_000_000_000_000_000 + i for i in range(start, start + n)], pa.timestamp("ns")),
        "Body": [f"{body} {i}" for i in range(start, start + n)],
    })}


class FlakyStore(Store):
    """The real store, failing chosen inserts before or *after* they happened (stored but not acknowledged)."""

    def __init__(self, store, fail_after_insert=0, fail_before_insert=0, error=StoreUnavailable, poison=None):
        self.store, self.after, self.before, self.error, self.poison = (
            store, fail_after_insert, fail_before_insert, error, poison)
        self.calls = 0
        self.down = False

    def insert(self, table, batch, dedup_token=None):
        self.calls += 1
        if self.down:
            raise StoreUnavailable("connection refused")
        if self.poison and self.poison in batch["Body"].to_pylist():
            raise StoreError("Code: 53. DB::Exception: Type mismatch (TYPE_MISMATCH)")
        if self.before:
            self.before -= 1
            raise self.error("refused before writing")
        self.store.insert(table, batch, dedup_token)
        if self.after:
            self.after -= 1
            raise self.error("connection lost after writing")

    def insert_requests(self, statement, structure, settings, data, dedup_token=None):
        self.store.insert_requests(statement, structure, settings, data, dedup_token)

    def command(self, sql, params=None):
        self.store.command(sql, params)

    def query(self, sql, params=None, fmt="JSONEachRow", readonly=False):
        return self.store.query(sql, params, fmt, readonly)

    def query_in(self, database, sql, params=None, fmt="JSONEachRow"):
        return self.store.query_in(database, sql, params, fmt)

    def close(self):
        self.store.close()


def _count(store):
    return store.rows("SELECT count() AS n FROM aitrail.otel_logs")[0]["n"]


def _batcher(store, tmp_path, metrics=None, **kw):
    metrics = metrics or SelfMetrics()
    return Batcher(store, metrics, Spool(tmp_path / "spool", metrics).open(), **kw)


def run(scenario):
    return asyncio.run(scenario())


def test_concurrent_requests_share_fsyncs_and_inserts(store, tmp_path):
    metrics = SelfMetrics()

    async def scenario():
        # No timer during the burst (a loaded machine could split it); the flush then makes one insert of it all.
        batcher = _batcher(store, tmp_path, metrics, flush_interval=3600)
        batcher.start()
        await asyncio.gather(*(batcher.submit(_rows(10, i * 10)) for i in range(40)))
        assert await batcher.flush(30)
        await batcher.close()

    run(scenario)
    assert _count(store) == 400
    # Requests share inserts (how many depends on the drain's timing on a busy machine: no timing in tests).
    assert metrics.batches < 40 and metrics.inserted["otel_logs"] == 400
    assert metrics.spool["fsyncs"] < 40  # requests that arrived together shared an fsync


def test_a_request_returns_once_spooled_before_the_insert(store, tmp_path):
    async def scenario():
        batcher = _batcher(store, tmp_path, flush_interval=3600)
        batcher.start()
        await asyncio.wait_for(batcher.submit(_rows(25)), 30)
        assert _count(store) == 0 and batcher.pending_rows == 25
        assert await batcher.flush(30)  # flush does not wait for the interval
        assert _count(store) == 25 and batcher.pending_rows == 0
        await batcher.close()

    run(scenario)


def test_max_rows_inserts_without_waiting(store, tmp_path):
    async def scenario():
        batcher = _batcher(store, tmp_path, flush_interval=3600, max_rows=50)
        batcher.start()
        await batcher.submit(_rows(60))
        for _ in range(300):
            if _count(store) == 60:
                break
            await asyncio.sleep(0.05)
        await batcher.close()

    run(scenario)
    assert _count(store) == 60


def test_a_small_batch_waits_longer_for_company_and_goes_once_it_has_enough(store, tmp_path):
    """Each insert costs the engine a fixed time to plan: fewer than min_rows rows wait up to ten flush intervals,
    as many go at the next one (the drain is told at every write); a flush asked for does not wait."""
    async def scenario():
        batcher = _batcher(store, tmp_path, flush_interval=3600, min_rows=100)
        batcher.start()
        await batcher.submit(_rows(10))
        small = batcher._due()
        await batcher.submit(_rows(90, 10))
        enough = batcher._due()
        assert await batcher.flush(30)
        await batcher.close()
        return small, enough

    small, enough = run(scenario)
    assert 9 * 3600 < small <= 10 * 3600 and 3000 < enough <= 3600
    assert _count(store) == 100


def test_retry_after_a_lost_acknowledgement_stores_once(store, tmp_path):
    flaky = FlakyStore(store, fail_after_insert=2)
    metrics = SelfMetrics()

    async def scenario():
        batcher = _batcher(flaky, tmp_path, metrics, flush_interval=0.01)
        batcher.start()
        await batcher.submit(_rows(25))
        assert await batcher.flush(30)
        await batcher.close()

    run(scenario)
    assert flaky.calls == 3 and metrics.spool["insert_retries"] == 2
    assert _count(store) == 25


def test_a_store_outage_keeps_accepting_then_drains_in_order_once(store, tmp_path):
    flaky = FlakyStore(store)

    async def scenario():
        batcher = _batcher(flaky, tmp_path, flush_interval=0.01, max_retry_delay=0.1)
        batcher.start()
        flaky.down = True
        for i in range(5):
            await batcher.submit(_rows(5, i * 5))  # answered: the rows are on disk
        assert not await batcher.flush(0.5)
        assert batcher.last_error and _count(store) == 0 and batcher.pending_rows == 25
        flaky.down = False
        assert await batcher.flush(30)
        assert batcher.last_error is None
        await batcher.close()

    run(scenario)
    assert _count(store) == 25


def test_a_permanently_refused_record_goes_to_dead_and_does_not_block_the_rest(store, tmp_path):
    flaky = FlakyStore(store, poison="poison 0")
    metrics = SelfMetrics()

    async def scenario():
        batcher = _batcher(flaky, tmp_path, metrics, flush_interval=0.2, max_retry_delay=0.05)
        batcher.start()
        await asyncio.gather(batcher.submit(_rows(3, 0, "good")), batcher.submit(_rows(2, 0, "poison")),
                             batcher.submit(_rows(4, 10, "good")))
        assert await batcher.flush(30)
        await batcher.submit(_rows(1, 100, "later"))
        assert await batcher.flush(30)
        await batcher.close()

    run(scenario)
    bodies = {r["Body"] for r in store.rows("SELECT Body FROM aitrail.otel_logs")}
    assert bodies == {"good 0", "good 1", "good 2", "good 10", "good 11", "good 12", "good 13", "later 100"}
    assert metrics.spool["dead_records"] == 1
    dead = list((tmp_path / "spool" / "dead").glob("*.rec"))
    assert len(dead) == 1 and (tmp_path / "spool" / "dead" / f"{dead[0].name}.json").exists()


def test_a_crash_in_the_middle_of_a_batch_stores_it_once_on_restart(store, tmp_path):
    """Killed after one of the batch's tables was inserted, before the checkpoint moved."""
    metrics = SelfMetrics()
    spool = Spool(tmp_path / "spool", metrics).open()
    request = {**_rows(7), "otel_metrics_sum": pa.table({"MetricName": ["m"], "Value": [1.0]})}
    from aitrail.collector.spool import encode_record

    spool.write([encode_record(request)])
    batch = spool.read_batch(1000, 1 << 20)
    spool.begin(batch)
    store.insert("otel_logs", batch.records[0].tables()["otel_logs"], batch.token("otel_logs"))
    spool.close()  # SIGKILL: otel_logs is in, otel_metrics_sum is not, the checkpoint did not move

    async def scenario():
        batcher = Batcher(store, metrics, Spool(tmp_path / "spool", metrics).open(), flush_interval=0.01)
        batcher.start()
        assert await batcher.flush(30)
        await batcher.close()

    run(scenario)
    assert _count(store) == 7
    assert store.rows("SELECT count() AS n FROM aitrail.otel_metrics_sum")[0]["n"] == 1


def test_shutdown_during_an_outage_keeps_the_rest_for_the_next_start(store, tmp_path):
    flaky = FlakyStore(store)

    async def first():
        batcher = _batcher(flaky, tmp_path, flush_interval=0.01, max_retry_delay=0.05)
        batcher.start()
        flaky.down = True
        await batcher.submit(_rows(9))
        await asyncio.wait_for(batcher.close(timeout=0.3), 10)  # gives up after the timeout, loses nothing

    async def second():
        batcher = _batcher(store, tmp_path, flush_interval=0.01)
        batcher.start()
        assert await batcher.flush(30)
        await batcher.close()

    run(first)
    assert _count(store) == 0
    run(second)
    assert _count(store) == 9


def test_permanent_errors_are_not_retried_forever(store, tmp_path):
    flaky = FlakyStore(store, fail_before_insert=100, error=StoreError)

    async def scenario():
        batcher = _batcher(flaky, tmp_path, flush_interval=0.01, insert_attempts=2, max_retry_delay=0.01)
        batcher.start()
        await batcher.submit(_rows(5))
        assert await batcher.flush(30)
        await batcher.close()

    run(scenario)
    assert flaky.calls == 4  # the batch twice, then its one record twice: then set aside
    assert _count(store) == 0 and len(list((tmp_path / "spool" / "dead").glob("*.rec"))) == 1


def test_full_collector_refuses_instead_of_growing(store, tmp_path):
    metrics = SelfMetrics()

    async def scenario():
        batcher = _batcher(store, tmp_path, metrics, flush_interval=3600, max_pending_rows=30)
        batcher.start()
        await batcher.submit(_rows(20))
        with pytest.raises(Backpressure):
            await batcher.submit(_rows(20, 100))
        assert await batcher.flush(30)
        await batcher.submit(_rows(20, 100))  # room again once stored
        await batcher.close()

    run(scenario)
    assert _count(store) == 40 and metrics.rejected["backpressure"] == 1


def test_a_full_spool_refuses_while_the_store_is_down(store, tmp_path):
    flaky = FlakyStore(store)
    metrics = SelfMetrics()

    async def scenario():
        batcher = _batcher(flaky, tmp_path, metrics, flush_interval=0.01, max_spool_bytes=20_000, max_retry_delay=0.05)
        batcher.start()
        flaky.down = True
        accepted = 0
        with pytest.raises(Backpressure, match="spool is full"):
            for i in range(1000):
                await batcher.submit(_rows(10, i * 10))
                accepted += 1
        assert 0 < accepted < 1000 and batcher.spool.pending_bytes <= 20_000
        flaky.down = False
        assert await batcher.flush(30)
        await batcher.close()
        return accepted

    accepted = run(scenario)
    assert _count(store) == accepted * 10


# -- after a crash: the engine may have kept a batch's token but not its rows -------------------------------------

NOW = 1_700_000_000_000_000_000


def _b64(hex_id):  # protobuf's JSON mapping wants bytes in base64 (OTLP/JSON's hex is the decoder's business)
    import base64

    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def _requests():
    """One OTLP request per signal, every metric kind, with the awkward values (NaN, empty, unicode)."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}
    attrs = [{"key": "k", "value": {"stringValue": "vé"}}]
    point = {"timeUnixNano": str(NOW), "startTimeUnixNano": str(NOW - 10**9), "attributes": attrs}
    traces = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": {"name": "s"}, "spans": [
        {"traceId": _b64("0af7651916cd43dd8448eb211c80319c"), "spanId": _b64(f"b7ad6b71692033{i:02x}"), "name": f"gen {i}",
         "startTimeUnixNano": str(NOW + i), "endTimeUnixNano": str(NOW + i + 5),
         "attributes": [{"key": "aitrail.kind", "value": {"stringValue": "generation"}},
                        {"key": "gen_ai.request.model", "value": {"stringValue": "m"}}]} for i in range(5)]}]}]}
    logs = {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": [
        {"timeUnixNano": str(NOW + i), "body": {"stringValue": f"line {i}" if i else ""}, "attributes": attrs,
         "severityNumber": 9} for i in range(3)]}]}]}
    metrics = {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [
        {"name": "c", "sum": {"dataPoints": [{**point, "asDouble": 1.5}], "aggregationTemporality": 2,
                              "isMonotonic": True}},
        {"name": "g", "gauge": {"dataPoints": [{**point, "asDouble": "NaN"}, {**point, "asInt": "7"}]}},
        {"name": "h", "histogram": {"dataPoints": [{**point, "count": "3", "sum": 6.0, "bucketCounts": ["1", "2"],
                                                    "explicitBounds": [2.0], "min": 1.0, "max": 3.0}],
                                    "aggregationTemporality": 2}},
        {"name": "e", "exponentialHistogram": {"dataPoints": [{**point, "count": "2", "sum": 3.0, "scale": 1,
                                                               "zeroCount": "0",
                                                               "positive": {"offset": 0, "bucketCounts": ["2"]}}],
                                               "aggregationTemporality": 2}},
        {"name": "q", "summary": {"dataPoints": [{**point, "count": "2", "sum": 3.0,
                                                  "quantileValues": [{"quantile": 0.5, "value": 1.5}]}]}},
    ]}]}]}
    return [("traces", json_format.ParseDict(traces, ExportTraceServiceRequest())),
            ("logs", json_format.ParseDict(logs, ExportLogsServiceRequest())),
            ("metrics", json_format.ParseDict(metrics, ExportMetricsServiceRequest()))]


def _spooled(signal="traces"):
    """A request of the signal as the collector spools it: (part, requests)."""
    from aitrail.collector.limits import ItemLimits, enforce
    from aitrail.collector.pipeline import SPOOL

    request = next(request for name, request in _requests() if name == signal)
    (part, requests), = SPOOL[signal](request, "default", None, enforce(signal, request, ItemLimits()).depth).tables.items()
    return part, requests


def _flattened(store):
    """Every raw table's rows from the requests: as the collector spools them, made rows as the drain checks them."""
    from aitrail.collector.engine import ingest
    from aitrail.collector.limits import ItemLimits, enforce
    from aitrail.collector.pipeline import SPOOL

    tables = {}
    for signal, request in _requests():
        depth = enforce(signal, request, ItemLimits()).depth
        for part, requests in SPOOL[signal](request, "default", None, depth).tables.items():
            tables[ingest.table(part)] = ingest.rows(store, part, requests)
    return tables


def test_rows_just_inserted_are_found_again_in_every_raw_table(store):
    from aitrail.collector.batcher import missing_rows

    tables = _flattened(store)
    assert len(tables) == 7
    for table, data in tables.items():
        assert missing_rows(store, table, data).num_rows == data.num_rows, table  # not there yet
        store.insert(table, data, f"t-{table}")
        assert missing_rows(store, table, data).num_rows == 0, table  # found, value for value


def test_a_batch_whose_token_outlived_its_rows_is_restored_once_without_feeding_the_views_again(store, tmp_path):
    """The engine killed between recording the token and keeping the part: the retry is 'deduplicated'."""
    from aitrail.collector.engine import ingest
    from aitrail.collector.spool import encode_record

    metrics = SelfMetrics()
    part, requests = _spooled()
    spool = Spool(tmp_path / "spool", metrics).open()
    spool.write([encode_record({part: requests})])
    batch = spool.read_batch(1000, 1 << 20)
    spool.begin(batch)
    ingest.insert(store, part, requests, batch.token(part))  # the views are fed here
    store.command("ALTER TABLE aitrail.otel_traces DELETE WHERE 1 SETTINGS mutations_sync = 2")  # the part is lost
    ingest.insert(store, part, requests, batch.token(part))
    assert store.rows("SELECT count() AS n FROM aitrail.otel_traces")[0]["n"] == 0  # the trap: deduplicated
    spool.close()  # SIGKILL

    async def scenario():
        batcher = Batcher(store, metrics, Spool(tmp_path / "spool", metrics).open(), flush_interval=0.01)
        batcher.start()
        assert await batcher.flush(30)
        await batcher.close()

    run(scenario)
    names = sorted(r["SpanName"] for r in store.rows("SELECT SpanName FROM aitrail.otel_traces"))
    assert names == [f"gen {i}" for i in range(5)]
    assert store.rows("SELECT count() AS n FROM aitrail.ai_generations")[0]["n"] == 5
    assert metrics.spool["rows_restored"] == 5
    assert not store.rows("SELECT name FROM system.tables WHERE database = 'aitrail' AND name LIKE '%spool_repair%'")
