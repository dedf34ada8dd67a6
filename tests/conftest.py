"""Shared fixtures: a real chDB store, a real collector on ephemeral ports, a real ClickHouse client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aitrail.collector.store import Store, StoreLocation, open_store

# Shared test data (``import secret_corpus``): ``tests`` is no package, so its fixtures folder goes on the path.
sys.path.insert(0, str(Path(__file__).parent / "fixtures"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated embedded store in a fresh directory."""
    with open_store(StoreLocation(data_dir=tmp_path / "store")) as opened:
        yield opened


def collector_config(tmp_path: Path, **overrides: object):  # noqa: ANN201
    """A collector on ephemeral loopback ports with a short flush interval (tests should not wait).

    A 2xx means "fsync'd in the spool"; ``read_after_write`` makes the SQL endpoint wait for the drain
    before each read, so a test reading right after an export sees every row it was acknowledged.
    """
    values: dict[str, object] = dict(
        location=StoreLocation(data_dir=tmp_path / "store"), http_port=0, grpc_port=0, sql_port=0, flush_interval=0.02,
        read_after_write=True,
    )
    values.update(overrides)
    from aitrail.collector.config import CollectorConfig

    return CollectorConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def collector(tmp_path: Path):  # noqa: ANN201
    """A running collector with its own embedded store."""
    from aitrail.collector.server import BackgroundCollector

    with BackgroundCollector(collector_config(tmp_path)) as running:
        yield running


@pytest.fixture
def ch(collector):  # noqa: ANN201
    """clickhouse-connect, the standard ClickHouse client, on the collector's read-only SQL endpoint."""
    import clickhouse_connect

    client = clickhouse_connect.get_client(host="127.0.0.1", port=collector.sql_port)
    yield client
    client.close()



@pytest.fixture
def make_collector(tmp_path: Path):  # noqa: ANN201
    """A factory for one running collector with settings of the test's choosing."""
    import contextlib

    from aitrail.collector.server import BackgroundCollector

    with contextlib.ExitStack() as stack:
        yield lambda **overrides: stack.enter_context(BackgroundCollector(collector_config(tmp_path, **overrides)))


@pytest.fixture(scope="session")
def secret_corpus():  # noqa: ANN201
    """tests/fixtures/secret_corpus.py's fake secrets."""
    import secret_corpus

    return secret_corpus.corpus()


@pytest.fixture(autouse=True)
def _private_outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test keeps what its SDK could not send in its own outbox: never sent into another test's collector."""
    monkeypatch.setenv("AITRAIL_OUTBOX", str(tmp_path / "outbox"))


@pytest.fixture(autouse=True)
def _tables_wide_whatever_the_terminal(monkeypatch):
    """The CLI's tables fold at the terminal's width (``COLUMNS``), as they should for people; tests read the cells,
    not the layout, so they print tables wide on any machine. (Errors and hints are never folded at all.)"""
    from aitrail.cli import output

    monkeypatch.setattr(output.console, "width", 240)
