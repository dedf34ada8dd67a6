"""One line per condition in the collector's log: repeats are counted, then summarised.

A full disk, a store that is down, a client that keeps sending bad data: each
is one condition that would otherwise print a line per request (a 40 MiB
disk filled under load printed thousands). :class:`RepeatSummary` lets the
first line of a kind through (a kind is the logger and the message template,
before its arguments), holds back the same kind for ``window`` seconds, and
adds to the next one it lets through how many it held back.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

WINDOW = 60.0
"""Seconds during which a condition already logged is counted, not printed again."""
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RepeatSummary(logging.Filter):
    """Passes the first record of each kind per ``window``; the next one passed says how many were held back."""

    def __init__(self, window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window, self.clock = window, clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = (record.name, str(record.msg)), self.clock()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last[0] < self.window:
                self._seen[key] = (last[0], last[1] + 1)
                return False
            self._seen[key] = (now, 0)
        if last is not None and last[1]:
            record.msg = f"{record.msg} (and {last[1]} more like it in the {now - last[0]:.0f} s before)"
        return True


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it), not the one it started with."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


def install(logger: str = "aitrail", level: int = logging.INFO, window: float = WINDOW) -> logging.Handler:
    """Give ``logger`` one handler on standard error that summarises repeats (for ``aitrail serve``); called
    again, the same handler."""
    target = logging.getLogger(logger)
    for existing in target.handlers:
        if isinstance(existing, _Stderr):
            return existing
    handler = _Stderr()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RepeatSummary(window))
    target.addHandler(handler)
    target.setLevel(level)
    target.propagate = False
    return handler
