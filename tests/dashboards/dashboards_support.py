"""The dashboards' tests' seed: generations made from a seed, inserted into ``ai_generations`` (the daily
rollups fill themselves from it), and the time range the panels are asked over."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pyarrow as pa
from aitrail.dashboards.macros import TimeRange

DAY0 = datetime(2026, 3, 26, tzinfo=timezone.utc)  # a Thursday; the data spans a month boundary and three weeks
SPAN_DAYS = 12
TIME = TimeRange(DAY0 + timedelta(days=2), DAY0 + timedelta(days=9, hours=13, minutes=7), interval_seconds=86_400)
"""Asked over: some days before and after are left out, the last day only in part (rollups answer whole days)."""

TEAMS = ("payments", "mobile", "platform", "data")
ASSISTANTS = ("claude-code", "codex", "copilot")


@dataclass(frozen=True)
class Seeded:
    rows: list[dict]
    store: object


def generations(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        user = rng.randrange(14)
        rows.append({
            "timestamp": int(DAY0.timestamp()) * 10**9 + rng.randrange(SPAN_DAYS * 86400 * 10**9),
            "tenant": "acme",
            "team": TEAMS[user % len(TEAMS)],
            "user_id": f"u{user}",
            "user_email": f"dev{user}@example.com" if user % 5 else "",
            "assistant": rng.choice(ASSISTANTS),
            "model": rng.choice(("m-large", "m-small")),
            "input_tokens": rng.randrange(5000),
            "output_tokens": rng.randrange(900),
            "cost_usd": rng.randrange(10**6) / 10**5,
            "repository": f"https://git.example.com/r{rng.randrange(4)}",
            "file_path": f"src/f{rng.randrange(30)}.py",
            "lines_added": rng.randrange(60),
            "lines_removed": rng.randrange(5),
            "decision": rng.choice(("accepted", "accepted", "rejected", "")),
            "trace_id": f"{rng.getrandbits(128):032x}",
        })
    return rows


def insert(store, rows: list[dict]) -> None:
    columns = {k: pa.array([r[k] for r in rows]) for k in rows[0] if k != "timestamp"}
    for name in ("lines_added", "lines_removed"):
        columns[name] = columns[name].cast(pa.uint32())
    for name in ("input_tokens", "output_tokens"):
        columns[name] = columns[name].cast(pa.uint64())
    timestamps = pa.array([r["timestamp"] for r in rows], pa.int64()).cast(pa.timestamp("ns"))
    store.insert("ai_generations", pa.table({"timestamp": timestamps, **columns}))


