"""One process owns an embedded data directory (chDB allows no more); others find it here.

The owner holds an exclusive ``flock`` on ``aitrail.lock`` for its lifetime and
writes into it who it is and where its read-only SQL endpoint and its OTLP/HTTP receiver listen, so that
``aitrail sql`` reads through the endpoint and imports (``aitrail findings import``...) send through the
receiver instead of fighting for the files.
The kernel drops the lock when the owner dies, however it dies.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from aitrail.errors import StoreError, StoreLocked

LOCK_FILE = "aitrail.lock"


class DataDirLock:
    """The exclusive claim on a data directory."""

    def __init__(self, data_dir: Path) -> None:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, no permission, a full disk
            raise StoreError(f"cannot use {data_dir} as the data directory: {exc.strerror or exc}") from exc
        self.path = data_dir / LOCK_FILE
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            owner = read_owner(data_dir) or {}
            where = f" (pid {owner.get('pid')}" + (f", SQL at {owner['sql_url']}" if owner.get("sql_url") else "") + ")"
            raise StoreLocked(
                f"another aitrail process{where if owner else ''} owns {data_dir}; "
                "query it through its SQL endpoint (`aitrail sql` does so by itself) or stop it first"
            ) from None
        self.advertise(None)

    def advertise(self, sql_url: str | None, otlp_url: str | None = None) -> None:
        """Tell other processes where this owner's read-only SQL endpoint (and OTLP/HTTP receiver) is."""
        record = json.dumps({"pid": os.getpid(), "sql_url": sql_url, "otlp_url": otlp_url}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, record, 0)

    def release(self) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


def read_owner(data_dir: Path) -> dict[str, Any] | None:
    """Who owns ``data_dir`` right now, or None when nobody does."""
    path = data_dir / LOCK_FILE
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 4096, 0)
            try:
                return json.loads(text) if text else {}
            except ValueError:
                return {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
