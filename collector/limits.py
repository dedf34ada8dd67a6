"""Limits on what one request may carry, so no single client can exhaust the collector.

The body size (before and after decompression) is bounded by the decoder.
Here: items per request (over it, the whole request is refused with 413 —
send smaller batches), and per item the number of attributes, the length of
a string or bytes value, and how deeply arrays and key-value lists nest. An
item over a per-item limit is refused alone (OTLP ``partial_success``, with
a message naming the limit); everything else in the request is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from aitrail.errors import InvalidPayload, PayloadTooLarge


VALUE_DEPTH = 5
"""The deepest nesting of an attribute value that is stored whole: the engine reads ``AnyValue`` unrolled this many
levels (``collector/engine/schema.py``), so a container deeper down would be stored as ``''``. Values nesting
deeper are refused as over the limit (``partial_success`` says so) rather than stored emptied."""


@dataclass(frozen=True)
class ItemLimits:
    max_items: int = 100_000
    max_attributes: int = 512
    max_value_bytes: int = 4 * 1024 * 1024
    max_depth: int = VALUE_DEPTH


class Enforced(NamedTuple):
    """What :func:`enforce` did to a request: items refused, up to five reasons, and how many levels its values
    nest (a scalar attribute 1, an array of scalars 2: the columns the engine must read them with)."""

    refused: int
    reasons: list[str]
    depth: int


class _Depth:
    """The deepest level of AnyValue columns a walk met (the walk reads every value once, for the limits)."""

    def __init__(self) -> None:
        self.levels = 1


def _too_deep_or_long(value: Any, limits: ItemLimits, depth: int = 1, seen: _Depth | None = None) -> str | None:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        if len(value.string_value) > limits.max_value_bytes:
            return f"a string value of {len(value.string_value)} characters is over the {limits.max_value_bytes} limit"
    elif kind == "bytes_value":
        if len(value.bytes_value) > limits.max_value_bytes:
            return f"a bytes value of {len(value.bytes_value)} bytes is over the {limits.max_value_bytes} limit"
    elif kind in ("array_value", "kvlist_value"):
        if depth >= limits.max_depth:
            return f"values nest deeper than {limits.max_depth} levels"
        if seen is not None and depth + 1 > seen.levels:  # its items are read at the next level, even when none
            seen.levels = depth + 1
        children = value.array_value.values if kind == "array_value" else (kv.value for kv in value.kvlist_value.values)
        for child in children:
            problem = _too_deep_or_long(child, limits, depth + 1, seen)
            if problem:
                return problem
    return None


def _problem(attributes: Any, limits: ItemLimits, seen: _Depth | None = None) -> str | None:
    if len(attributes) > limits.max_attributes:
        return f"{len(attributes)} attributes are over the {limits.max_attributes} limit"
    for kv in attributes:
        problem = _too_deep_or_long(kv.value, limits, 1, seen)
        if problem:
            return f"attribute {kv.key[:64]!r}: {problem}"
    return None


def _item_lists(signal: str, request: Any) -> Iterator[tuple[Any, str]]:
    """Every repeated field of items in a request, with the items' attribute field name."""
    if signal == "traces":
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                yield ss.spans, "span"
    elif signal == "logs":
        for rl in request.resource_logs:
            for sl in rl.scope_logs:
                yield sl.log_records, "log record"
    else:
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                yield sm.metrics, "metric"


def _item_problem(signal: str, item: Any, limits: ItemLimits, seen: _Depth) -> str | None:
    problem = _problem(item.attributes, limits, seen) if signal != "metrics" else None
    if problem is None and signal == "logs":
        problem = _too_deep_or_long(item.body, limits, 1, seen) if item.HasField("body") else None
    if problem is None and signal == "traces":
        for part in (*item.events, *item.links):  # the engine reads both as deep as the span's own attributes
            problem = problem or _problem(part.attributes, limits, seen)
    if problem is None and signal == "metrics":
        kind = item.WhichOneof("data")
        for point in getattr(item, kind).data_points if kind else ():
            problem = problem or _problem(point.attributes, limits)
    return problem


def enforce(signal: str, request: Any, limits: ItemLimits) -> Enforced:
    """Drop the items over the limits from ``request``; return how many and why, and how deep its values nest.
    Raises when the request is too big."""
    total = 0
    refused, reasons = 0, list[str]()
    seen = _Depth()
    for items, noun in _item_lists(signal, request):
        total += len(items)
        if total > limits.max_items:
            raise PayloadTooLarge(f"the request holds more than {limits.max_items} items; send smaller batches")
        bad = [(i, p) for i, item in enumerate(items) if (p := _item_problem(signal, item, limits, seen))]
        for index, problem in reversed(bad):
            del items[index]
            refused += 1
            if len(reasons) < 5:
                reasons.append(f"{noun} refused: {problem}")
    for resource_problem in _resource_problems(signal, request, limits, seen):
        raise InvalidPayload(resource_problem)
    return Enforced(refused, reasons, seen.levels)


def _resource_problems(signal: str, request: Any, limits: ItemLimits, seen: _Depth) -> Iterator[str]:
    field = {"traces": "resource_spans", "logs": "resource_logs", "metrics": "resource_metrics"}[signal]
    for group in getattr(request, field):
        problem = _problem(group.resource.attributes, limits, seen)
        if problem:
            yield f"resource {problem}"
        for scope_logs in group.scope_logs if signal == "logs" else ():  # otel_logs holds the scope's attributes
            problem = _problem(scope_logs.scope.attributes, limits, seen)
            if problem:
                yield f"scope {problem}"
