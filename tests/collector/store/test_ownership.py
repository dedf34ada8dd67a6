"""One process owns an embedded data directory; others learn who and where its SQL endpoint is."""

from __future__ import annotations

import os

import pytest

from aitrail.collector.store import StoreLocation, open_store
from aitrail.collector.store.ownership import DataDirLock, read_owner
from aitrail.errors import StoreLocked


def test_owner_is_visible_while_held_and_gone_after(tmp_path):
    assert read_owner(tmp_path) is None
    lock = DataDirLock(tmp_path)
    lock.advertise("http://127.0.0.1:8123", "http://127.0.0.1:4318")
    assert read_owner(tmp_path) == {"pid": os.getpid(), "sql_url": "http://127.0.0.1:8123",
                                    "otlp_url": "http://127.0.0.1:4318"}
    lock.release()
    assert read_owner(tmp_path) is None


def test_a_second_owner_is_refused_with_directions(tmp_path):
    location = StoreLocation(data_dir=tmp_path / "store")
    with open_store(location) as store:
        store.lock.advertise("http://127.0.0.1:9999")
        with pytest.raises(StoreLocked, match=r"pid \d+, SQL at http://127.0.0.1:9999"):
            open_store(location)
    with open_store(location):  # released on close
        pass
