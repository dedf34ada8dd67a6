"""SDK: what tracking one generation costs the caller's thread, beside a bare OpenTelemetry span.

Both sides use a BatchSpanProcessor with an exporter that discards, so the network is out of the picture; the
figure is the CPU time the caller's thread spends per operation (median of several rounds, the two sides taking
turns round by round so a change in the machine's load hits both alike). The target is at most 2x the bare span.

The headline measures one operation at a time, each followed by its background work, as generations arrive in
use (seconds apart, the caller waiting on the model meanwhile): the bare span's batch is exported, the
generation is finished and scanned, the caller waits for that on another thread, and each operation starts
:data:`PAUSE` after the one before on both sides — so both start from a thread that was off the processor
equally long. (Waiting unequally measured the wait, not the work: exporting the bare side's batch on the
caller's own thread, which never leaves the processor, set a hot bare span against a cold tracked call; and a
tracked call after the 3 ms of a scan costs as much as one after a 3 ms sleep with the scan off.) Back to back
is the sustained case. The finisher thread's own work (redaction, hashing, diffing, fingerprints) is off the
caller's thread and reported apart, and so is the generation-time scan (Bandit on the written code,
``aitrail.sdk.accountability.scan``), whose processor time per generation, on its own thread, is reported on its
own; the caller's side is measured with the scan on, and once more with it off.
"""

from __future__ import annotations

import statistics
import threading
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
    """Caller CPU per operation when each is followed by its background work (``settle`` waits for it)."""
    spent = 0.0
    for _ in range(ops):
        started = time.thread_time()
        fn()
        spent += time.thread_time() - started
        settle()
    return spent / ops


def _on_another_thread(work: Callable[[], object]) -> Callable[[], None]:
    """``work`` run on a thread of its own while the caller waits, as the SDK's finisher and scanner run."""

    def settle() -> None:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    return settle


PAUSE = 0.02
"""Seconds from the start of one operation to the next in the one-at-a-time measure, on both sides alike."""


def _paced(settle: Callable[[], None]) -> Callable[[], None]:
    """``settle``, then a sleep to :data:`PAUSE` after it began: the caller's thread is off the processor equally
    long on both sides (a thread that slept longer comes back to colder caches, on a busy machine above all)."""

    def paced() -> None:
        started = time.perf_counter()
        settle()
        time.sleep(max(PAUSE - (time.perf_counter() - started), 0.0))

    return paced


def _turns(sides: dict[str, tuple[Callable[[], None], Callable[[], None]]], rounds: int, ops: int,
           measure: Callable[[Callable[[], None], int, Callable[[], None]], float]) -> dict[str, list[float]]:
    """Each side's per-operation cost round by round, the sides taking turns within each round."""
    out: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, (fn, settle) in sides.items():
            out[name].append(measure(fn, ops, settle))
    return out


def run(quick: bool = False, echo: bool = True) -> dict[str, Any]:
    import aitrail
    from aitrail.sdk.accountability.scan import scanner
    from aitrail.sdk.track import finisher

    ops, rounds = (50, 2) if quick else (1400, 7)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard(), max_queue_size=100_000))
    tracer = provider.get_tracer("bench")

    def bare() -> None:
        span = tracer.start_span("generation", attributes={"aitrail.kind": "generation"})
        span.end()

    def tracked() -> None:
        with aitrail.track(assistant="bench", prompt="add retries to the client", model="m") as gen:
            gen.record_edit("src/client.py", CODE)
            gen.usage(1200, 300, 0.01)

    def finish_tracked() -> None:
        finisher().flush(60)
        scanner().wait(60)

    flush_bare = _on_another_thread(provider.force_flush)
    share, paced_share = max(ops // rounds, 1), max(ops // rounds // 4, 1)
    one_at_a_time = {"bare": (bare, _paced(flush_bare)), "track": (tracked, _paced(finish_tracked))}
    aitrail.configure(exporter=Discard(), journal=False, scan=False)
    unscanned = _turns(one_at_a_time, rounds, paced_share, _one_at_a_time)
    aitrail.configure(exporter=Discard(), journal=False, scan=True)
    one = _turns(one_at_a_time, rounds, paced_share, _one_at_a_time)
    loaded = _turns({"bare": (bare, flush_bare), "track": (tracked, finish_tracked)}, rounds, share,
                    lambda fn, n, settle: _per_op(fn, n, 1, settle))
    baseline, caller = statistics.median(one["bare"]), statistics.median(one["track"])
    baseline_loaded, caller_loaded = statistics.median(loaded["bare"]), statistics.median(loaded["track"])
    ratio_unscanned = statistics.median(unscanned["track"]) / statistics.median(unscanned["bare"])
    ratios = sorted(t / b for t, b in zip(one["track"], one["bare"]))
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
        finish_tracked()
    scan_each = (scans.seconds - before_seconds) / max(scans.scanned - before_count, 1)
    aitrail.shutdown()
    provider.shutdown()
    result = {
        "bare_span_us": round(baseline * 1e6, 2),
        "track_caller_us": round(caller * 1e6, 2),
        "ratio": round(caller / baseline, 2),
        "ratio_by_round": [round(r, 2) for r in ratios],
        "ratio_scan_off": round(ratio_unscanned, 2),
        "bare_span_us_sustained_load": round(baseline_loaded * 1e6, 2),
        "track_caller_us_sustained_load": round(caller_loaded * 1e6, 2),
        "ratio_sustained_load": round(caller_loaded / baseline_loaded, 2),
        "track_total_us_incl_finisher": round(total * 1e6, 2),
        "scan_cpu_ms_per_generation_off_thread": round(scan_each * 1e3, 3),
        "scan_notes": sorted(scans.notes),
        "target_ratio": 2.0,
    }
    if echo:
        print(
            f"sdk: tracking one generation costs the caller {result['track_caller_us']} µs "
            f"vs {result['bare_span_us']} µs for a bare span (ratio {result['ratio']}, target ≤ 2; by round "
            f"{min(ratios):.2f} to {max(ratios):.2f}; {result['ratio_scan_off']} with the scan off); "
            f"back to back: {result['track_caller_us_sustained_load']} µs vs {result['bare_span_us_sustained_load']} µs "
            f"(ratio {result['ratio_sustained_load']}); "
            f"{result['track_total_us_incl_finisher']} µs per generation including the finisher thread; "
            f"the generation-time scan: {result['scan_cpu_ms_per_generation_off_thread']} ms of CPU per generation "
            f"on its own thread" + (f" ({'; '.join(result['scan_notes'])})" if result["scan_notes"] else "")
        )
    return result
