"""Rows: decoded OTLP requests flattened into Arrow tables shaped exactly like the ClickHouse tables.

``traces.spans_to_table``, ``logs.logs_to_table`` and ``metrics.metrics_to_tables``
each return a :class:`Flattened`: tables by name, plus how many items were
refused and why.
"""

from aitrail.collector.rows.common import Flattened

__all__ = ["Flattened"]
