"""Helpers of the interop tests: real git repositories, the SDK pointed at a real collector, rows waited for."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import aitrail

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


def reader_of(collector):  # noqa: ANN001, ANN201
    """The import's store reader, on the collector's SQL endpoint; and the SDK sending to that collector."""
    from aitrail.interop.spans import store_reader

    aitrail.configure(endpoint=collector.http_url)
    return store_reader(collector.config.location, sql_url=collector.sql_url)


def rows(ch, query: str, expected: int, timeout: float = 15.0) -> list[dict]:
    """The rows of ``query`` once there are ``expected`` of them (materialized views fill as the spool drains)."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(ch.query(query).named_results())
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
