"""Generations from the native telemetry of AI coding assistants, derived inside ClickHouse.

Claude Code, Codex and Gemini CLI export their own OpenTelemetry: events
(prompt, model answer, tool decision, tool result) as log records, some spans,
metrics. None of it is an aitrail generation span, so none of it reaches
``ai_generations`` by itself. Each assistant's dialect has one SQL statement
here (``claude_code.sql``, ``codex.sql``, ``gemini_cli.sql``) that reads the raw
tables and inserts one generation span per file a tool call wrote into
``otel_traces`` — whence the ``ai_generations`` materialized view makes it a row
like any other, with prompt, model, tokens, person, team, file, line range and
line fingerprints. The rules shared by all dialects (how a write finds its
prompt and its answer, where tokens and cost go, when a row is due, and why a
second run derives nothing twice) are in ``_emit.sql``.

A generic GenAI application whose messages come as log records (the
OpenTelemetry GenAI events, correlated to the call's span) is one more dialect,
``genai.sql``: the call's span with what its records say (see
``aitrail.collector.processors.genai_content``).

Because it is SQL over the raw tables, it does not matter who wrote them (this
collector, or the OpenTelemetry Collector into a ClickHouse server), in which
order the events arrived, or whether a run was interrupted:

* :class:`Deriver` runs the statements every ``derive_interval`` seconds inside
  the collector, on the store's writer;
* :func:`derive_once` runs them once (``aitrail derive``), over any window of history.

Each run looks at events since ``now - lookback``; a row is derived once all
it joins to has arrived and its newest event is ``settle`` seconds old, or, with
whatever has arrived, once it is ``wait`` seconds old.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from aitrail.collector.derive.render import statement
from aitrail.collector.store import Store
from aitrail.collector.store.base import dedup_settings, settings_clause
from aitrail.collector.telemetry import SelfMetrics
from aitrail.errors import StoreError

log = logging.getLogger("aitrail.collector.derive")

DIALECTS: dict[str, str] = {"claude_code": "claude-code", "codex": "codex", "gemini_cli": "gemini-cli", "genai": ""}
"""Dialect (SQL file) -> the assistant's name in ``aitrail.assistant`` (``genai``: any GenAI application whose
messages come as log records, named by its own span)."""

SPAN_NAME = "aitrail.derived.generation"
"""The name of every derived span (its scope is ``aitrail.derive.<dialect>``)."""

NS = 1_000_000_000


@dataclass(frozen=True)
class Window:
    """When rows are due, in seconds (see the module docstring)."""

    settle: float = 6.0
    """An event this old has its companions: the OpenTelemetry SDKs the assistants use export every 5 s by default."""
    wait: float = 60.0
    """Give up waiting for missing companions (a prompt, an answer, a span) after this long."""
    lookback: float = 86_400.0
    """Look at events this far back."""

    def parameters(self, now_ns: int) -> dict[str, int]:
        return {
            "window_start": now_ns - int(self.lookback * NS),
            "settled": now_ns - int(self.settle * NS),
            "given_up": now_ns - int(self.wait * NS),
        }


PRESENCE: dict[str, tuple[str, str]] = {
    "claude_code": ("otel_logs", "startsWith(ScopeName, 'com.anthropic.claude_code')"),
    "codex": ("otel_logs", "startsWith(LogAttributes['event.name'], 'codex.')"),
    "gemini_cli": ("otel_logs", "startsWith(LogAttributes['event.name'], 'gemini_cli.')"),
    "genai": ("otel_traces", "has(mapValues(SpanAttributes), 'model_call') AND SpanAttributes['aitrail.kind'] = 'model_call'"),
}
"""How to tell, cheaply, that a dialect's data is in the window at all (else its statement is not run): the table
and the condition (``genai`` starts from the call spans, which become generations even without log records)."""

_SINCE = {
    "otel_logs": "TimestampTime >= toDateTime(fromUnixTimestamp64Nano({since:Int64})) "
                 "AND Timestamp >= fromUnixTimestamp64Nano({since:Int64})",
    "otel_traces": "Timestamp >= fromUnixTimestamp64Nano({since:Int64})",
}


def _present(store: Store, since_ns: int, dialects: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for table, since in _SINCE.items():
        mine = [d for d in dialects if PRESENCE[d][0] == table]
        if mine:
            checks = ", ".join(f"countIf({PRESENCE[d][1]}) > 0 AS {d}" for d in mine)
            row = store.rows(f"SELECT {checks} FROM {store.qualified(table)} WHERE {since}", {"since": since_ns})[0]
            found.update(d for d in mine if row[d])
    return found


def _count(store: Store, since_ns: int) -> dict[str, int]:
    rows = store.rows(
        f"SELECT ScopeName AS scope, count() AS n FROM {store.qualified('otel_traces')} "
        "WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND SpanName = {name:String} GROUP BY scope",
        {"since": since_ns, "name": SPAN_NAME},
    )
    return {r["scope"].removeprefix("aitrail.derive."): int(r["n"]) for r in rows}


def derive_once(
    store: Store,
    window: Window | None = None,
    *,
    now_ns: int | None = None,
    dialects: tuple[str, ...] = tuple(DIALECTS),
    once_per: str | None = None,
) -> dict[str, int]:
    """Derive every due generation once; return how many rows each dialect added.

    ``now_ns`` (nanoseconds since the epoch, default: now) is the moment the
    window is measured from; tests and backfills may move it. ``once_per``
    names the run (a round: :meth:`Deriver.round`): each dialect's insert
    carries it as its deduplication token, so a second run of the same name,
    whatever it selected, stores nothing (see :class:`Deriver`).
    """
    window = window or Window()
    now_ns = time.time_ns() if now_ns is None else now_ns
    params = window.parameters(now_ns)
    present = _present(store, params["window_start"], dialects)
    if not present:
        return {d: 0 for d in dialects}
    before = _count(store, params["window_start"])
    for dialect in dialects:
        if dialect in present:
            sql = statement(dialect, DIALECTS[dialect], store.database)
            if once_per is not None:
                sql += " " + settings_clause({**dedup_settings(f"{once_per}.{dialect}"), "max_insert_threads": 1})
            store.command(sql, params)
    after = _count(store, params["window_start"])
    return {d: after.get(d, 0) - before.get(d, 0) for d in dialects}


class Deriver:
    """Runs :func:`derive_once` every ``interval`` seconds on the collector's event loop (the SQL in a thread).

    Only while it may find something: from the moment this collector stores
    new logs or spans until ``wait`` seconds later (when everything that arrived
    is due), and otherwise every ``recheck`` seconds, for rows other writers put
    in the store. ``await start()``, then ``await stop()``: stop lets a run in
    progress finish, so the store is never closed under it. A failed run is
    logged and counted (``derive_failed``) and the next one tries again: nothing
    is lost, since the next run looks at the same window.

    Several collectors in front of one ClickHouse each run it. Runs happen in
    *rounds* of wall-clock time (``interval`` long, the same for every collector
    configured alike): a run measures its window from the start of its round and
    runs in the round's middle, and its inserts carry the round as their
    deduplication token. Two collectors running in one round may both select a
    row before either has stored it; the second insert of the round is then
    dropped by ClickHouse whatever it holds, and what only it held is derived in
    the next round (a row derived is never selected again). Clocks a few
    milliseconds apart still agree on the round, since runs start half a round
    from its ends.
    """

    RAW_TABLES = ("otel_logs", "otel_traces")

    def __init__(
        self, store: Store, metrics: SelfMetrics, interval: float = 2.0, window: Window | None = None, recheck: float = 30.0
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.interval = interval
        self.window = window or Window()
        self.recheck = recheck
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._seen = -1
        self._busy_until = 0.0
        self._last_run = 0.0

    def due(self, now: float | None = None) -> bool:
        """Whether a run may find something now (see the class docstring)."""
        now = time.monotonic() if now is None else now
        inserted = self.metrics.snapshot()["inserted"]
        seen = sum(inserted.get(table, 0) for table in self.RAW_TABLES)
        if seen != self._seen:
            self._seen = seen
            self._busy_until = now + self.window.wait + 2 * self.interval
        return now <= self._busy_until or now - self._last_run >= self.recheck

    @property
    def _round_ns(self) -> int:
        """A round's length, in nanoseconds."""
        return max(int(self.interval * NS), 1)

    def round(self, now_ns: int | None = None) -> int:
        """The round ``now_ns`` (default: now, wall-clock) falls in: its start, in nanoseconds since the epoch."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        return now_ns - now_ns % self._round_ns

    def until_next_run(self, now_ns: int | None = None) -> float:
        """Seconds from ``now_ns`` (default: now) to the middle of the next round whose middle is still ahead."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        middle = self.round(now_ns) + self._round_ns // 2
        if middle <= now_ns:
            middle += self._round_ns
        return (middle - now_ns) / NS

    def run_once(self) -> dict[str, int]:
        """One run, counted in the collector's self-metrics (rows inserted into ``derived:<dialect>``)."""
        self._last_run = time.monotonic()
        round_ns = self.round()
        try:
            added = derive_once(self.store, self.window, now_ns=round_ns, once_per=f"derive.{round_ns}")
        except StoreError as exc:
            self.metrics.count(self.metrics.rejected, "derive_failed")
            log.warning("deriving generations from native telemetry failed (retrying next run): %s", exc)
            return {}
        for dialect, n in added.items():
            if n:
                self.metrics.count(self.metrics.inserted, f"derived:{dialect}", n)
        return added

    async def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="aitrail-deriver")

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.until_next_run())
            except TimeoutError:
                if self.due():
                    await asyncio.to_thread(self.run_once)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
