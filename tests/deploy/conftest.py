"""Session fixtures for tests/deploy (helpers are in deploy_support.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# The test modules here import their helpers from deploy_support.py; under pytest's
# --import-mode=importlib nothing puts this folder on sys.path, so do it once, here.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_support import (  # noqa: E402
    DATABASE, DEPLOY, ClickHouse, Instruction, Schema, dockerfile_instructions, load_yaml, migration_sql, sql_statements,
)


@pytest.fixture(scope="session")
def schema() -> Schema:
    text = migration_sql()
    name = rf"(?:`?{DATABASE}`?\.)?`?(\w+)`?"
    tables = re.findall(rf"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{name}", text, re.I)
    views = re.findall(rf"CREATE\s+MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?{name}", text, re.I)
    assert tables and views
    return Schema(frozenset(tables), frozenset(views))


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return load_yaml(DEPLOY / "docker-compose.yml")


@pytest.fixture(scope="session")
def otelcol() -> dict[str, Any]:
    return load_yaml(DEPLOY / "otelcol" / "config.yaml")


@pytest.fixture(scope="session")
def dockerfile() -> list[Instruction]:
    return dockerfile_instructions(DEPLOY / "Dockerfile")


@pytest.fixture(scope="session")
def serve_help() -> str:
    """`aitrail serve --help` from the installed console script, wide enough not to cut flag names."""
    exe = Path(sys.executable).with_name("aitrail")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "aitrail.cli"]
    env = {**os.environ, "COLUMNS": "240", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run([*cmd, "serve", "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def serve_flags(serve_help: str) -> set[str]:
    flags = set(re.findall(r"--[a-z][a-z-]*", serve_help))
    assert {"--host", "--clickhouse-url"} <= flags, serve_help
    return flags


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> ClickHouse:
    return ClickHouse(tmp_path_factory.mktemp("chdb"))


@pytest.fixture(scope="session")
def cluster_statements() -> list[str]:
    """The statements of deploy/clickhouse/cluster.sql."""
    return sql_statements((DEPLOY / "clickhouse" / "cluster.sql").read_text())
