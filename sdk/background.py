"""Background workers: one daemon thread each, draining a bounded queue, so the host's thread only hands work over.

The SDK finishes generations (:mod:`aitrail.sdk.track`) and scans what they wrote
(:mod:`aitrail.sdk.accountability.scan`) this way. The hand-over is the only part on the caller's thread, once per
generation, so it is one ``put`` on ``queue.SimpleQueue`` (implemented in C: no Python-level lock or condition
variable, about a twentieth of ``queue.Queue.put_nowait``); the bound is read with ``qsize`` and work over it is
dropped and counted, never waited for. :meth:`Worker.wait` queues a marker behind what was handed over and waits
for the worker to reach it, so knowing when the work is done costs nothing until someone asks.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger("aitrail.sdk")
T = TypeVar("T")


class _Marker:
    """Queued by :meth:`Worker.wait`: set when the worker reaches it, so everything before it is done."""

    __slots__ = ("reached",)

    def __init__(self) -> None:
        self.reached = threading.Event()


class Worker(Generic[T]):
    """A daemon thread calling ``handle`` on each item handed over, in order; ``handle``'s exceptions are logged at
    debug level and the worker goes on.

    Its scheduling priority is the host's: a thread of lower priority would hold the interpreter lock while the
    system runs other processes, and the host's threads waiting for that lock with it."""

    def __init__(self, name: str, handle: Callable[[T], None], max_queue: int) -> None:
        self._queue: queue.SimpleQueue[T | _Marker] = queue.SimpleQueue()
        self._handle, self._max_queue = handle, max_queue
        self.dropped = 0
        """Items refused because the queue was full."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> bool:
        """Hand ``item`` over; False (and counted in :attr:`dropped`) when the queue is full."""
        if self._queue.qsize() >= self._max_queue:
            self.dropped += 1
            return False
        self._queue.put(item)
        return True

    def wait(self, timeout: float = 5.0) -> bool:
        """Wait until everything handed over so far is handled (at most ``timeout`` seconds); True when it is."""
        marker = _Marker()
        self._queue.put(marker)
        return marker.reached.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, _Marker):
                item.reached.set()
                continue
            try:
                self._handle(item)
            except Exception:  # noqa: BLE001 - a background failure never reaches the host
                log.debug("aitrail: %s failed on an item", self._thread.name, exc_info=True)

