"""Interop: how fast git-ai notes and Agent Trace records come in, and Agent Trace records go out.

A real git repository of N commits (each adding 40 lines to each of 3 files) with a git-ai note per commit
(two AI sessions and a known human per file), in ``authorship/3.0.0``. Measured, end to end through a
collector on the embedded store:

- ``git_ai_read``: notes read and checked, files read at each commit, diffs attributed (``--dry-run``);
- ``git_ai_import``: the same, sent, and stored (the typed tables filled); ``git_ai_reimport``: again, all
  found stored, nothing sent;
- ``agent_trace_export``: every generation written as an Agent Trace record; ``agent_trace_read``: those
  records read and checked.

chDB opens one data directory per process: the work runs in a subprocess (``python -m bench.interop``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import isolated

FILES = 3
LINES = 40


def _git(root: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True, text=True, check=True).stdout


def make_repository(root: Path, commits: int) -> None:
    """``commits`` commits, each with its note: per file, lines 1-20 of the new block by one session, 21-30 by
    another, 31-35 by a known human, the rest untracked."""
    env = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada",
           "GIT_COMMITTER_EMAIL": "ada@example.com", "GIT_CONFIG_NOSYSTEM": "1"}
    os.environ.update(env)
    _git(root, "init", "-q", "-b", "main")
    sessions = {f"s_{hashlib.sha256(f'claude:c{i}'.encode()).hexdigest()[:14]}": i for i in range(2)}
    human = "h_" + hashlib.sha256(b"Ada <ada@example.com>").hexdigest()[:14]
    for n in range(commits):
        note = ""
        for f in range(FILES):
            path = root / f"src/module_{f}.py"
            path.parent.mkdir(exist_ok=True)
            with open(path, "a") as handle:
                handle.writelines(f"value_{n}_{f}_{i} = compute({n}, {f}, {i})\n" for i in range(LINES))
            base = n * LINES
            s0, s1 = sessions
            note += (f"src/module_{f}.py\n  {s0}::t_{n:014x} {base + 1}-{base + 20}\n"
                     f"  {s1}::t_{n:014x} {base + 21}-{base + 30}\n  {human} {base + 31}-{base + 35}\n")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", f"change {n}")
        metadata = {"schema_version": "authorship/3.0.0", "base_commit_sha": "", "prompts": {},
                    "humans": {human: {"author": "Ada <ada@example.com>"}},
                    "sessions": {s: {"agent_id": {"tool": "claude", "id": f"c{i}", "model": "claude-sonnet-4-5"},
                                     "human_author": "ada@example.com"} for s, i in sessions.items()}}
        blob = _git(root, "hash-object", "-w", "--stdin", stdin=note + "---\n" + json.dumps(metadata, indent=2)).strip()
        _git(root, "notes", "--ref=ai", "add", "-C", blob, "HEAD")


def _timed(work: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def work(quick: bool, echo: bool) -> dict[str, Any]:
    import aitrail
    from aitrail.collector.config import CollectorConfig
    from aitrail.collector.server import BackgroundCollector
    from aitrail.collector.store import StoreLocation
    from aitrail.interop.agent_trace import export_records, read_records, write_records
    from aitrail.interop.git_ai import import_git_ai
    from aitrail.interop.spans import Destination

    commits = 5 if quick else 200
    with tempfile.TemporaryDirectory(prefix="aitrail-bench-interop-") as scratch:
        root = Path(scratch) / "repo"
        root.mkdir()
        if echo:
            print(f"interop: a repository of {commits} noted commits ...", flush=True)
        make_repository(root, commits)
        config = CollectorConfig(location=StoreLocation(data_dir=Path(scratch) / "store"), http_port=0, grpc_port=0,
                                 sql_port=0, flush_interval=0.05, read_after_write=True)
        with BackgroundCollector(config) as collector:
            aitrail.configure(endpoint=collector.http_url)
            store = Destination(config.location, sql_url=collector.sql_url)
            dry, read_s = _timed(lambda: import_git_ai(str(root), None))
            done, import_s = _timed(lambda: import_git_ai(str(root), store))
            stored = store.read("SELECT count() AS n FROM aitrail.ai_generations", {})[0]["n"]
            again, reimport_s = _timed(lambda: import_git_ai(str(root), store))
            records, export_s = _timed(lambda: export_records(store.read))
            out = Path(scratch) / "traces.jsonl"
            write_records(records, out)
            parsed, parse_s = _timed(lambda: read_records(out))
            aitrail.shutdown()
        direct = Destination(StoreLocation(data_dir=Path(scratch) / "direct"))  # no collector: into the store
        _, direct_s = _timed(lambda: import_git_ai(str(root), direct))
    spans = done.sent
    return {
        "commits": commits, "generations": dry.generations, "spans": spans, "generations_stored": int(stored),
        "git_ai_read": {"seconds": round(read_s, 3), "notes_per_s": round(commits / read_s, 1)},
        "git_ai_import": {"seconds": round(import_s, 3), "spans_per_s": round(spans / import_s, 1)},
        "git_ai_import_direct": {"seconds": round(direct_s, 3), "spans_per_s": round(spans / direct_s, 1)},
        "git_ai_reimport": {"seconds": round(reimport_s, 3), "sent": again.sent, "already_stored": again.already_stored},
        "agent_trace_export": {"records": len(records), "seconds": round(export_s, 3),
                               "records_per_s": round(len(records) / export_s, 1)},
        "agent_trace_read": {"records": len(parsed), "seconds": round(parse_s, 3),
                             "records_per_s": round(len(parsed) / parse_s, 1)},
    }


def run(quick: bool = False, echo: bool = True) -> dict[str, Any]:
    result = isolated.in_subprocess("bench.interop", quick, echo)
    if echo:
        print(f"interop: {result['commits']} git-ai notes, {result['generations']} generations, {result['spans']} spans")
        print(f"  git-ai read and check  {result['git_ai_read']['seconds']:>8.2f} s  "
              f"({result['git_ai_read']['notes_per_s']:,.0f} notes/s)")
        print(f"  git-ai import          {result['git_ai_import']['seconds']:>8.2f} s  "
              f"({result['git_ai_import']['spans_per_s']:,.0f} spans/s through the collector, stored and derived)")
        print(f"  git-ai import, direct  {result['git_ai_import_direct']['seconds']:>8.2f} s  "
              f"({result['git_ai_import_direct']['spans_per_s']:,.0f} spans/s into a store no collector runs)")
        print(f"  git-ai re-import       {result['git_ai_reimport']['seconds']:>8.2f} s  "
              f"({result['git_ai_reimport']['sent']} sent, {result['git_ai_reimport']['already_stored']} already stored)")
        print(f"  Agent Trace export     {result['agent_trace_export']['seconds']:>8.2f} s  "
              f"({result['agent_trace_export']['records_per_s']:,.0f} records/s)")
        print(f"  Agent Trace read       {result['agent_trace_read']['seconds']:>8.2f} s  "
              f"({result['agent_trace_read']['records_per_s']:,.0f} records/s)")
    return result


def main() -> None:
    isolated.main(__doc__, work, run)


if __name__ == "__main__":
    main()
