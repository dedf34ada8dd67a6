"""The dashboards' tests' seed: generations made from a seed, inserted into ``ai_generations`` (the daily
rollups fill themselves from it), and the time range the panels are asked over."""

from __future__ import annotations

import random
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pyarrow as pa
from aitrail.dashboards.macros import TimeRange

DAY0 = datetime(2026, 3, 26, tzinfo=timezone.utc)  # a Thursday; the data spans a month boundary and three weeks
SPAN_DAYS = 12
TIME = TimeRange(DAY0 + timedelta(days=2), DAY0 + timedelta(days=9, hours=13, minutes=7), interval_seconds=86_400)
"""Asked over: some days before and after are left out, the last day only in part (rollups answer whole days)."""

TEAMS = ("payments", "mobile", "platform", "data")
CHECKLIST = ("tests", "security", "secrets", "licences", "explain")
"""The checklist questions sign-offs answer: those of the default policy (its keys, written out here)."""
ASSISTANTS = ("claude-code", "codex", "copilot")


@dataclass(frozen=True)
class Seeded:
    rows: list[dict]
    store: object
    records: dict[str, list[dict]] = field(default_factory=dict)


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
            "cost_usd": 0.0 if rng.random() < 0.15 else rng.randrange(10**6) / 10**5,  # 0: sent without a cost
            "repository": f"https://git.example.com/r{rng.randrange(4)}",
            "file_path": f"src/f{rng.randrange(30)}.py",
            "lines_added": rng.randrange(60),
            "lines_removed": rng.randrange(5),
            "decision": rng.choice(("accepted", "accepted", "rejected", "")),
            "trace_id": f"{rng.getrandbits(128):032x}",
            "line_fingerprints": [len(rows) * 8 + k + 1 for k in range(rng.randrange(4))],  # unique per generation
            "span_id": f"{rng.getrandbits(64):016x}",
        })
        rows[-1]["estimated_cost_usd"] = rng.randrange(10**5) / 10**5 if rows[-1]["cost_usd"] == 0 else 0.0
    return rows


ESTIMATED = ("tenant", "span_id", "team", "user_email", "repository", "model", "estimated_cost_usd")
"""What ai_cost_estimates holds of a generation sent without a cost (the price table's estimate, migration 0009)."""


def insert(store, rows: list[dict]) -> None:
    """The generations into ai_generations and, for those sent without a cost, their estimates into
    ai_cost_estimates, as the two views on otel_traces would (the per-person rollup takes both)."""
    timestamps = pa.array([r["timestamp"] for r in rows], pa.int64()).cast(pa.timestamp("ns"))
    estimated = [i for i, r in enumerate(rows) if r["estimated_cost_usd"]]
    if estimated:
        store.insert("ai_cost_estimates", pa.table({"timestamp": timestamps.take(estimated), **{
            k: pa.array([rows[i][k] for i in estimated]) for k in ESTIMATED}}))
    columns = {k: pa.array([r[k] for r in rows]) for k in rows[0] if k not in ("timestamp", "estimated_cost_usd")}
    for name in ("lines_added", "lines_removed"):
        columns[name] = columns[name].cast(pa.uint32())
    for name in ("input_tokens", "output_tokens"):
        columns[name] = columns[name].cast(pa.uint64())
    if "line_fingerprints" in columns:
        columns["line_fingerprints"] = columns["line_fingerprints"].cast(pa.list_(pa.uint64()))
    store.insert("ai_generations", pa.table({"timestamp": timestamps, **columns}))




def _moment(rng: random.Random) -> int:
    return int(DAY0.timestamp()) * 10**9 + rng.randrange(SPAN_DAYS * 86400 * 10**9)


def records(seed: int, generations: list[dict]) -> dict[str, list[dict]]:
    """Commits, findings, incidents and sign-offs about the seeded generations, as the typed tables hold them."""
    rng = random.Random(seed)
    people = [f"dev{u}@example.com" for u in range(14)]
    commits = []
    for i in range(90):
        added = rng.randrange(10, 200)
        ai = rng.choice((0, rng.randrange(added + 1), rng.randrange(added + 1)))
        first_added, first_ai = added // 2, ai // 2
        commits.append({
            "tenant": "acme", "timestamp": _moment(rng), "repository": f"https://git.example.com/r{rng.randrange(4)}",
            "commit": f"{i:04d}" + "c" * 36, "author_email": rng.choice(people),
            "team": rng.choice(TEAMS + ("",)), "lines_added": added, "ai_lines": ai, "trace_id": f"{i:032x}",
            "files": json.dumps([{"path": "src/a.py", "added": first_added, "ai": first_ai},
                                 {"path": "src/b.py", "added": added - first_added, "ai": ai - first_ai}]),
        })
    findings = []
    written = [g for g in generations if g["line_fingerprints"]]
    for i in range(140):
        commit = rng.choice(commits)
        kind = rng.random()
        origin = rng.choice(written)
        if kind < 0.2:  # caught by the generation-time scan
            fingerprints, caught, trace = origin["line_fingerprints"][:1], "generation", origin["trace_id"]
        elif kind < 0.55:  # a later scan, on lines AI wrote (sometimes of two generations)
            other = rng.choice(written)
            fingerprints = origin["line_fingerprints"][-1:] + (other["line_fingerprints"][:1] if kind < 0.3 else [])
            caught, trace = rng.choice(("scan", "incident")), ""
        else:  # human lines: fingerprints no generation wrote
            fingerprints, caught, trace = [10**12 + i], rng.choice(("scan", "incident")), ""
        findings.append({
            "tenant": "acme", "finding_id": f"f{i:03d}", "timestamp": _moment(rng), "source": "bandit",
            "rule": rng.choice(("B602", "B105", "B303")), "severity": rng.choice(("high", "medium", "low")),
            "repository": commit["repository"], "commit": commit["commit"], "file_path": "src/a.py",
            "line_start": rng.randrange(1, 300), "line_fingerprints": fingerprints, "caught_at": caught,
            "generation_trace_id": trace, "status": "open", "team": rng.choice(TEAMS),
        })
    incidents = []
    for i in range(16):
        linked = rng.sample(findings, rng.randrange(1, 5))
        incidents.append({
            "tenant": "acme", "incident_id": f"INC-{i}", "timestamp": _moment(rng), "title": f"incident {i}",
            "severity": rng.choice(("sev1", "sev2")), "status": "open", "cost_usd": rng.randrange(10**6) / 100,
            "finding_ids": [f["finding_id"] for f in linked], "repository": linked[0]["repository"],
            "team": rng.choice(TEAMS),
        })
    signoffs = []
    for i in range(170):
        commit = rng.choice(commits)
        signoffs.append({
            "tenant": "acme", "signoff_id": f"s{i:03d}", "timestamp": _moment(rng), "repository": commit["repository"],
            "commit": commit["commit"], "role": rng.choice(("reviewer", "approver")),
            "signer_email": commit["author_email"] if rng.random() < 0.2 else rng.choice(people),
            "source": "cli", "team": rng.choice(TEAMS),
            "checklist": {q: rng.choice(("yes", "yes", "no", "n/a"))  # every question of the default checklist, or one less
                          for q in rng.sample(CHECKLIST, len(CHECKLIST) - rng.randrange(2))},
        })
    return {"ai_commits": commits, "ai_findings": findings, "ai_incidents": incidents, "ai_signoffs": signoffs}


_TYPES = {"line_fingerprints": pa.list_(pa.uint64()), "finding_ids": pa.list_(pa.string()),
          "lines_added": pa.uint32(), "ai_lines": pa.uint32(), "line_start": pa.uint32(),
          "checklist": pa.map_(pa.string(), pa.string())}


def insert_records(store, tables: dict[str, list[dict]]) -> None:
    for table, rows in tables.items():
        columns = {}
        for name in rows[0]:
            values = [r[name] for r in rows]
            if name == "timestamp":
                columns[name] = pa.array(values, pa.int64()).cast(pa.timestamp("ns"))
            elif name == "checklist":
                columns[name] = pa.array([list(v.items()) for v in values], _TYPES[name])
            else:
                columns[name] = pa.array(values, _TYPES.get(name))
        store.insert(table, pa.table(columns))
