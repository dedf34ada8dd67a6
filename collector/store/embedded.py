"""The embedded store: the ClickHouse engine in this process (chDB), at a data directory."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.binding import format_bind_value

from aitrail.collector.store.base import Store, dedup_settings, literal, quote_identifier, settings_clause
from aitrail.collector.store.ownership import DataDirLock
from aitrail.errors import StoreError


def _chdb() -> Any:
    try:
        import chdb
    except ImportError as exc:  # the light install has no engine
        raise StoreError("the embedded store needs chDB: pip install 'aitrail[server]'") from exc
    return chdb


class EmbeddedStore(Store):
    """chDB at ``data_dir``, owned exclusively by this process.

    Writes go through one connection under a lock; reads marked ``readonly``
    go through a second connection opened with ``readonly=1``, so the engine
    itself refuses anything but reads there. Reads in another database (a tenant's views) get one more
    read-only connection per database, made current once (``USE``), so they never share a current database.
    """

    in_process = True

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.lock = DataDirLock(self.data_dir)
        chdb = _chdb()
        try:
            self._writer = chdb.connect(f"file:{self.data_dir / 'clickhouse'}")
            self._reader = chdb.connect(f"file:{self.data_dir / 'clickhouse'}?readonly=1")
        except Exception:
            self.lock.release()
            raise
        self._write_lock = threading.Lock()
        self._in_database: dict[str, Any] = {}
        self._in_database_lock = threading.Lock()

    def _run(self, conn: Any, sql: str, fmt: str, params: Mapping[str, Any] | None) -> bytes:
        # Parameters travel as text, formatted exactly as clickhouse-connect formats them for a server.
        text = {k: format_bind_value(v) for k, v in params.items()} if params else None
        try:
            result = conn.query(sql, fmt, params=text)
        except Exception as exc:
            raise StoreError(str(exc)) from exc
        return result.bytes() if result is not None else b""

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self._write_lock:
            self._run(self._writer, sql, "TSV", params)

    def query(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        fmt: str = "JSONEachRow",
        readonly: bool = False,
    ) -> bytes:
        if readonly:
            return self._run(self._reader, sql, fmt, params)
        with self._write_lock:
            return self._run(self._writer, sql, fmt, params)

    def insert(self, table: str, batch: Any, dedup_token: str | None = None) -> None:
        columns = ", ".join(f"`{name}`" for name in batch.schema.names)
        settings = f" {settings_clause(dedup_settings(dedup_token))}" if dedup_token else ""
        sql = f"INSERT INTO {self.qualified(table)} ({columns}) SELECT * FROM Python(batch){settings}"
        with self._write_lock:
            self._run(self._writer, sql, "TSV", None)

    def insert_requests(self, statement: Callable[[str], str], structure: str, settings: Mapping[str, Any],
                        data: bytes, dedup_token: str | None = None) -> None:
        with tempfile.NamedTemporaryFile(dir=self.data_dir, prefix=".requests-", suffix=".protobuf") as file:
            file.write(data)
            file.flush()
            source = f"file({literal(file.name)}, Protobuf, {literal(structure)})"
            sql = f"{statement(source)} {settings_clause({**settings, **dedup_settings(dedup_token)})}"
            with self._write_lock:
                self._run(self._writer, sql, "TSV", None)

    def query_in(self, database: str, sql: str, params: Mapping[str, Any] | None = None,
                 fmt: str = "JSONEachRow") -> bytes:
        with self._in_database_lock:
            conn = self._in_database.get(database)
            if conn is None:
                conn = _chdb().connect(f"file:{self.data_dir / 'clickhouse'}?readonly=1")
                self._run(conn, f"USE {quote_identifier(database)}", "TSV", None)
                self._in_database[database] = conn
        return self._run(conn, sql, fmt, params)

    def advertise(self, sql_url: str, otlp_url: str) -> None:
        self.lock.advertise(sql_url, otlp_url)

    def close(self) -> None:
        with self._in_database_lock:
            connections = [*self._in_database.values()]
            self._in_database.clear()
        for conn in (*connections, getattr(self, "_reader", None), getattr(self, "_writer", None)):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None
        self.lock.release()
