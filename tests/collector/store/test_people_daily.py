"""The daily rollup per person (migration 0011) on the real engine: what it holds equals sums computed in Python from
the generations and cost estimates inserted, whichever way they arrived, and its backfill counts earlier rows once."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from aitrail.collector.store.schema import known_migrations

DAY0 = datetime(2026, 3, 30, tzinfo=timezone.utc)  # spans a month boundary: two partitions
KEY = ("tenant", "day", "team", "person", "repository", "assistant", "model")
SUMS = ("generations", "accepted_generations", "tokens", "cost_usd", "estimated_cost_usd", "lines_added",
        "accepted_lines")
PRICES = {row["model"]: row for row in csv.DictReader(
    (Path(__file__).parents[3] / "collector" / "store" / "prices.csv").open())}


def generations(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        user = rng.randrange(7)
        sent_cost = rng.random() < 0.7
        rows.append({
            "timestamp": int(DAY0.timestamp()) * 10**9 + rng.randrange(4 * 86400 * 10**9),
            "tenant": rng.choice(("acme", "globex")), "team": rng.choice(("payments", "mobile")),
            "user_id": f"u{user}", "user_email": f"dev{user}@example.com" if user % 3 else "",
            "assistant": rng.choice(("claude-code", "codex")), "model": rng.choice(("m1", "m2")),
            "input_tokens": rng.randrange(5000), "output_tokens": rng.randrange(900),
            "cost_usd": rng.randrange(1, 10**6) / 10**6 if sent_cost else 0.0,
            "estimated_cost_usd": 0.0 if sent_cost else rng.randrange(1, 10**6) / 10**6,
            "repository": f"https://git.example.com/r{rng.randrange(3)}", "span_id": f"{seed:04d}{n:012d}",
            "lines_added": rng.randrange(40), "decision": rng.choice(("accepted", "rejected", "")),
        })
    return rows


def insert(store, rows: list[dict]) -> None:
    """Generations into ai_generations, and the estimates of those sent without a cost into ai_cost_estimates."""
    def table(rows: list[dict], names: tuple[str, ...], types: dict) -> pa.Table:
        return pa.table({"timestamp": pa.array([r["timestamp"] for r in rows], pa.int64()).cast(pa.timestamp("ns")),
                         **{k: pa.array([r[k] for r in rows], types.get(k)) for k in names}})

    store.insert("ai_generations", table(rows, ("tenant", "team", "user_id", "user_email", "assistant", "model",
                                                "input_tokens", "output_tokens", "cost_usd", "repository", "span_id",
                                                "lines_added", "decision"),
                                         {"lines_added": pa.uint32(), "input_tokens": pa.uint64(),
                                          "output_tokens": pa.uint64()}))
    estimated = [r for r in rows if r["estimated_cost_usd"]]
    store.insert("ai_cost_estimates", table(estimated, ("tenant", "span_id", "team", "user_email", "repository",
                                                        "model", "estimated_cost_usd"), {}))


def expected(rows: list[dict]) -> dict:
    out: dict = defaultdict(lambda: [0, 0, 0, 0.0, 0.0, 0, 0])
    for r in rows:
        day = datetime.fromtimestamp(r["timestamp"] / 1e9, timezone.utc).strftime("%Y-%m-%d")
        accepted = r["decision"] == "accepted"
        generation = out[(r["tenant"], day, r["team"], r["user_email"] or r["user_id"], r["repository"],
                          r["assistant"], r["model"])]
        for i, value in enumerate((1, accepted, r["input_tokens"] + r["output_tokens"], r["cost_usd"], 0.0,
                                   r["lines_added"], r["lines_added"] if accepted else 0)):
            generation[i] += value
        if r["estimated_cost_usd"]:  # an estimate knows the e-mail address, not the user id nor the assistant
            out[(r["tenant"], day, r["team"], r["user_email"], r["repository"], "", r["model"])][4] += \
                r["estimated_cost_usd"]
    return {k: tuple(round(x, 6) if isinstance(x, float) else x for x in v) for k, v in out.items()}


def actual(store) -> dict:
    rows = store.rows(
        "SELECT tenant, toString(day) AS day, team, person, repository, assistant, model, "
        "sum(generations) AS generations, sum(accepted_generations) AS accepted_generations, "
        "sum(input_tokens) + sum(output_tokens) AS tokens, sum(cost_usd) AS cost_usd, "
        "sum(estimated_cost_usd) AS estimated_cost_usd, sum(lines_added) AS lines_added, "
        "sum(accepted_lines) AS accepted_lines FROM aitrail.ai_people_daily GROUP BY " + ", ".join(KEY))
    return {tuple(r[k] for k in KEY): tuple(round(float(r[k]), 6) if "cost" in k else int(r[k]) for k in SUMS)
            for r in rows}


def test_the_rollup_equals_the_generations_and_estimates_it_sums(store):
    first, second = generations(1, 600), generations(2, 400)
    insert(store, first)
    insert(store, second)  # the same keys again, in other parts: read with sum(), they add up
    assert actual(store) == expected(first + second)
    store.command("OPTIMIZE TABLE aitrail.ai_people_daily FINAL")
    assert actual(store) == expected(first + second)


def test_spans_reach_it_with_the_price_tables_estimate(store):
    """otel_traces -> ai_generations_mv and ai_cost_estimates_mv -> the rollup's two views, in one insert: a span
    with a cost keeps it, a span without one gets the price table's estimate (prices.csv, read here)."""
    def span(number: int, cost: str | None) -> list[tuple[str, str]]:
        attributes = [("aitrail.kind", "generation"), ("aitrail.team", "mobile"), ("user.id", "u1"),
                      ("user.email", "ana@example.com"), ("aitrail.assistant", "codex"),
                      ("gen_ai.request.model", "gpt-4o"), ("gen_ai.usage.input_tokens", str(1000 * number)),
                      ("gen_ai.usage.output_tokens", "500"), ("vcs.repository.url.full", "https://git.example.com/r")]
        return attributes + ([("aitrail.cost.usd", cost)] if cost else [])

    store.insert("otel_traces", pa.table({
        "Timestamp": pa.array([int(DAY0.timestamp() * 1e9)] * 2, pa.int64()).cast(pa.timestamp("ns")),
        "TraceId": ["0" * 31 + "1", "0" * 31 + "2"], "SpanId": ["0" * 15 + "1", "0" * 15 + "2"],
        "ServiceName": ["aitrail-sdk"] * 2,
        "ResourceAttributes": pa.array([[("aitrail.tenant.id", "acme")]] * 2, pa.map_(pa.string(), pa.string())),
        "SpanAttributes": pa.array([span(1, "0.25"), span(2, None)], pa.map_(pa.string(), pa.string())),
    }))
    price = PRICES["gpt-4o"]
    estimate = (2000 * float(price["input_usd_per_mtok"]) + 500 * float(price["output_usd_per_mtok"])) / 1e6
    day = DAY0.strftime("%Y-%m-%d")
    assert actual(store) == {
        ("acme", day, "mobile", "ana@example.com", "https://git.example.com/r", "codex", "gpt-4o"):
            (2, 0, 4000, 0.25, 0.0, 0, 0),
        ("acme", day, "mobile", "ana@example.com", "https://git.example.com/r", "", "gpt-4o"):
            (0, 0, 0, 0.0, round(estimate, 6), 0, 0),
    }


def test_the_backfill_counts_earlier_rows_once_however_often_it_runs(store):
    rows = generations(3, 300)
    insert(store, rows)
    store.command("TRUNCATE TABLE aitrail.ai_people_daily")  # as if these rows predated migration 0011
    (migration,) = [m for m in known_migrations() if m.version == 11]
    for _ in range(2):  # the migration interrupted and run again
        for statement in migration.statements("aitrail"):
            store.command(statement)
        assert actual(store) == expected(rows)


def test_it_is_partitioned_by_month_and_keyed_by_tenant_and_day_first(store):
    row = store.rows("SELECT partition_key, sorting_key FROM system.tables WHERE database = 'aitrail' "
                     "AND name = 'ai_people_daily'")[0]
    assert row["partition_key"] == "toYYYYMM(day)"
    assert row["sorting_key"].startswith("tenant, day, ")
