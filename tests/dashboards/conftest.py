"""Fixtures for tests/dashboards (helpers in dashboards_support.py): one seeded embedded store per module, closed
when the module ends (chDB runs one data directory per process: other tests open theirs after)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Under --import-mode=importlib nothing puts this folder on sys.path: the modules here import dashboards_support.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aitrail.collector.store import StoreLocation, open_store  # noqa: E402
from dashboards_support import Seeded, generations, insert, insert_records, records  # noqa: E402


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):  # noqa: ANN201
    rows = generations(20260326, 3000)
    with open_store(StoreLocation(data_dir=tmp_path_factory.mktemp("dashboards") / "store")) as store:
        for start in range(0, len(rows), 1000):  # several inserts: several parts per rollup, as a live store has
            insert(store, rows[start:start + 1000])
        made = records(20260327, rows)
        insert_records(store, made)
        yield Seeded(rows, store, made)
