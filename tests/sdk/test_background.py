"""``aitrail.sdk.background.Worker``: work handed over is done in order on the worker's thread; a full queue drops
and counts instead of waiting; a failing item never stops the worker; ``wait`` returns once all is done."""

from __future__ import annotations

import threading

from aitrail.sdk.background import Worker


def test_items_are_handled_in_order_on_the_worker_thread_and_wait_returns_when_they_are():
    seen: list[tuple[int, str]] = []
    worker: Worker[int] = Worker("test-worker", lambda item: seen.append((item, threading.current_thread().name)), 100)
    for item in range(50):
        assert worker.submit(item)
    assert worker.wait(10)
    assert seen == [(item, "test-worker") for item in range(50)]
    assert worker.dropped == 0


def test_a_full_queue_drops_and_counts_without_waiting_and_a_failing_item_does_not_stop_the_worker():
    gate = threading.Event()
    handled: list[int] = []

    def handle(item: int) -> None:
        gate.wait(10)  # the worker holds the first item until the test has filled the queue
        if item == 1:
            raise ValueError("a broken item")
        handled.append(item)

    worker: Worker[int] = Worker("test-full", handle, max_queue=3)
    accepted = [worker.submit(item) for item in range(10)]
    # The worker may already have taken item 0 off the queue: then four are accepted, else three.
    taken = accepted.count(True)
    assert taken in (3, 4) and accepted[:taken] == [True] * taken and not any(accepted[taken:])
    assert worker.dropped == 10 - taken
    gate.set()
    assert worker.wait(10)
    assert handled == [item for item in range(taken) if item != 1]
    assert worker.submit(99) and worker.wait(10) and handled[-1] == 99

