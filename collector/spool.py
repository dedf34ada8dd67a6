"""The durable spool: every accepted request is fsync'd here before it is answered, and drained into the store.

Layout of a spool directory::

    spool/
      LOCK                      flock of the one process using it
      checkpoint.json           what is stored (segment, offset), the batch being inserted, the spool's id
      0000000000000007.seg      append-only segments of records
      dead/                     records the store refused for good, kept for people to look at

A record is a 16-byte header (magic, payload length, rows, CRC32 of length,
rows and payload) followed by its payload: what one request becomes, each
part as its name and its bytes — an Arrow IPC stream of a table's rows, or,
for a part named ``requests.*``, the request itself (:class:`Requests`),
which the engine turns into rows when the drain stores it. Records never span segments; only the
last segment can end in a torn record (a crash in mid-write), which recovery
cuts off. Nothing is acknowledged before the fsync that covers it, and a torn
record was never acknowledged.

The drain (:mod:`aitrail.collector.batcher`) reads records in order from the
checkpoint, records the batch it is about to insert in the checkpoint
("in flight") before inserting it, inserts every table with a deduplication
token made of the spool's id and the batch's position, then moves the
checkpoint past it. After a crash the batch in flight is inserted again with
exactly the same records and tokens, so the store keeps one copy.

Blocking file I/O only: the collector calls these methods on worker threads.
"""

from __future__ import annotations

import collections
import fcntl
import json
import logging
import os
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from aitrail.errors import StoreLocked

log = logging.getLogger("aitrail.collector.spool")

MAGIC = 0x314C5053  # b"SPL1" little-endian
HEADER = struct.Struct("<IIII")  # magic, payload length, rows, crc32(length, rows, payload)
MAX_RECORD = 1 << 30
CHECKPOINT = "checkpoint.json"
LOCK = "LOCK"
DEAD = "dead"
SUFFIX = ".seg"


# -- records ---------------------------------------------------------------------------------------------------


def _crc(length: int, rows: int, payload: bytes | memoryview) -> int:
    return zlib.crc32(payload, zlib.crc32(struct.pack("<II", length, rows))) & 0xFFFFFFFF


REQUESTS_PREFIX = "requests."
"""Parts named so hold :class:`Requests`, not Arrow tables."""


@dataclass(frozen=True)
class Requests:
    """Requests of one signal as the collector spools them (length-delimited ``Spooled<Request>`` messages,
    :func:`aitrail.collector.engine.schema.spooled`), stored by the engine's ``INSERT … SELECT``; ``num_rows``:
    the rows they make. Requests of one part name concatenate into one batch."""

    data: bytes
    num_rows: int

    @classmethod
    def concat(cls, pieces: Iterable[Requests]) -> Requests:
        """Requests of one part name as one batch (what one ``INSERT … SELECT`` stores)."""
        every = list(pieces)
        return cls(b"".join(piece.data for piece in every), sum(piece.num_rows for piece in every))


def encode_record(tables: dict[str, pa.Table | Requests]) -> bytes:
    """One request's tables (or requests) as one spool record (header included)."""
    parts: list[bytes] = [struct.pack("<H", len(tables))]
    rows = 0
    for name, table in tables.items():
        if isinstance(table, Requests):
            content = struct.pack("<Q", table.num_rows) + table.data
        else:
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            content = sink.getvalue().to_pybytes()
        encoded = name.encode()
        parts += [struct.pack("<H", len(encoded)), encoded, struct.pack("<Q", len(content)), content]
        rows += table.num_rows
    payload = b"".join(parts)
    return HEADER.pack(MAGIC, len(payload), rows, _crc(len(payload), rows, payload)) + payload


IPC_ALIGNMENT = 8
"""Arrow IPC keeps every column buffer 8-byte aligned from the stream's start; a stream that itself starts at
an aligned address therefore gives aligned columns, which the engine's Arrow reader (Acero) expects."""


def _aligned(buffer: pa.Buffer) -> pa.Buffer:
    """``buffer`` where it starts aligned (zero-copy, the usual case), else one copy into Arrow's own aligned
    memory: a record's streams sit at arbitrary offsets of the segment, and unaligned columns cost the engine a
    warning per buffer and, on some hardware, worse."""
    if buffer.address % IPC_ALIGNMENT == 0:
        return buffer
    copy = pa.allocate_buffer(buffer.size)
    memoryview(copy)[:] = memoryview(buffer)
    return copy


def decode_payload(payload: bytes | memoryview) -> dict[str, pa.Table | Requests]:
    """The tables of a record's payload (views of ``payload`` where it is aligned, else aligned copies), and its
    requests."""
    buffer = pa.py_buffer(payload)
    view = memoryview(payload)
    (count,) = struct.unpack_from("<H", view, 0)
    at = 2
    tables: dict[str, pa.Table | Requests] = {}
    for _ in range(count):
        (size,) = struct.unpack_from("<H", view, at)
        name = bytes(view[at + 2 : at + 2 + size]).decode()
        at += 2 + size
        (length,) = struct.unpack_from("<Q", view, at)
        at += 8
        if name.startswith(REQUESTS_PREFIX):
            (rows,) = struct.unpack_from("<Q", view, at)
            tables[name] = Requests(bytes(view[at + 8 : at + length]), rows)
        else:
            tables[name] = pa.ipc.open_stream(_aligned(buffer.slice(at, length))).read_all()
        at += length
    return tables


def record_rows(record: bytes) -> int:
    return HEADER.unpack_from(record, 0)[2]


# -- positions, batches --------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Position:
    """A place in the spool: segment number and byte offset in it."""

    segment: int
    offset: int

    def __str__(self) -> str:
        return f"{self.segment}:{self.offset}"


@dataclass
class Record:
    segment: int
    offset: int
    end: int
    rows: int
    payload: bytes

    def tables(self) -> dict[str, pa.Table | Requests]:
        return decode_payload(self.payload)

    def raw(self) -> bytes:
        length = len(self.payload)
        return HEADER.pack(MAGIC, length, self.rows, _crc(length, self.rows, self.payload)) + self.payload


@dataclass
class Batch:
    """Consecutive records of one segment, inserted together; ``split`` tables go record by record."""

    spool_id: str
    segment: int
    start: int
    end: int
    records: list[Record]
    split: set[str] = field(default_factory=set)
    resumed: bool = False  # read back from the checkpoint after a crash

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.records)

    def token(self, table: str) -> str:
        """The batch's deduplication token for ``table``: the same for the same records, across restarts."""
        return f"{self.spool_id}:{self.segment}:{self.start}-{self.end}:{table}"

    def record_token(self, record: Record, table: str) -> str:
        return f"{self.spool_id}:{record.segment}:{record.offset}:{table}"


# -- the spool ------------------------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Spool:
    """Segments, checkpoint and dead letters in one directory, owned by one process."""

    def __init__(self, directory: Path, metrics: Any = None, segment_bytes: int = 64 << 20) -> None:
        self.directory = Path(directory)
        self.metrics = metrics
        self.segment_bytes = segment_bytes
        self.spool_id = ""
        self._lock_fd = -1
        self._state = threading.Condition()
        self._sizes: dict[int, int] = {}  # segment -> durable size, for every segment not yet deleted
        self._active = 0  # the segment being appended to
        self._fd = -1
        self._broken = False
        self._committed = Position(0, 0)
        self._inflight: dict[str, Any] | None = None
        self._records = 0  # durable records not yet stored
        self._rows = 0
        self._arrivals: collections.deque[tuple[Position, float]] = collections.deque()
        self.dead_records = 0

    # opening and recovery

    def open(self) -> Spool:
        """Lock the directory, recover from whatever the last process left, start a fresh segment."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / DEAD).mkdir(exist_ok=True)
        self._lock_fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = -1
            raise StoreLocked(f"another collector uses the spool {self.directory}; give this one its own --spool-dir")
        try:
            self._recover()
        except BaseException:
            self.close()
            raise
        return self

    def waiting(self) -> tuple[int, int]:
        """Records and rows acknowledged but not yet stored, counted without opening (or locking, or repairing)
        the spool: for a reader who finds no collector running and wants to say what starting one would store."""
        if not self.directory.is_dir():
            return 0, 0
        checkpoint = self._load_checkpoint() or {}
        committed = Position(checkpoint.get("segment", 0), checkpoint.get("offset", 0))
        records = rows = 0
        for segment in self._existing():
            if segment < committed.segment:
                continue
            begin = committed.offset if segment == committed.segment else 0
            for _, _, n in self._walk(segment, begin, self._segment_path(segment).stat().st_size, check=False):
                records, rows = records + 1, rows + n
        return records, rows

    def _segment_path(self, segment: int) -> Path:
        return self.directory / f"{segment:016d}{SUFFIX}"

    def _existing(self) -> list[int]:
        found = []
        for entry in os.listdir(self.directory):
            if entry.endswith(SUFFIX) and entry[: -len(SUFFIX)].isdigit():
                found.append(int(entry[: -len(SUFFIX)]))
        return sorted(found)

    def _recover(self) -> None:
        checkpoint = self._load_checkpoint()
        segments = self._existing()
        if checkpoint is None:
            self.spool_id = uuid.uuid4().hex[:12]
            start = Position(segments[0], 0) if segments else Position(0, 0)
            if segments:
                log.warning("spool %s has segments but no checkpoint: draining them all again", self.directory)
            self._committed, self._inflight = start, None
        else:
            self.spool_id = checkpoint["spool_id"]
            self._committed = Position(checkpoint["segment"], checkpoint["offset"])
            self._inflight = checkpoint.get("inflight")
        for segment in segments:
            if segment < self._committed.segment:  # consumed; the crash came before its deletion
                self._segment_path(segment).unlink(missing_ok=True)
        segments = [s for s in segments if s >= self._committed.segment]
        for segment in segments:
            self._sizes[segment] = self._segment_path(segment).stat().st_size
        if segments:
            self._repair_tail(segments[-1])
        records = rows = 0
        for segment in segments:
            begin = self._committed.offset if segment == self._committed.segment else 0
            for _, _, n in self._walk(segment, begin, self._sizes[segment], check=False):
                records, rows = records + 1, rows + n
        self._records, self._rows = records, rows
        self._active = max([*segments, self._committed.segment]) + 1
        self._open_segment(self._active)
        if records:
            self._arrivals.append((Position(self._active, 0), float("-inf")))  # drain what was left at once
            log.warning("spool %s: %d records (%d rows) left by the last run, draining", self.directory, records, rows)
        self._save_checkpoint()
        self._gauges()

    def _repair_tail(self, segment: int) -> None:
        """Cut a torn record off the end of the last segment (never a valid record after a bad one)."""
        size = self._sizes[segment]
        begin = self._committed.offset if segment == self._committed.segment else 0
        good = begin
        for _, end, _ in self._walk(segment, begin, size, check=True):
            good = end
        if good >= size:
            return
        if self._resync(segment, good, size) < size:
            log.error("spool segment %s is damaged at offset %d; the drain will set the damaged bytes aside",
                      segment, good)
            return
        fd = os.open(self._segment_path(segment), os.O_WRONLY)
        try:
            os.ftruncate(fd, good)
            os.fsync(fd)
        finally:
            os.close(fd)
        log.warning("spool segment %s: cut a torn record (%d bytes) left by a crash", segment, size - good)
        self._count("torn_bytes", size - good)
        self._sizes[segment] = good

    def _walk(self, segment: int, begin: int, end: int, check: bool) -> Any:
        """(offset, end, rows) of each record from ``begin``; stops at the first bad one."""
        try:
            fd = os.open(self._segment_path(segment), os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            at = begin
            while at + HEADER.size <= end:
                record = self._read_at(fd, segment, at, end, check)
                if record is None:
                    return
                yield at, record.end, record.rows
                at = record.end
        finally:
            os.close(fd)

    def _read_at(self, fd: int, segment: int, at: int, end: int, check: bool = True) -> Record | None:
        header = os.pread(fd, HEADER.size, at)
        if len(header) < HEADER.size:
            return None
        magic, length, rows, crc = HEADER.unpack(header)
        if magic != MAGIC or length > MAX_RECORD or at + HEADER.size + length > end:
            return None
        payload = b""
        if check:
            payload = os.pread(fd, length, at + HEADER.size)
            if len(payload) != length or _crc(length, rows, payload) != crc:
                return None
        return Record(segment, at, at + HEADER.size + length, rows, payload)

    def _resync(self, segment: int, bad: int, end: int) -> int:
        """The offset of the first valid record after ``bad`` (``end`` when none)."""
        fd = os.open(self._segment_path(segment), os.O_RDONLY)
        try:
            magic = struct.pack("<I", MAGIC)
            at = bad + 1
            while at < end:
                window = os.pread(fd, min(1 << 20, end - at), at)
                found = window.find(magic)
                while found >= 0:
                    if self._read_at(fd, segment, at + found, end) is not None:
                        return at + found
                    found = window.find(magic, found + 1)
                if len(window) < 4:
                    break
                at += len(window) - 3  # a magic may straddle two windows
            return end
        finally:
            os.close(fd)

    def _open_segment(self, segment: int) -> None:
        self._fd = os.open(self._segment_path(segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_dir(self.directory)
        with self._state:
            self._sizes.setdefault(segment, os.fstat(self._fd).st_size)
            self._active = segment
        self._broken = False

    # checkpoint

    def _load_checkpoint(self) -> dict[str, Any] | None:
        path = self.directory / CHECKPOINT
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:  # never half-written (atomic rename), so this is damage, not a crash
            raise StoreLocked(f"the spool checkpoint {path} is unreadable ({exc}); move the spool aside") from exc
        return data

    def _save_checkpoint(self) -> None:
        data = {"version": 1, "spool_id": self.spool_id, "segment": self._committed.segment,
                "offset": self._committed.offset, "inflight": self._inflight}
        path = self.directory / CHECKPOINT
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, json.dumps(data).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
        _fsync_dir(self.directory)
        self._count("checkpoints")

    # appending (the writer thread)

    def write(self, records: list[bytes]) -> list[Position]:
        """Append records and fsync them: one group, one fsync (two when a segment fills up)."""
        positions = []
        chunk: list[bytes] = []
        size = self._sizes[self._active]
        try:
            if self._broken:
                self._rotate()
                size = 0
            for record in records:
                if chunk and size + len(record) > self.segment_bytes:
                    self._flush(chunk)
                    chunk = []
                    self._rotate()
                    size = 0
                elif not chunk and size and size + len(record) > self.segment_bytes:
                    self._rotate()
                    size = 0
                positions.append(Position(self._active, size))
                chunk.append(record)
                size += len(record)
            self._flush(chunk)
        except OSError:
            self._undo()
            raise
        self._gauges()
        return positions

    def _flush(self, chunk: list[bytes]) -> None:
        if not chunk:
            return
        _write_all(self._fd, b"".join(chunk) if len(chunk) > 1 else chunk[0])
        os.fdatasync(self._fd)
        self._count("fsyncs")
        added = sum(len(r) for r in chunk)
        rows = sum(record_rows(r) for r in chunk)
        with self._state:
            self._sizes[self._active] += added
            self._records += len(chunk)
            self._rows += rows
            self._arrivals.append((Position(self._active, self._sizes[self._active]), time.monotonic()))
            self._state.notify_all()

    def _undo(self) -> None:
        """After a failed write: cut what was not fsync'd, or move on to a new segment."""
        try:
            os.ftruncate(self._fd, self._sizes[self._active])
            os.fdatasync(self._fd)
        except OSError:
            self._broken = True

    def _rotate(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.close(fd)
            except OSError:
                pass
        self._open_segment(self._active + 1)

    # reading and committing (the drain thread)

    @property
    def durable_end(self) -> Position:
        with self._state:
            return Position(self._active, self._sizes[self._active])

    @property
    def committed(self) -> Position:
        with self._state:
            return self._committed

    def has_pending(self) -> bool:
        with self._state:
            return self._inflight is not None or self._committed < Position(self._active, self._sizes[self._active])

    def oldest_pending(self) -> float | None:
        """``time.monotonic()`` when the oldest record not yet stored was spooled (-inf: left by a crash)."""
        with self._state:
            while self._arrivals and self._arrivals[0][0] <= self._committed:
                self._arrivals.popleft()
            if self._arrivals:
                return self._arrivals[0][1]
            return None if self._inflight is None and self._committed >= Position(
                self._active, self._sizes[self._active]) else float("-inf")

    def read_batch(self, max_rows: int, max_bytes: int) -> Batch | None:
        """The next batch to insert: the one in flight after a crash, else records from the checkpoint."""
        while True:
            with self._state:
                at = self._committed
                sealed = at.segment != self._active
                size = self._sizes.get(at.segment)
                inflight = self._inflight
            if size is None:  # the checkpoint points at a segment that never got a record
                if not self._next_segment(at.segment):
                    return None
                continue
            if inflight is not None:
                return self._read_inflight(inflight)
            if at.offset >= size:
                if sealed and self._next_segment(at.segment):
                    continue
                return None
            records, offset, rows, nbytes = [], at.offset, 0, 0
            fd = os.open(self._segment_path(at.segment), os.O_RDONLY)
            try:
                while offset < size and rows < max_rows and nbytes < max_bytes:
                    record = self._read_at(fd, at.segment, offset, size)
                    if record is None:
                        break
                    records.append(record)
                    rows, nbytes, offset = rows + record.rows, nbytes + record.end - record.offset, record.end
            finally:
                os.close(fd)
            if records:
                return Batch(self.spool_id, at.segment, at.offset, offset, records)
            self._set_aside(at.segment, offset, self._resync(at.segment, offset, size))

    def _read_inflight(self, inflight: dict[str, Any]) -> Batch:
        segment, start, end = inflight["segment"], inflight["start"], inflight["end"]
        records, offset = [], start
        fd = os.open(self._segment_path(segment), os.O_RDONLY)
        try:
            while offset < end:
                record = self._read_at(fd, segment, offset, end)
                if record is None:
                    raise StoreLocked(f"spool segment {segment} changed under the batch in flight at {offset}")
                records.append(record)
                offset = record.end
        finally:
            os.close(fd)
        return Batch(self.spool_id, segment, start, end, records, set(inflight.get("split", [])), resumed=True)

    def _next_segment(self, segment: int) -> bool:
        """Move the checkpoint to the segment after ``segment`` and delete it; False when there is none."""
        with self._state:
            later = [s for s in self._sizes if s > segment]
            if not later:
                return False
            self._committed = Position(min(later), 0)
            self._sizes.pop(segment, None)
            self._state.notify_all()
        self._save_checkpoint()
        self._segment_path(segment).unlink(missing_ok=True)
        self._gauges()
        return True

    def _set_aside(self, segment: int, start: int, end: int) -> None:
        """Damaged bytes (not a record): copied to dead/ and skipped."""
        fd = os.open(self._segment_path(segment), os.O_RDONLY)
        try:
            data = os.pread(fd, end - start, start)
        finally:
            os.close(fd)
        self._write_dead(f"{segment:016d}-{start:016d}.damaged", data,
                         {"segment": segment, "offset": start, "bytes": end - start, "reason": "damaged spool bytes"})
        log.error("spool segment %s: %d damaged bytes at offset %d set aside in %s",
                  segment, end - start, start, self.directory / DEAD)
        with self._state:
            self._committed = Position(segment, end)
            self._state.notify_all()
        self._save_checkpoint()

    def begin(self, batch: Batch) -> None:
        """Record the batch about to be inserted, so a crash redoes exactly this batch."""
        with self._state:
            self._inflight = {"segment": batch.segment, "start": batch.start, "end": batch.end,
                              "split": sorted(batch.split)}
        self._save_checkpoint()

    def split(self, batch: Batch, table: str) -> None:
        """From now on (and after a crash) ``table`` of this batch goes in record by record."""
        batch.split.add(table)
        self.begin(batch)

    def commit(self, batch: Batch) -> None:
        """The batch is stored: move the checkpoint past it; delete its segment once consumed."""
        with self._state:
            self._committed = Position(batch.segment, batch.end)
            self._inflight = None
            self._records = max(0, self._records - len(batch.records))
            self._rows = max(0, self._rows - batch.rows)
            done = batch.segment != self._active and batch.end >= self._sizes.get(batch.segment, 0)
            self._state.notify_all()
        self._save_checkpoint()
        if done:
            self._next_segment(batch.segment)
        self._gauges()

    def bury(self, batch: Batch, record: Record, table: str, reason: str) -> None:
        """A record the store refuses for good: kept in dead/ (record and reason), counted, logged."""
        name = f"{record.segment:016d}-{record.offset:016d}-{table}"
        self._write_dead(f"{name}.rec", record.raw(), {
            "segment": record.segment, "offset": record.offset, "table": table, "rows": record.rows,
            "reason": reason, "at": time.time()})
        log.error("the store refused record %s:%s (%s, %d rows) for good: %s; kept in %s",
                  record.segment, record.offset, table, record.rows, reason, self.directory / DEAD / f"{name}.rec")
        self.dead_records += 1
        self._count("dead_records")

    def _write_dead(self, name: str, data: bytes, note: dict[str, Any]) -> None:
        dead = self.directory / DEAD
        for filename, content in ((name, data), (f"{name}.json", json.dumps(note).encode())):
            fd = os.open(dead / filename, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                _write_all(fd, content)
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(dead)

    def wait_committed(self, target: Position, timeout: float | None) -> bool:
        """Block until everything before ``target`` is stored; False on timeout."""
        with self._state:
            return self._state.wait_for(lambda: self._committed >= target, timeout)

    # figures

    def stats(self) -> dict[str, Any]:
        with self._state:
            pending = sum(size for segment, size in self._sizes.items() if segment >= self._committed.segment)
            return {
                "dir": str(self.directory),
                "pending_bytes": max(0, pending - self._committed.offset),
                "pending_records": self._records,
                "pending_rows": self._rows,
                "segments": len(self._sizes),
                "in_flight": self._inflight is not None,
                "dead_records": self.dead_records,
            }

    @property
    def pending_bytes(self) -> int:
        return self.stats()["pending_bytes"]

    @property
    def pending_rows(self) -> int:
        with self._state:
            return self._rows

    def _count(self, name: str, n: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.count(self.metrics.spool, name, n)

    def _gauges(self) -> None:
        if self.metrics is not None:
            stats = self.stats()
            self.metrics.gauge("spool_pending_bytes", stats["pending_bytes"])
            self.metrics.gauge("spool_pending_records", stats["pending_records"])
            self.metrics.gauge("spool_pending_rows", stats["pending_rows"])

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock_fd >= 0:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = -1
