"""SDK: what tracking one generation costs the caller's thread, beside a bare OpenTelemetry span.

Both sides use a BatchSpanProcessor with an exporter that discards, so the
network is out of the picture; the figure is the CPU time the caller's thread
spends per operation (median of several rounds). The target is at most 2x
the bare span. The finisher thread's own work (redaction, hashing, diffing,
fingerprints) is reported apart: it is off the caller's thread, and so is the
generation-time scan (Bandit on the written code, ``aitrail.sdk.accountability.scan``),
whose cost per generation is reported on its own: the caller's side is measured with
the scan on.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

CODE = ("def compute_all(items):\n" + "\n".join(f"    value_{i} = compute(item_{i}, rate={i})" for i in range(20))
        + "\n    return value_0\n")
"""Twenty-odd lines of valid Python, so the generation-time scan parses and scans them."""


class Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def _per_op(fn: Callable[[], None], ops: int, rounds: int, settle: Callable[[], None]) -> float:
    """CPU time of the calling thread per operation (``thread_time``: background threads are not counted,
    and neither is time spent waiting for the GIL they hold)."""
    samples = []
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(ops):
            fn()
        samples.append((time.thread_time() - started) / ops)
        settle()
    return statistics.median(samples)


def _one_at_a_time(fn: Callable[[], None], ops: int, settle: Callable[[], None]) -> float:
    """Caller CPU per operation when each is followed by its background work, as generations arrive in use
    (seconds apart): both sides then start every operation with caches the background thread disturbed."""
    spent = 0.0
    for _ in range(ops):
        started = time.thread_time()
        fn()
        spent += time.thread_time() - started
        settle()
    return spent / ops


def run(quick: bool = False, echo: bool = True) -> dict[str, Any]:
    import aitrail
    from aitrail.sdk.accountability.scan import scanner
    from aitrail.sdk.track import finisher

    ops, rounds = (50, 2) if quick else (3000, 7)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard(), max_queue_size=100_000))
    tracer = provider.get_tracer("bench")

    def bare() -> None:
        span = tracer.start_span("generation", attributes={"aitrail.kind": "generation"})
        span.end()

    aitrail.configure(exporter=Discard(), journal=False)

    def tracked() -> None:
        with aitrail.track(assistant="bench", prompt="add retries to the client", model="m") as gen:
            gen.record_edit("src/client.py", CODE)
            gen.usage(1200, 300, 0.01)

    def flush_bare() -> None:
        provider.force_flush()

    def flush_tracked() -> None:
        finisher().flush(60)
        scanner().wait(60)

    # The two sides take turns, round by round, so a change in the machine's load hits both alike.
    share = max(ops // rounds, 1)
    sides: dict[str, list[float]] = {"bare": [], "track": [], "bare_loaded": [], "track_loaded": []}
    for _ in range(rounds):
        sides["bare"].append(_one_at_a_time(bare, share, flush_bare))
        sides["track"].append(_one_at_a_time(tracked, share, flush_tracked))
        sides["bare_loaded"].append(_per_op(bare, share, 1, flush_bare))
        sides["track_loaded"].append(_per_op(tracked, share, 1, flush_tracked))
    baseline, caller = statistics.median(sides["bare"]), statistics.median(sides["track"])
    baseline_loaded, caller_loaded = statistics.median(sides["bare_loaded"]), statistics.median(sides["track_loaded"])
    ratios = sorted(t / b for t, b in zip(sides["track"], sides["bare"]))
    started = time.perf_counter()
    for _ in range(ops):
        tracked()
    finisher().flush(60)
    total = (time.perf_counter() - started) / ops
    scans = scanner()
    scans.wait(120)
    before_seconds, before_count = scans.seconds, scans.scanned
    for _ in range(min(ops, 200)):
        tracked()
        finisher().flush(60)
        scans.wait(60)
    scan_each = (scans.seconds - before_seconds) / max(scans.scanned - before_count, 1)
    aitrail.shutdown()
    provider.shutdown()
    result = {
        "bare_span_us": round(baseline * 1e6, 2),
        "track_caller_us": round(caller * 1e6, 2),
        "ratio": round(caller / baseline, 2),
        "ratio_by_round": [round(r, 2) for r in ratios],
        "bare_span_us_sustained_load": round(baseline_loaded * 1e6, 2),
        "track_caller_us_sustained_load": round(caller_loaded * 1e6, 2),
        "ratio_sustained_load": round(caller_loaded / baseline_loaded, 2),
        "track_total_us_incl_finisher": round(total * 1e6, 2),
        "scan_ms_per_generation_off_thread": round(scan_each * 1e3, 3),
        "scan_notes": sorted(scans.notes),
        "target_ratio": 2.0,
    }
    if echo:
        print(
            f"sdk: tracking one generation costs the caller {result['track_caller_us']} µs "
            f"vs {result['bare_span_us']} µs for a bare span (ratio {result['ratio']}, target ≤ 2; by round "
            f"{min(ratios):.2f} to {max(ratios):.2f}); "
            f"back to back: {result['track_caller_us_sustained_load']} µs vs {result['bare_span_us_sustained_load']} µs "
            f"(ratio {result['ratio_sustained_load']}); "
            f"{result['track_total_us_incl_finisher']} µs per generation including the finisher thread; "
            f"the generation-time scan: {result['scan_ms_per_generation_off_thread']} ms per generation on its own "
            f"thread" + (f" ({'; '.join(result['scan_notes'])})" if result["scan_notes"] else "")
        )
    return result
