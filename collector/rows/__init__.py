"""Rows: decoded OTLP requests flattened into Arrow tables shaped exactly like the ClickHouse tables.

``metrics.metrics_to_tables`` returns a :class:`Flattened`: tables by name,
plus how many items were refused and why. Traces and logs are not flattened in
Python: the engine makes their rows from the spooled requests
(:mod:`aitrail.collector.engine.traces`, :mod:`aitrail.collector.engine.logs`,
whose ``to_spool`` returns a :class:`Flattened` of requests).
"""

from aitrail.collector.rows.common import Flattened

__all__ = ["Flattened"]
