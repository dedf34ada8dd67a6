"""The spool on its own (files only, no engine): records, torn tails, damage, segments, checkpoint, lock."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pytest

from aitrail.collector.spool import HEADER, Position, Spool, decode_payload, encode_record
from aitrail.collector.telemetry import SelfMetrics
from aitrail.errors import StoreLocked


def _record(i: int, rows: int = 3) -> bytes:
    return encode_record({
        "otel_logs": pa.table({"Body": [f"r{i}-{n}" for n in range(rows)]}),
        "otel_metrics_sum": pa.table({"Value": [float(i)]}),
    })


def _bodies(batch) -> list[str]:
    return [b for r in batch.records for b in r.tables()["otel_logs"]["Body"].to_pylist()]


def _open(path, **kw) -> Spool:
    return Spool(path, SelfMetrics(), **kw).open()


def test_a_record_holds_every_table_of_a_request():
    record = _record(7)
    magic, length, rows, _ = HEADER.unpack_from(record)
    assert rows == 4 and length == len(record) - HEADER.size
    tables = decode_payload(record[HEADER.size:])
    assert tables["otel_logs"]["Body"].to_pylist() == ["r7-0", "r7-1", "r7-2"]
    assert tables["otel_metrics_sum"]["Value"].to_pylist() == [7.0]


def test_one_group_is_one_fsync_and_records_come_back_in_order(tmp_path):
    spool = _open(tmp_path)
    positions = spool.write([_record(i) for i in range(10)])
    assert spool.metrics.spool["fsyncs"] == 1
    assert positions == sorted(positions) and positions[0] == Position(spool.durable_end.segment, 0)
    batch = spool.read_batch(max_rows=1000, max_bytes=1 << 20)
    assert _bodies(batch) == [f"r{i}-{n}" for i in range(10) for n in range(3)]
    assert spool.stats()["pending_records"] == 10 and spool.stats()["pending_rows"] == 40
    spool.begin(batch)
    spool.commit(batch)
    assert not spool.has_pending() and spool.stats()["pending_bytes"] == 0
    spool.close()


def test_batches_are_bounded_by_rows(tmp_path):
    spool = _open(tmp_path)
    spool.write([_record(i) for i in range(10)])
    first = spool.read_batch(max_rows=8, max_bytes=1 << 20)
    assert len(first.records) == 2  # 4 rows each: the batch stops once it has 8
    spool.begin(first)
    spool.commit(first)
    assert len(spool.read_batch(max_rows=1000, max_bytes=1 << 20).records) == 8
    spool.close()


def test_a_torn_last_record_is_cut_off_on_recovery(tmp_path):
    spool = _open(tmp_path)
    spool.write([_record(i) for i in range(3)])
    segment = tmp_path / f"{spool.durable_end.segment:016d}.seg"
    spool.close()
    whole = segment.stat().st_size
    with open(segment, "ab") as f:  # a crash in the middle of writing a fourth record
        f.write(_record(3)[:40])
    spool = _open(tmp_path)
    assert segment.stat().st_size == whole
    assert spool.metrics.spool["torn_bytes"] == 40
    assert spool.stats()["pending_records"] == 3
    assert _bodies(spool.read_batch(1000, 1 << 20)) == [f"r{i}-{n}" for i in range(3) for n in range(3)]
    spool.close()


def test_damage_in_the_middle_is_set_aside_and_the_records_after_it_are_kept(tmp_path):
    spool = _open(tmp_path)
    positions = spool.write([_record(i) for i in range(4)])
    segment = tmp_path / f"{positions[0].segment:016d}.seg"
    spool.close()
    data = bytearray(segment.read_bytes())
    data[positions[1].offset + HEADER.size + 5] ^= 0xFF  # one flipped byte in the second record
    segment.write_bytes(bytes(data))
    spool = _open(tmp_path)
    assert spool.metrics.spool["torn_bytes"] == 0  # not cut: valid records follow the damage
    seen = []
    while (batch := spool.read_batch(1000, 1 << 20)) is not None:
        seen += _bodies(batch)
        spool.begin(batch)
        spool.commit(batch)
    assert seen == [f"r{i}-{n}" for i in (0, 2, 3) for n in range(3)]
    assert [p.name for p in (tmp_path / "dead").iterdir() if p.suffix == ".damaged"]
    spool.close()


def test_segments_roll_over_and_are_deleted_once_stored(tmp_path):
    size = len(_record(0))
    spool = _open(tmp_path, segment_bytes=size * 3)
    spool.write([_record(i) for i in range(7)])  # 3 + 3 + 1
    assert len(list(tmp_path.glob("*.seg"))) == 3
    seen = []
    while (batch := spool.read_batch(1000, 1 << 30)) is not None:
        assert len({r.segment for r in batch.records}) == 1  # never across segments
        seen += _bodies(batch)
        spool.begin(batch)
        spool.commit(batch)
    assert len(seen) == 21 and not spool.has_pending()
    assert len(list(tmp_path.glob("*.seg"))) == 1  # only the one being written
    spool.close()


def test_the_batch_in_flight_comes_back_identical_after_a_crash(tmp_path):
    spool = _open(tmp_path)
    spool.write([_record(i) for i in range(2)])
    first = spool.read_batch(1000, 1 << 20)
    spool.begin(first)
    spool.commit(first)
    spool.write([_record(i) for i in range(2, 5)])
    batch = spool.read_batch(1000, 1 << 20)
    spool.split(batch, "otel_metrics_sum")
    tokens = {t: batch.token(t) for t in ("otel_logs", "otel_metrics_sum")}
    spool.close()  # killed before commit; more requests would have come meanwhile:
    spool = _open(tmp_path)
    spool.write([_record(9)])
    again = spool.read_batch(1000, 1 << 20)
    assert again.resumed and (again.segment, again.start, again.end) == (batch.segment, batch.start, batch.end)
    assert {t: again.token(t) for t in tokens} == tokens and again.split == {"otel_metrics_sum"}
    assert _bodies(again) == _bodies(batch)
    spool.commit(again)
    assert _bodies(spool.read_batch(1000, 1 << 20)) == ["r9-0", "r9-1", "r9-2"]
    spool.close()


def test_tokens_differ_between_spools_and_stay_the_same_across_restarts(tmp_path):
    a, b = _open(tmp_path / "a"), _open(tmp_path / "b")
    for spool in (a, b):
        spool.write([_record(0)])
    ta, tb = a.read_batch(10, 1 << 20).token("otel_logs"), b.read_batch(10, 1 << 20).token("otel_logs")
    assert ta != tb
    a.close()
    b.close()
    again = _open(tmp_path / "a")
    assert again.read_batch(10, 1 << 20).token("otel_logs") == ta
    assert json.loads((tmp_path / "a" / "checkpoint.json").read_text())["spool_id"] == ta.split(":")[0]
    again.close()


def test_one_process_per_spool(tmp_path):
    spool = _open(tmp_path)
    with pytest.raises(StoreLocked, match="spool"):
        _open(tmp_path)
    spool.close()
    _open(tmp_path).close()


def test_buried_records_are_kept_with_their_reason(tmp_path):
    spool = _open(tmp_path)
    spool.write([_record(0), _record(1)])
    batch = spool.read_batch(10, 1 << 20)
    spool.bury(batch, batch.records[1], "otel_logs", "Code: 53. TYPE_MISMATCH")
    dead = tmp_path / "dead"
    (rec,) = dead.glob("*.rec")
    note = json.loads((dead / f"{rec.name}.json").read_text())
    assert note["reason"] == "Code: 53. TYPE_MISMATCH" and note["table"] == "otel_logs"
    assert decode_payload(rec.read_bytes()[HEADER.size:])["otel_logs"]["Body"].to_pylist()[0] == "r1-0"
    assert spool.metrics.spool["dead_records"] == 1 and spool.stats()["dead_records"] == 1
    spool.close()


def test_a_failed_write_leaves_no_garbage_behind(tmp_path, monkeypatch):
    spool = _open(tmp_path)
    spool.write([_record(0)])
    real_write = os.write

    def half_then_fail(fd, data):
        real_write(fd, bytes(data)[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(OSError):
        spool.write([_record(1)])
    monkeypatch.setattr(os, "write", real_write)
    spool.write([_record(2)])
    bodies = _bodies(spool.read_batch(100, 1 << 20))
    assert bodies == ["r0-0", "r0-1", "r0-2", "r2-0", "r2-1", "r2-2"]
    spool.close()


@pytest.mark.parametrize("offset", range(8))
def test_decoded_columns_are_aligned_wherever_the_record_sits_in_memory(offset):
    """The engine's Arrow reader warns once per unaligned buffer (a full disk's retries made 1,342 such lines)."""
    from aitrail.collector.spool import HEADER, decode_payload

    table = pa.table({"n": pa.array(range(50), pa.int64()), "x": pa.array([i / 3 for i in range(50)]),
                      "s": [str(i) for i in range(50)]})
    record = encode_record({"otel_traces": table, "o": table})
    data = bytes(offset) + record
    for decoded in decode_payload(memoryview(data)[offset + HEADER.size:]).values():
        assert decoded.equals(table)
        buffers = [b for column in decoded.columns for chunk in column.chunks for b in chunk.buffers() if b is not None]
        assert buffers and all(b.address % 8 == 0 for b in buffers)
