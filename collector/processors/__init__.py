"""Processors: each takes a decoded OTLP request and makes it safer or more uniform, in place.

The pipeline runs them in order on the protobuf request, before it is spooled;
the engine stamps the tenant (and a team the token fixes) when it makes the
rows, so no payload claim survives them. A new emitter dialect is a new
processor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class IngestContext:
    """Who sent a request, as established by the receiver (never by the payload)."""

    tenant: str = "default"
    team: str | None = None


class Processor(Protocol):
    def process(self, signal: str, request: Any, context: IngestContext, body: bytes | bytearray | None = None
                ) -> bool:
        """Change ``request`` in place; say whether anything changed (else the request's bytes as they came are
        spooled, not serialized again). ``body``: the protobuf bytes ``request`` was parsed from while no processor
        has changed it (items over a limit may be gone from the request, never added), None otherwise: a name
        absent from them is absent from the request, which a processor may know without reading it."""


GROUPS = {
    "traces": ("resource_spans", "scope_spans"),
    "logs": ("resource_logs", "scope_logs"),
    "metrics": ("resource_metrics", "scope_metrics"),
}
"""A request's repeated fields of each signal: its resources' groups, and in each group its scopes' groups."""


ITEMS = {"traces": "spans", "logs": "log_records", "metrics": "metrics"}
"""Each signal's items (what the item limits count): the repeated field of them in a scope's group."""


def items_of(signal: str) -> Callable[[Any], Iterator[Any]]:
    """Every item of a request of ``signal`` (:data:`ITEMS`)."""
    (resources, scopes), items = GROUPS[signal], ITEMS[signal]

    def each(request: Any) -> Iterator[Any]:
        for resource in getattr(request, resources):
            for scope in getattr(resource, scopes):
                yield from getattr(scope, items)
    return each


def resources(signal: str, request: Any) -> Iterator[Any]:
    """Every Resource message in a request of any signal."""
    for group in getattr(request, GROUPS[signal][0]):
        yield group.resource
