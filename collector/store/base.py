"""What every store does, whichever engine is behind it."""

from __future__ import annotations

import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from aitrail.errors import ConfigError
from aitrail.sdk import environment

DATABASE = "aitrail"
"""The database every aitrail table lives in."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_identifier(name: str) -> str:
    """The one place identifiers enter SQL text: back-quoted, and only plain names."""
    if not _IDENTIFIER.match(name):
        raise ConfigError(f"{name!r} is not a valid ClickHouse identifier: use letters, digits and _")
    return f"`{name}`"


_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def check_token(token: str) -> str:
    """Deduplication tokens are ours (segment and offset), never user text; refuse anything else."""
    if not _TOKEN.match(token):
        raise ValueError(f"invalid deduplication token {token!r}")
    return token


def literal(text: str) -> str:
    """A ClickHouse string literal of ``text`` (UTF-8 bytes, non-printable ones as ``\\xHH``)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in "\\'":
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02X}")
    return "'" + "".join(out) + "'"


def _setting(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else literal(str(value))


def settings_clause(settings: Mapping[str, Any]) -> str:
    """``SETTINGS name = value, ...`` (names are ours; string values quoted)."""
    return "SETTINGS " + ", ".join(f"{quote_identifier(name)[1:-1]} = {_setting(value)}" for name, value in settings.items())


def dedup_settings(dedup_token: str | None) -> dict[str, Any]:
    """The settings that make an insert (and what its materialized views write) happen once per ``dedup_token``."""
    if not dedup_token:
        return {}
    return {"insert_deduplication_token": check_token(dedup_token), "deduplicate_blocks_in_dependent_materialized_views": 1}


def default_data_dir() -> Path:
    """Where the embedded store lives when nobody says otherwise."""
    return Path(platformdirs.user_data_dir("aitrail")) / "store"


@dataclass(frozen=True)
class StoreLocation:
    """Where the data is: an embedded data directory, or a ClickHouse server URL."""

    data_dir: Path | None = None
    clickhouse_url: str | None = None

    @classmethod
    def resolve(cls, data_dir: Path | str | None = None, clickhouse_url: str | None = None) -> StoreLocation:
        """Options first, then AITRAIL_DATA_DIR / AITRAIL_CLICKHOUSE_URL, then the platform default."""
        data_dir = data_dir or os.environ.get(environment.AITRAIL_DATA_DIR) or None
        clickhouse_url = clickhouse_url or os.environ.get(environment.AITRAIL_CLICKHOUSE_URL) or None
        if data_dir and clickhouse_url:
            raise ConfigError("give either a data directory or a ClickHouse URL, not both")
        if clickhouse_url:
            return cls(clickhouse_url=clickhouse_url)
        return cls(data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir())

    def describe(self) -> str:
        """For people: where the data is (never a password)."""
        if self.clickhouse_url:
            return re.sub(r"//[^@/]*@", "//", self.clickhouse_url)
        return str(self.data_dir)


class Store(ABC):
    """A ClickHouse database that aitrail reads and writes.

    ``insert`` takes a columnar ``pyarrow.Table`` whose column names are the
    table's; a ``dedup_token`` makes a retried insert a no-op.
    ``query`` returns raw bytes in a ClickHouse output format; ``readonly``
    asks the engine itself to refuse anything but reads.
    """

    database: str = DATABASE

    @abstractmethod
    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing worth reading (DDL, migrations)."""

    @abstractmethod
    def query(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        fmt: str = "JSONEachRow",
        readonly: bool = False,
    ) -> bytes:
        """Run a query and return its result in ``fmt``."""

    @abstractmethod
    def insert(self, table: str, batch: Any, dedup_token: str | None = None) -> None:
        """Insert a pyarrow Table into ``table`` of this store's database."""

    @abstractmethod
    def insert_requests(self, statement: Callable[[str], str], structure: str, settings: Mapping[str, Any],
                        data: bytes, dedup_token: str | None = None) -> None:
        """Run ``statement(source)``, an ``INSERT … SELECT`` whose rows come from ``data`` (length-delimited
        Protobuf messages with the column ``structure``): ``source`` is the table function that reads them here
        (a file the embedded engine reads; ``input()`` and the body of the request to a server). ``settings``:
        what reading them needs (the format schema)."""

    @abstractmethod
    def query_in(self, database: str, sql: str, params: Mapping[str, Any] | None = None,
                 fmt: str = "JSONEachRow") -> bytes:
        """Run a read with ``database`` as the current one (a tenant's database of views), the engine refusing
        anything but reads: unqualified names then mean that database's tables, never ours."""

    @abstractmethod
    def close(self) -> None:
        """Release the engine (and, for the embedded store, the data directory)."""

    in_process: bool = False
    """Whether the engine runs in this process and dies with it, possibly in the middle of an insert (so a
    restart checks what a crash left); a server outlives its clients."""

    def advertise(self, sql_url: str, otlp_url: str) -> None:
        """Say where this process serves the store, for other processes that find it locked (the embedded store's
        lock file); a server needs no such note."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None, readonly: bool = False) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts."""
        data = self.query(sql, params, "JSONEachRow", readonly)
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    def qualified(self, table: str) -> str:
        """``database.table``, quoted."""
        return f"{quote_identifier(self.database)}.{quote_identifier(table)}"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
