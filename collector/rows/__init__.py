"""Rows: decoded OTLP requests flattened into Arrow tables shaped exactly like the ClickHouse tables.

``logs.logs_to_table`` and ``metrics.metrics_to_tables`` each return a
:class:`Flattened`: tables by name, plus how many items were refused and why.
Traces are not flattened in Python: the engine makes their rows from the
spooled requests (:mod:`aitrail.collector.engine.traces`, whose
:func:`~aitrail.collector.engine.traces.to_spool` returns a :class:`Flattened`
of requests).
"""

from aitrail.collector.rows.common import Flattened

__all__ = ["Flattened"]
