"""Real repositories for the accountability tests (helpers: accountability_support.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import aitrail

# Under --import-mode=importlib nothing puts this folder on sys.path; the test modules import accountability_support.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from accountability_support import ANA, OTEL_VARS, git  # noqa: E402


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal" / "journal.jsonl"))
    for key in OTEL_VARS:
        monkeypatch.delenv(key, raising=False)
    for key, (name, email) in (("AUTHOR", ANA), ("COMMITTER", ANA)):
        monkeypatch.setenv(f"GIT_{key}_NAME", name)
        monkeypatch.setenv(f"GIT_{key}_EMAIL", email)
    return tmp_path


@pytest.fixture
def spans(env: Path) -> Iterator[InMemorySpanExporter]:
    """The SDK configured with OpenTelemetry's in-memory exporter: the records it emits, kept for the test."""
    exporter = InMemorySpanExporter()
    aitrail.configure(exporter=exporter)
    yield exporter
    aitrail.shutdown()


@pytest.fixture
def repo(env: Path, spans: InMemorySpanExporter) -> Path:
    root = env / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", ANA[0])
    git(root, "config", "user.email", ANA[1])
    (root / "README.md").write_text("# shop\nA small shop.\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")
    return root


