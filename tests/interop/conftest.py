"""Fixtures of the interop tests: a clean environment and a real git repository (helpers: interop_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Under --import-mode=importlib nothing puts this folder on sys.path; the test modules import interop_support.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aitrail  # noqa: E402
from developer_env import isolate  # noqa: E402
from interop_support import GIT_ENV, OTEL_VARS, git  # noqa: E402


@pytest.fixture
def env(tmp_path, monkeypatch):
    isolate(tmp_path, monkeypatch, GIT_ENV, OTEL_VARS)
    yield tmp_path
    aitrail.shutdown()


@pytest.fixture
def repo(env):
    root = env / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", "https://git.example.com/acme/shop.git")
    return root
