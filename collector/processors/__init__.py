"""Processors: each takes a decoded OTLP request and makes it safer or more uniform, in place.

The pipeline runs them in order on the protobuf request, before it is spooled;
the engine stamps the tenant (and a team the token fixes) when it makes the
rows, so no payload claim survives them. A new emitter dialect is a new
processor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class IngestContext:
    """Who sent a request, as established by the receiver (never by the payload)."""

    tenant: str = "default"
    team: str | None = None


class Processor(Protocol):
    def process(self, signal: str, request: Any, context: IngestContext) -> bool:
        """Change ``request`` in place; say whether anything changed (else the request's bytes as they came are
        spooled, not serialized again)."""


def resources(signal: str, request: Any) -> Iterator[Any]:
    """Every Resource message in a request of any signal."""
    groups = {"traces": "resource_spans", "logs": "resource_logs", "metrics": "resource_metrics"}[signal]
    for group in getattr(request, groups):
        yield group.resource


def item_attributes(signal: str, request: Any) -> Iterator[Any]:
    """The attribute lists of every span, log record or metric data point in a request."""
    if signal == "traces":
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    yield span.attributes
    elif signal == "logs":
        for rl in request.resource_logs:
            for sl in rl.scope_logs:
                for record in sl.log_records:
                    yield record.attributes
    else:
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    if kind is None:
                        continue
                    for point in getattr(metric, kind).data_points:
                        yield point.attributes
