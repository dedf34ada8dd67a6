"""receive -> limits, process -> spool (fsync) -> batch -> store: the one path every OTLP request takes.

Receivers (HTTP, gRPC) only decode and answer; everything between the decoded
request and the store happens here, once, whatever the transport. No request
is flattened here: it is spooled as it is, beside its tenant and team, and the
engine makes its rows (tenant stamp included) when the drain stores it
(:mod:`aitrail.collector.engine.statement`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aitrail.collector.batcher import Batcher
from aitrail.collector.engine import logs, metrics, traces
from aitrail.collector.limits import ItemLimits, enforce
from aitrail.collector.processors import IngestContext, Processor
from aitrail.collector.processors.genai_content import GenAIContent
from aitrail.collector.processors.mapping import Mapping
from aitrail.collector.processors.redact import Redact
from aitrail.collector.rows import Flattened
from aitrail.collector.telemetry import SelfMetrics

SPOOL: dict[str, Callable[[Any, str, str | None, int, bytes | bytearray | None, bool], Flattened]] = {
    "traces": traces.to_spool,
    "logs": logs.to_spool,
    "metrics": metrics.to_spool,
}
"""The signals the engine flattens: what the collector spools of a request (given its tenant, team, depth, its
bytes as they came when nothing changed it, and whether the engine marks its model calls)."""


def _process(processor: Processor, *args: Any) -> bool:
    return processor.process(*args)


def run_processors(processors: Sequence[Processor], signal: str, request: Any, context: IngestContext,
                   body: bytes | bytearray | None, call: Callable[..., bool] = _process) -> tuple[bool, bool]:
    """Every processor on a request, in order: (whether one changed it, whether the engine marks its model calls).

    Each is given the request's bytes while none has changed it. GenAI content is not run on a trace request whose
    bytes name no message while the collector derives generations: its one possible change, the ``model_call``
    mark, is then made by the engine, by its rule (:data:`aitrail.collector.engine.traces.MODEL_CALL`).
    ``call(processor, signal, request, context, body)`` runs one (a bench times each); by default, its ``process``."""
    unchanged, changed, model_calls = body, False, False
    for processor in processors:
        if isinstance(processor, GenAIContent) and processor.leaves_marks(signal, unchanged):
            model_calls = True
            continue
        if call(processor, signal, request, context, unchanged):
            changed, unchanged = True, None
    return changed, model_calls


@dataclass(frozen=True)
class Outcome:
    """What to tell the client: how many items were refused, and why."""

    rejected: int = 0
    message: str = ""


def count_items(signal: str, request: Any) -> int:
    """Spans, log records or data points in a request."""
    if signal == "traces":
        return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
    if signal == "logs":
        return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)
    total = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    total += len(getattr(metric, kind).data_points)
    return total


def standard_processors(config: Any) -> list[Processor]:
    """The collector's processors, in order: redaction last (on the final text). The tenant is stamped by the
    engine, from the tenant and team spooled beside the request. Aliases are not among them: the raw tables keep
    attributes as sent, and the derived views resolve them (:mod:`aitrail.collector.store.aliases`)."""
    return [Mapping.from_config(config), GenAIContent.from_config(config), Redact()]


def prepare(signal: str, request: Any, context: IngestContext, config: Any) -> Flattened:
    """What the collector configured by ``config`` makes of one request, in this process and without a batcher:
    imports write to a store no collector runs on through this (``aitrail.collector.imports``)."""
    return Pipeline(standard_processors(config), None, SelfMetrics(), config.item_limits).prepare(signal, request, context)  # type: ignore[arg-type]


class Pipeline:
    """Limits, processors in order, then what the signal spools, then the batcher."""

    def __init__(self, processors: Sequence[Processor], batcher: Batcher, metrics: SelfMetrics,
                 limits: ItemLimits | None = None) -> None:
        self.processors = list(processors)
        self.limits = limits or ItemLimits()
        self.batcher = batcher
        self.metrics = metrics
        self._preparing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aitrail-prepare")
        """Where requests are prepared, one at a time, in order: preparing is Python and C under the GIL, which runs
        one preparation at a time whatever the threads, and several threads only hand it to each other (measured in
        turns on a live collector: 3–6% of its CPU, docs/ingest-engine.md). A request waits for those before it, a
        large one included, as it waits for the event loop's decoding of them."""

    def prepare(self, signal: str, request: Any, context: IngestContext, body: bytes | bytearray | None = None
                ) -> Flattened:
        """Limits, processors and the flattener on one request (``body``: the protobuf bytes it was parsed from,
        None if it came another way): its rows, ready for the store."""
        self.metrics.count(self.metrics.requests, signal)
        self.metrics.count(self.metrics.received, signal, count_items(signal, request))
        refused, reasons, depth, as_sent = enforce(signal, request, self.limits, body)  # items over a limit leave here
        if refused:
            self.metrics.count(self.metrics.rejected, "over_limit", refused)
        changed, model_calls = run_processors(self.processors, signal, request, context, body)
        as_sent = as_sent and not changed
        flattened = SPOOL[signal](request, context.tenant, context.team, depth, body if as_sent else None, model_calls)
        if refused:
            flattened = Flattened(flattened.tables, flattened.rejected + refused, reasons + flattened.errors)
        return flattened

    async def consume(self, signal: str, request: Any, context: IngestContext, body: bytes | bytearray | None = None
                      ) -> Outcome:
        """Accept a decoded request (and the protobuf bytes it was parsed from, if any); return once its rows are
        durable — fsync'd in the spool — (or raise why not)."""
        # CPU-bound work off the event loop, so receivers keep accepting meanwhile.
        flattened = await asyncio.get_running_loop().run_in_executor(
            self._preparing, self.prepare, signal, request, context, body)
        if flattened.rejected:
            self.metrics.count(self.metrics.rejected, "invalid_item", flattened.rejected)
        await self.batcher.submit(flattened.tables)
        return Outcome(flattened.rejected, "; ".join(flattened.errors))

    def close(self) -> None:
        """End the preparing thread once what it was given is prepared (the receivers are stopped first)."""
        self._preparing.shutdown(wait=True)
