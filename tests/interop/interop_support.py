"""Helpers of the interop tests: real git repositories, the SDK pointed at a real collector, rows waited for."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import aitrail
from aitrail.collector.store import StoreLocation

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Carl Committer", "GIT_COMMITTER_EMAIL": "carl@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
             "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_RESOURCE_ATTRIBUTES", "TRACEPARENT", "AITRAIL_DISABLED",
             "AITRAIL_TEAM", "AITRAIL_USER_EMAIL", "AITRAIL_USER_ID", "AITRAIL_USER_NAME")


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, input=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def commit_files(root: Path, files: dict[str, list[str]], message: str) -> str:
    """Write ``files`` (path -> lines), commit them, return the commit id."""
    for path, lines in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(f"{line}\n" for line in lines))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def destination_of(collector):  # noqa: ANN001, ANN201
    """An import's destination: the collector's store (its SQL endpoint named, its OTLP one found by the import from
    the data directory's owner); and the SDK (the native records of a test) sending to that collector."""
    from aitrail.interop.spans import Destination

    aitrail.configure(endpoint=collector.http_url)
    return Destination(collector.config.location, sql_url=collector.sql_url)


def rows(ch, query: str, expected: int, timeout: float = 15.0) -> list[dict]:
    """The rows of ``query`` once there are ``expected`` of them (materialized views fill as the spool drains)."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(ch.query(query).named_results())
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@contextlib.contextmanager
def collector_process(data_dir: Path, log: Path) -> Iterator[SimpleNamespace]:
    """``aitrail serve`` in a subprocess: a second store beside the in-process collector's (chDB allows one data
    directory per process). Yields what the tests use of a collector: http_url, sql_url, config.location."""
    from aitrail.collector.store.ownership import read_owner

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-c", "from aitrail.cli import main; main()", "serve", "--data-dir",
                                 str(data_dir), "--http-port", str(port), "--grpc-port", "0", "--sql-port", "0"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            owner = read_owner(data_dir) if data_dir.exists() else None
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    json.load(answer)
                if owner and owner.get("sql_url"):
                    break
            except OSError:
                pass
            time.sleep(0.05)
        yield SimpleNamespace(http_url=f"http://127.0.0.1:{port}", sql_url=owner["sql_url"],
                              config=SimpleNamespace(location=StoreLocation(data_dir=data_dir)))
    finally:
        proc.terminate()
        proc.wait(60)


def wait_rows(read, statement: str, expected: int, timeout: float = 30.0) -> list[dict]:
    """Rows of ``statement`` through an import reader, once there are ``expected`` (a collector without
    read-after-write drains its spool shortly after acknowledging)."""
    deadline = time.monotonic() + timeout
    while True:
        found = read(statement, {})
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def typed_rows(request, data_dir: Path, statement: str) -> list[tuple]:
    """Rows of ``statement`` as tuples, read from the store at ``data_dir`` independently of the import: through
    the standard ClickHouse client on the collector's SQL endpoint when the test runs one (``ch``), else by
    opening the embedded store (nothing holds it)."""
    from aitrail.collector.store import open_store

    if "ch" in request.fixturenames:
        return [tuple(r.values()) for r in request.getfixturevalue("ch").query(statement).named_results()]
    with open_store(StoreLocation(data_dir=data_dir)) as store:
        return [tuple(r.values()) for r in store.rows(statement)]


WITH_AND_WITHOUT_COLLECTOR = pytest.mark.parametrize(
    "running", [False, True], ids=["no collector: into the store", "through the owning collector"])
"""Run a test twice: with no collector (the import writes the store itself), and with one owning the store."""


def import_twice(request, running: bool, store: Path, command: list[str]) -> None:
    """``aitrail <command> --data-dir STORE --json``, twice: the first imports, the second finds it all stored.
    When ``running``, a collector owns ``store`` (the test's ``ch``): the import must go through it, not fail."""
    from typer.testing import CliRunner

    from aitrail.cli import app

    if running:
        request.getfixturevalue("ch")
    full = [*command, "--data-dir", str(store), "--json"]
    first = CliRunner().invoke(app, full)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, full)
    assert json.loads(again.stdout)["sent"] == 0, again.output  # what is stored is found, wherever it went
