"""Fixtures of the interop tests: a clean environment and a real git repository (helpers: interop_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Under --import-mode=importlib nothing puts this folder on sys.path; the test modules import interop_support.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aitrail  # noqa: E402
from interop_support import GIT_ENV, OTEL_VARS, git  # noqa: E402


@pytest.fixture
def env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal.jsonl"))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    for key in OTEL_VARS:
        monkeypatch.delenv(key, raising=False)
    yield tmp_path
    aitrail.shutdown()


@pytest.fixture
def repo(env):
    root = env / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", "https://git.example.com/acme/shop.git")
    return root
