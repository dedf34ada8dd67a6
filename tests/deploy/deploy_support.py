"""Helpers for tests/deploy: the files of deploy/ parsed, and the real ClickHouse parser in a child process.

chDB allows one data path per process and other tests of this suite open path-based stores, so
ClickHouse (chDB) always runs in a child process here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aitrail.collector.store import aliases

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
GUIDE = REPO / "docs" / "deployment.md"
"""The deployment guide (deploy/README.md points to it)."""
MIGRATIONS = REPO / "collector" / "store" / "migrations"
DATABASE = "aitrail"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def sql_statements(text: str) -> list[str]:
    """Statements of a .sql file: ``;`` at a line end separates them, ``--`` lines are comments."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*$", text, flags=re.M) if part.strip()]


def migration_sql() -> str:
    """Every migration, in order, for database ``aitrail`` (read from the files, not through aitrail; only the
    generated alias expression comes from it)."""
    files = sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    assert files, f"no migrations in {MIGRATIONS}"
    text = "\n".join(f.read_text().replace("${database}", DATABASE) for f in files)
    return text.replace("${attributes}", aliases.SPAN_ATTRIBUTES)


@dataclass(frozen=True)
class Schema:
    """What the migration files create, parsed out of their text."""

    tables: frozenset[str]
    views: frozenset[str]

    @property
    def raw_tables(self) -> frozenset[str]:
        """Tables a writer inserts into (the exporter's), not the ones filled by materialized views."""
        return frozenset(t for t in self.tables if t.startswith("otel_") and not t.endswith("_trace_id_ts"))


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def dockerfile_instructions(path: Path) -> list[Instruction]:
    """Instructions of a Dockerfile: comments dropped, continuation lines joined."""
    logical, current = [], ""
    for line in path.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "Dockerfile ends with a line continuation"
    out = []
    for line in logical:
        keyword, _, args = line.strip().partition(" ")
        out.append(Instruction(keyword.upper(), args.strip()))
    return out


def exec_form(instruction: Instruction) -> list[str]:
    value = json.loads(instruction.args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), instruction
    return value


_CHDB_CHILD = r"""
import json, pathlib, sys
import chdb
job = json.load(sys.stdin)
out = []


def escaped(text):
    # Query parameter values are read in the escaped (TSV) format: a raw newline would end it.
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


if job["mode"] == "parse":
    for statement in job["statements"]:
        try:
            res = chdb.query("SELECT formatQuery({q:String})", "JSONCompact", params={"q": escaped(statement)})
            out.append({"ok": True, "formatted": json.loads(res.data())["data"][0][0]})
        except Exception as exc:
            out.append({"ok": False, "error": str(exc)})
elif job["mode"] == "session":
    # One engine for every step, started with a server configuration (clusters, macros).
    config = pathlib.Path("config.xml")
    config.write_text(job["config"])
    conn = chdb.connect(f":memory:?config-file={config.resolve()}")
    for step in job["steps"]:
        try:
            out.append({"ok": True, "output": conn.query(step["sql"], "TSV", params=step.get("params") or None).data()})
        except Exception as exc:
            out.append({"ok": False, "error": str(exc)})
else:
    for script in job["scripts"]:
        try:
            out.append({"ok": True, "output": chdb.query(script, "TSV").data()})
        except Exception as exc:
            out.append({"ok": False, "error": str(exc)})
json.dump(out, sys.stdout)
"""


class ClickHouse:
    """The real ClickHouse parser and engine (chDB), each call in a fresh child process."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def _child(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-c", _CHDB_CHILD],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            cwd=self.workdir,
            timeout=240,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    def parse(self, statements: list[str]) -> list[dict[str, Any]]:
        """One result per statement: ``ok`` and ``formatted``, or ``error`` from the parser."""
        return self._child({"mode": "parse", "statements": statements})

    def run(self, *scripts: str) -> list[dict[str, Any]]:
        """Run multi-statement scripts; each starts from an empty stateless engine (nothing carries over)."""
        return self._child({"mode": "run", "scripts": list(scripts)})

    def session(self, config: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run ``steps`` (``sql`` and optional ``params``) one after another in one engine started with the server
        configuration ``config`` (XML: clusters, macros); one result per step, ``output`` or ``error``."""
        return self._child({"mode": "session", "config": config, "steps": steps})


def de_replicate(statement: str) -> str:
    """What a single server can run: no ON CLUSTER, plain *MergeTree."""
    statement = re.sub(r"\s+ON CLUSTER '[^']*'", "", statement)
    return re.sub(r"Replicated(\w*)MergeTree\('[^']*', '[^']*'(?:, )?", r"\1MergeTree(", statement)


TWO_SHARDS = """<clickhouse>
  <macros><cluster>aitrail</cluster><shard>01</shard><replica>r1</replica></macros>
  <remote_servers><aitrail>
    <shard><replica><host>127.0.0.1</host><port>19000</port></replica></shard>
    <shard><replica><host>127.0.0.1</host><port>19001</port></replica></shard>
  </aitrail></remote_servers>
</clickhouse>
"""
"""A server that knows a cluster of two shards (nobody listens there: statements are created and planned, not
sent), and the macros cluster.sql names."""


def sharded_schema(cluster_statements: list[str]) -> str:
    """cluster.sql as one engine that knows the two-shard cluster runs it: replication taken out."""
    return ";\n".join(de_replicate(s) for s in cluster_statements)


def env_refs(text: str) -> set[str]:
    """Names in ${NAME}, ${NAME:-default}, ${NAME:?message} (compose interpolation)."""
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}", text))
