"""The daily rollups (migrations 0006, 0007) on the real engine: what they hold equals aggregates computed in
Python from the generations inserted, whichever way and in however many parts those arrived."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timezone

import pyarrow as pa
import pytest

from aitrail.collector.store.schema import known_migrations

TENANTS = ("acme", "globex")
TEAMS = ("payments", "mobile", "platform")
DAY0 = datetime(2026, 3, 30, tzinfo=timezone.utc)  # spans a month boundary: two partitions


def generations(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        rows.append({
            "timestamp": DAY0.timestamp() * 1e9 // 1 + rng.randrange(4 * 86400 * 10**9),
            "tenant": rng.choice(TENANTS),
            "team": rng.choice(TEAMS),
            "user_id": f"u{rng.randrange(7)}",
            "assistant": rng.choice(("claude-code", "codex")),
            "model": rng.choice(("m1", "m2")),
            "input_tokens": rng.randrange(5000),
            "output_tokens": rng.randrange(900),
            "cost_usd": rng.randrange(10**6) / 10**6,
            "repository": f"https://git.example.com/r{rng.randrange(3)}",
            "file_path": f"src/f{rng.randrange(9)}.py",
            "lines_added": rng.randrange(40),
            "lines_removed": rng.randrange(5),
            "decision": rng.choice(("accepted", "accepted", "rejected", "")),
        })
    return rows


def insert(store, rows: list[dict]) -> None:
    table = pa.table({
        "timestamp": pa.array([int(r["timestamp"]) for r in rows], pa.int64()).cast(pa.timestamp("ns")),
        **{k: pa.array([r[k] for r in rows]) for k in rows[0] if k != "timestamp"},
    })
    table = table.set_column(table.schema.get_field_index("lines_added"), "lines_added",
                             table["lines_added"].cast(pa.uint32()))
    table = table.set_column(table.schema.get_field_index("lines_removed"), "lines_removed",
                             table["lines_removed"].cast(pa.uint32()))
    store.insert("ai_generations", table)


def day(row: dict) -> str:
    return datetime.fromtimestamp(row["timestamp"] / 1e9, timezone.utc).strftime("%Y-%m-%d")


def expected_usage(rows: list[dict]) -> dict:
    out: dict = defaultdict(lambda: [0, set(), 0, 0.0, 0, 0, 0])
    for r in rows:
        acc = out[(r["tenant"], day(r), r["team"])]
        accepted = r["decision"] == "accepted"
        acc[0] += 1
        acc[1].add(r["user_id"])
        acc[2] += r["input_tokens"] + r["output_tokens"]
        acc[3] += r["cost_usd"]
        acc[4] += r["lines_added"]
        acc[5] += r["lines_added"] if accepted else 0
        acc[6] += accepted
    return {k: (v[0], len(v[1]), v[2], round(v[3], 6), v[4], v[5], v[6]) for k, v in out.items()}


def actual_usage(store) -> dict:
    rows = store.rows(
        "SELECT tenant, toString(day) AS day, team, sum(generations) AS g, uniqExactMerge(people) AS p, "
        "sum(input_tokens + output_tokens) AS t, sum(cost_usd) AS c, sum(lines_added) AS la, "
        "sum(accepted_lines) AS al, sum(accepted_generations) AS ag FROM aitrail.ai_usage_daily GROUP BY tenant, day, team")
    return {(r["tenant"], r["day"], r["team"]): (int(r["g"]), int(r["p"]), int(r["t"]), round(float(r["c"]), 6),
                                                 int(r["la"]), int(r["al"]), int(r["ag"])) for r in rows}


def expected_files(rows: list[dict]) -> dict:
    out: dict = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in rows:
        acc = out[(r["tenant"], day(r), r["repository"], r["file_path"])]
        accepted = r["decision"] == "accepted"
        acc[0] += 1
        acc[1] += accepted
        acc[2] += r["lines_added"]
        acc[3] += r["lines_added"] if accepted else 0
        acc[4] += r["lines_removed"]
    return {k: tuple(v) for k, v in out.items()}


def actual_files(store) -> dict:
    rows = store.rows(
        "SELECT tenant, toString(day) AS day, repository, file_path, sum(generations) AS g, "
        "sum(accepted_generations) AS ag, sum(lines_added) AS la, sum(accepted_lines) AS al, "
        "sum(lines_removed) AS lr FROM aitrail.ai_files_daily GROUP BY tenant, day, repository, file_path")
    return {(r["tenant"], r["day"], r["repository"], r["file_path"]):
            (int(r["g"]), int(r["ag"]), int(r["la"]), int(r["al"]), int(r["lr"])) for r in rows}


def expected_repositories(rows: list[dict]) -> dict:
    """Over the whole range (distinct files and people must be merged across days, not summed)."""
    out: dict = defaultdict(lambda: [0, 0, 0, set(), set()])
    for r in rows:
        acc = out[(r["tenant"], r["repository"])]
        acc[0] += 1
        acc[1] += r["lines_added"]
        acc[2] += r["lines_removed"]
        acc[3].add(r["file_path"])
        acc[4].add(r["user_id"])
    return {k: (v[0], v[1], v[2], len(v[3]), len(v[4])) for k, v in out.items()}


def actual_repositories(store) -> dict:
    rows = store.rows(
        "SELECT tenant, repository, sum(generations) AS g, sum(lines_added) AS la, sum(lines_removed) AS lr, "
        "uniqExactMerge(files) AS f, uniqExactMerge(people) AS p FROM aitrail.ai_repositories_daily "
        "GROUP BY tenant, repository")
    return {(r["tenant"], r["repository"]): (int(r["g"]), int(r["la"]), int(r["lr"]), int(r["f"]), int(r["p"]))
            for r in rows}


def check(store, rows: list[dict]) -> None:
    assert actual_usage(store) == expected_usage(rows)
    assert actual_files(store) == expected_files(rows)
    assert actual_repositories(store) == expected_repositories(rows)


def test_rollups_equal_the_generations_they_summarize(store):
    first, second = generations(1, 700), generations(2, 500)
    insert(store, first)
    insert(store, second)  # the same keys again, in other parts: read with sum() / merge, they add up
    check(store, first + second)
    store.command("OPTIMIZE TABLE aitrail.ai_usage_daily FINAL")  # and after parts merge, the same
    check(store, first + second)


def test_spans_written_by_any_writer_reach_the_rollups_through_ai_generations(store):
    """otel_traces -> ai_generations_mv -> ai_generations -> the rollups' views, in one insert."""
    spans = pa.table({
        "Timestamp": pa.array([int(DAY0.timestamp() * 1e9)] * 2, pa.int64()).cast(pa.timestamp("ns")),
        "TraceId": ["0" * 31 + "1", "0" * 31 + "2"], "SpanId": ["0" * 15 + "1", "0" * 15 + "2"],
        "ServiceName": ["aitrail-sdk"] * 2,
        "ResourceAttributes": pa.array([[("aitrail.tenant.id", "acme")]] * 2, pa.map_(pa.string(), pa.string())),
        "SpanAttributes": pa.array([[("aitrail.kind", "generation"), ("aitrail.team", "mobile"),
                                     ("user.id", "u1"), ("gen_ai.usage.input_tokens", "10"),
                                     ("aitrail.code.lines_added", "3"), ("aitrail.decision", "accepted")]] * 2,
                                   pa.map_(pa.string(), pa.string())),
    })
    store.insert("otel_traces", spans)
    usage = actual_usage(store)
    assert usage == {("acme", "2026-03-30", "mobile"): (2, 1, 20, 0.0, 6, 6, 2)}


def test_the_backfill_counts_earlier_generations_once_however_often_it_runs(store):
    rows = generations(3, 400)
    insert(store, rows)
    for table in ("ai_usage_daily", "ai_files_daily", "ai_repositories_daily"):
        store.command(f"TRUNCATE TABLE aitrail.{table}")  # as if these generations predated migration 0006
    backfills = [m for m in known_migrations() if m.name in ("daily_rollups", "rollup_accepted_and_utc_days")]
    assert len(backfills) == 2
    for _ in range(2):  # migrations interrupted and run again
        for migration in backfills:
            for statement in migration.statements("aitrail"):
                store.command(statement)
        check(store, rows)


@pytest.mark.parametrize("table", ["ai_usage_daily", "ai_files_daily", "ai_repositories_daily"])
def test_rollups_are_partitioned_by_month_and_keyed_by_tenant_first(store, table):
    row = store.rows("SELECT partition_key, sorting_key FROM system.tables WHERE database = 'aitrail' "
                     "AND name = {t:String}", {"t": table})[0]
    assert row["partition_key"] == "toYYYYMM(day)"
    assert row["sorting_key"].startswith("tenant, ") and "day" in row["sorting_key"]



_DAYS_IN_ZONE = """
import json, sys
from pathlib import Path
from aitrail.collector.store import StoreLocation, open_store
store = open_store(StoreLocation(data_dir=Path(sys.argv[1])))
store.command("INSERT INTO aitrail.ai_generations (timestamp, tenant, team, user_id, repository, file_path, decision) "
              "SELECT toDateTime64(" + repr(sys.argv[2]) + ", 9, 'UTC'), 'acme', 'mobile', 'u1', 'r', 'f.py', 'accepted'")
print(json.dumps({t: [r["day"] for r in store.rows(f"SELECT DISTINCT toString(day) AS day FROM aitrail.{t}")]
                  for t in ("ai_usage_daily", "ai_files_daily", "ai_repositories_daily")}))
store.close()
"""


@pytest.mark.parametrize(("zone", "utc"), [("Asia/Kolkata", "2026-03-30 22:30:00"),  # 04:00 the next day there
                                           ("America/Los_Angeles", "2026-03-30 03:30:00")])  # 20:30 the day before
def test_a_rollup_day_is_the_utc_day_whatever_the_machines_time_zone(tmp_path, zone, utc):
    """A generation near midnight UTC is on another day in the machine's zone: the rollups say the UTC day.
    (The embedded engine takes its zone from the process's TZ at start: hence a process of its own.)"""
    import json
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _DAYS_IN_ZONE, str(tmp_path / "store"), utc], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TZ": zone})
    assert done.returncode == 0, done.stderr[-2000:]
    days = json.loads(done.stdout.strip().splitlines()[-1])
    assert days == {t: ["2026-03-30"] for t in ("ai_usage_daily", "ai_files_daily", "ai_repositories_daily")}
