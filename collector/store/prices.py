"""The price table: what a model's tokens cost, so a generation whose sender gave no cost gets an estimate.

The shipped table (``prices.csv`` beside this module: provider, model family, USD per million input,
output, cache-read and cache-write tokens, the day the figures were read and their source — a provider's price
page, or the entry of the price file a named litellm release ships; docs/accountability.md says how each was
taken) is written to ``ai_prices``, which the view filling ``ai_cost_estimates`` joins
(migration 0009): the estimate is made in the engine, so every writer of ``otel_traces`` benefits. The
collector's configuration overrides or adds rows (``[[collector.prices]]``, :func:`parse_overrides`).
Estimates are rows apart (``ai_cost_estimates``) and reports show how much of a total is estimated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from importlib import resources
from typing import Any

from aitrail.collector.store.base import Store
from aitrail.errors import ConfigError

TABLE = "ai_prices"


@dataclass(frozen=True)
class Price:
    """USD per million tokens of one model family."""

    model: str
    provider: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cache_read_usd_per_mtok: float
    cache_write_usd_per_mtok: float
    taken_on: date
    source: str


_PRICES = tuple(f.name for f in fields(Price) if f.name.endswith("_per_mtok"))


def shipped_prices() -> list[Price]:
    """The table shipped with this version of aitrail."""
    text = resources.files("aitrail.collector.store").joinpath("prices.csv").read_text()
    return [_price(row, "prices.csv") for row in csv.DictReader(io.StringIO(text))]


def _price(row: Mapping[str, Any], where: str) -> Price:
    model = str(row.get("model") or "").strip().lower()
    if not model:
        raise ConfigError(f"{where}: model: give the model family, e.g. model = \"gpt-4o\"")
    values: dict[str, Any] = {"model": model, "provider": str(row.get("provider") or ""),
                              "source": str(row.get("source") or "configuration")}
    for name in _PRICES:
        raw = row.get(name, 0)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        if isinstance(raw, bool) or not 0 <= value < 10_000:
            raise ConfigError(f"{where}: {name}: must be USD per million tokens (a number from 0), not {raw!r}")
        values[name] = value
    taken = row.get("taken_on") or date.today()
    try:
        values["taken_on"] = taken if isinstance(taken, date) else date.fromisoformat(str(taken))
    except ValueError:
        raise ConfigError(f"{where}: taken_on: must be a date (YYYY-MM-DD), not {taken!r}") from None
    return Price(**values)


def parse_overrides(rows: Sequence[Mapping[str, Any]]) -> list[Price]:
    """Prices from the configuration (``[[collector.prices]]`` tables), each complaint naming its row and key."""
    known = {f.name for f in fields(Price)}
    prices = []
    for number, row in enumerate(rows, 1):
        where = f"collector.prices[{number}]"
        if not isinstance(row, Mapping):
            raise ConfigError(f"{where}: must be a table with model, input_usd_per_mtok, output_usd_per_mtok, ...")
        unknown = sorted(set(row) - known)
        if unknown:
            raise ConfigError(f"{where}: {unknown[0]}: unknown key; known: {', '.join(sorted(known))}")
        prices.append(_price(row, where))
    return prices


def merged(overrides: Iterable[Price]) -> list[Price]:
    """The shipped table with the configuration's rows in place of (or beside) the shipped ones."""
    table = {p.model: p for p in shipped_prices()}
    table.update({p.model: p for p in overrides})
    return sorted(table.values(), key=lambda p: p.model)


def sync_prices(store: Store, prices: Sequence[Price] | None = None, only_if_empty: bool = False) -> bool:
    """Make ``ai_prices`` say ``prices`` (default: the shipped table); True when it wrote. A model neither
    shipped nor configured any more keeps its last row (an unused price changes no cost)."""
    prices = list(prices) if prices is not None else merged(())
    table = store.qualified(TABLE)
    if only_if_empty and store.rows(f"SELECT count() AS n FROM {table}", readonly=False)[0]["n"]:
        return False
    current = store.rows(f"SELECT model, provider, {', '.join(_PRICES)}, toString(taken_on) AS taken_on, source "
                         f"FROM {table} FINAL ORDER BY model", readonly=False)
    wanted = [{**asdict(p), "taken_on": p.taken_on.isoformat()} for p in prices]
    known = {row["model"]: dict(row) for row in current}
    if all(known.get(row["model"]) == row for row in wanted):
        return False
    # No TRUNCATE (the writer of a ClickHouse server may not): the table keeps the newest row of each model
    # (ReplacingMergeTree by updated_at, read with FINAL), so writing every wanted row again replaces them all.
    columns = ["model", "provider", *_PRICES, "taken_on", "source"]
    params: dict[str, object] = {}
    rows = []
    for i, price in enumerate(prices):
        values = asdict(price)
        params.update({f"{name}{i}": values[name] for name in columns})
        rows.append("(" + ", ".join(f"{{{name}{i}:{_type(name)}}}" for name in columns) + ")")
    if rows:
        store.command(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(rows)}", params)
    return True


def _type(column: str) -> str:
    return "Float64" if column in _PRICES else "Date" if column == "taken_on" else "String"
