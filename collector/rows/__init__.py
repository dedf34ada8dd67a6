"""Rows: what the collector makes of a request, and how it renders attribute values as the exporter does.

No signal is flattened in Python any more: the engine makes the rows of traces,
logs and metrics from the spooled requests (:mod:`aitrail.collector.engine`),
and each signal's ``to_spool`` returns a :class:`Flattened` of requests.
"""

from aitrail.collector.rows.common import Flattened

__all__ = ["Flattened"]
