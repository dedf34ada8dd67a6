"""The collector's log says each condition once, then how often it repeated."""

from __future__ import annotations

import logging

from aitrail.collector.repeats import RepeatSummary


def test_a_repeated_condition_is_one_line_then_a_count():
    now = [0.0]
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger = logging.getLogger("aitrail.test.repeats")
    logger.propagate = False
    handler = Collect()
    handler.addFilter(RepeatSummary(window=60, clock=lambda: now[0]))
    logger.addHandler(handler)
    try:
        for n in range(1000):
            now[0] = n * 0.01  # 1,000 failures in 10 s
            logger.error("cannot write %d records to the spool %s: %s", n, "/d", "No space left on device")
        logger.warning("the store takes inserts again")  # another condition: its own line
        now[0] = 75.0
        logger.error("cannot write %d records to the spool %s: %s", 1, "/d", "No space left on device")
    finally:
        logger.removeHandler(handler)
    assert lines == [
        "cannot write 0 records to the spool /d: No space left on device",
        "the store takes inserts again",
        "cannot write 1 records to the spool /d: No space left on device (and 999 more like it in the 75 s before)",
    ]
