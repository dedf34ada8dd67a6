"""Helpers of the accountability tests: git, the people who author and sign, AI lines written through the SDK."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import aitrail

ANA = ("Ana Prompter", "ana@example.com")
"""The author of the commits: she prompted the AI."""
BO = ("Bo Reviewer", "bo@example.com")
CY = ("Cy Approver", "cy@example.com")
OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES",
             "TRACEPARENT", "AITRAIL_DISABLED", "AITRAIL_USER_EMAIL", "AITRAIL_USER_NAME", "AITRAIL_USER_ID",
             "AITRAIL_TEAM", "AITRAIL_SQL_URL")


def git(root: Path, *args: str, input: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, input=input)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


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


def ai_write(root: Path, path: str, lines: list[str], assistant: str = "claude-code") -> None:
    """An assistant writes ``lines`` to ``path`` through the SDK (the generation goes to the local journal)."""
    text = "\n".join(lines) + "\n"
    with aitrail.track(assistant=assistant, prompt=f"write {path}", cwd=root) as generation:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        generation.record_edit(root / path, text)
    assert aitrail.flush()


def commit(root: Path, message: str, *trailers: str) -> str:
    git(root, "add", "-A")
    body = message + ("\n\n" + "\n".join(trailers) if trailers else "")
    git(root, "commit", "-q", "-F", "-", input=body)
    return git(root, "rev-parse", "HEAD")
