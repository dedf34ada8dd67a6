"""Limits on what one request may carry, so no single client can exhaust the collector.

The body size (before and after decompression) is bounded by the decoder.
Here: items per request (over it, the whole request is refused with 413 —
send smaller batches), and per item the number of attributes, the length of
a string or bytes value, and how deeply arrays and key-value lists nest. An
item over a per-item limit is refused alone (OTLP ``partial_success``, with
a message naming the limit); everything else in the request is stored.

Nearly every request is within the limits, and proving it reads no value in
Python: the items and the attributes are counted with ``len()`` of repeated
fields (a loop over items, not over attributes); no string or bytes value can
be longer than what holds it (only fields longer than the limit are read into,
on the wire); and how deep values nest, the
protobuf parser says, in C (:mod:`~aitrail.collector.engine.nesting`). Only a
request these cannot clear is walked value by value, which names the items
it refuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple

from aitrail.collector.engine.nesting import DEEPER, WITHIN, nesting
from aitrail.collector.engine.schema import RECURSIVE, REQUESTS, SHALLOW_DEPTH, VALUE_DEPTH
from aitrail.collector.processors import GROUPS, ITEMS, resources
from aitrail.errors import InvalidPayload, PayloadTooLarge


@dataclass(frozen=True)
class ItemLimits:
    max_items: int = 100_000
    max_attributes: int = 512
    max_value_bytes: int = 4 * 1024 * 1024
    max_depth: int = VALUE_DEPTH


class Enforced(NamedTuple):
    """What :func:`enforce` did to a request: items refused, up to five reasons, and how many levels its values
    nest at most (a scalar attribute 1, an array of scalars 2: the columns the engine must read them with)."""

    refused: int
    reasons: list[str]
    depth: int
    as_sent: bool = False
    """The request is still the body it was parsed from, in the canonical encoding: it may be spooled as it came."""


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


_NOUNS = {"traces": "span", "logs": "log record", "metrics": "metric"}
"""What an item of each signal is called in a refusal."""


def _item_lists(signal: str, request: Any) -> Iterator[tuple[Any, str]]:
    """Every repeated field of items in a request, with what an item is called."""
    (groups, scopes), items = GROUPS[signal], ITEMS[signal]
    for group in getattr(request, groups):
        for scope in getattr(group, scopes):
            yield getattr(scope, items), _NOUNS[signal]


def _item_problem(signal: str, item: Any, limits: ItemLimits, seen: _Depth) -> str | None:
    problem = _problem(item.attributes, limits, seen) if signal != "metrics" else None
    if problem is None and signal == "logs":
        problem = _too_deep_or_long(item.body, limits, 1, seen) if item.HasField("body") else None
    if problem is None and signal == "traces":
        for part in (*item.events, *item.links):  # the engine reads both as deep as the span's own attributes
            problem = problem or _problem(part.attributes, limits, seen)
    if problem is None and signal == "metrics":
        kind = item.WhichOneof("data")
        for point in getattr(item, kind).data_points if kind else ():  # and its exemplars', read as deep
            problem = problem or _problem(point.attributes, limits, seen)
            for exemplar in point.exemplars if kind != "summary" else ():
                problem = problem or _problem(exemplar.filtered_attributes, limits, seen)
    return problem


def enforce(signal: str, request: Any, limits: ItemLimits, body: bytes | bytearray | None = None) -> Enforced:
    """Drop the items over the limits from ``request``; return how many and why, and how deep its values nest.
    Raises when the request is too big.

    ``body``, the protobuf bytes ``request`` was parsed from (None when it came another way), lets the checks
    that read no value clear the request; a request they cannot clear is walked (:func:`walk`)."""
    if body is None:
        return walk(signal, request, limits)
    if _items(signal, request) > limits.max_items:
        raise PayloadTooLarge(f"the request holds more than {limits.max_items} items; send smaller batches")
    depth = _depth(signal, body, limits)
    if (depth is not None and _most_attributes(signal, request) <= limits.max_attributes
            and not _may_hold_longer(REQUESTS[signal], memoryview(body), limits.max_value_bytes)):
        return Enforced(0, [], depth, as_sent=True)
    walked = walk(signal, request, limits)
    return walked._replace(as_sent=depth is not None and not walked.refused)


UNLIMITED = {
    "traces": frozenset({"InstrumentationScope.attributes"}),
    "logs": frozenset[str](),
    "metrics": frozenset({"Metric.metadata"}),
}
"""The values no limit applies to (``Message.field``), by signal: the store's columns do not hold them."""


def _depth(signal: str, body: bytes | bytearray, limits: ItemLimits) -> int | None:
    """How many levels the body's values nest at most, when the parser can tell that none nests past
    ``max_depth`` (and the body is canonical); else None."""
    shallow = min(SHALLOW_DEPTH, limits.max_depth)
    unlimited = UNLIMITED[signal]
    found = nesting(signal, body, shallow, unlimited)  # one parse: the engine's statement and, nearly always, the limit
    if found is WITHIN:
        return shallow
    if found is DEEPER and limits.max_depth > shallow and nesting(signal, body, limits.max_depth, unlimited) is WITHIN:
        return limits.max_depth
    return None


def _may_hold_longer(descriptor: Any, data: memoryview, limit: int) -> bool:
    """Whether the message ``data`` (of ``descriptor``) may hold a string or bytes value longer than ``limit``
    bytes. A value cannot be longer than what holds it: only the fields longer than ``limit`` are read into
    (in a body of many spans, only the few lists of spans that are), so a body up to ``limit`` bytes is not read
    at all, and a larger one costs a few field headers per item."""
    if len(data) <= limit:
        return False
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        wire = key & 7
        if wire == 0:
            position = _varint(data, position)[1]
        elif wire in (1, 5):
            position += 8 if wire == 1 else 4
        elif wire != 2:
            return True  # (a group: not in OTLP; cannot tell)
        else:
            length, position = _varint(data, position)
            field = descriptor.fields_by_number.get(key >> 3) if length > limit else None
            if field is not None and field.message_type is not None:
                if _may_hold_longer(field.message_type, data[position:position + length], limit):
                    return True
            elif length > limit and (field is None or descriptor.full_name == RECURSIVE):
                return True  # a value that long, or an unknown field: the walk decides
            position += length
    return False


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    """The varint at ``position`` in ``data``, and the position after it."""
    value = shift = 0
    while True:
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        if byte < 0x80:
            return value, position
        shift += 7


def _items(signal: str, request: Any) -> int:
    """The items of a request (the limit's unit: spans, log records, metrics)."""
    return sum(len(items) for items, _ in _item_lists(signal, request))


_ATTRIBUTES, _EVENTS, _LINKS = attrgetter("attributes"), attrgetter("events"), attrgetter("links")
_FILTERED = attrgetter("filtered_attributes")


def _most(lists: Iterable[Any]) -> int:
    return max(map(len, lists), default=0)


def _most_attributes(signal: str, request: Any) -> int:
    """The most attributes any item, event, link, data point or resource of the request has (one loop over items
    in C, through ``map``; none over attributes)."""
    most = _most(resource.attributes for resource in resources(signal, request))
    if signal != "traces":  # (otel_logs and the metrics' tables hold the scope's attributes too)
        groups, scopes = GROUPS[signal]
        most = max(most, _most(scope.scope.attributes for group in getattr(request, groups)
                               for scope in getattr(group, scopes)))
    for items, _ in _item_lists(signal, request):
        if signal == "traces":
            spans = list(items)  # once: each pass over a repeated field makes its messages' Python objects again
            parts = chain(spans, *(chain.from_iterable(filter(None, map(part, spans))) for part in (_EVENTS, _LINKS)))
        elif signal == "logs":
            parts = items
        else:
            points = list(chain.from_iterable(getattr(metric, kind).data_points for metric in items
                                              if (kind := metric.WhichOneof("data"))))
            exemplars = chain.from_iterable(getattr(point, "exemplars", ()) for point in points)  # (not a summary's)
            most = max(most, _most(map(_FILTERED, exemplars)))
            parts = points
        most = max(most, _most(map(_ATTRIBUTES, parts)))
    return most


def walk(signal: str, request: Any, limits: ItemLimits) -> Enforced:
    """:func:`enforce` by reading every value: the exact answer, naming each refused item's problem."""
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
    groups, scopes = GROUPS[signal]
    for group in getattr(request, groups):
        problem = _problem(group.resource.attributes, limits, seen)
        if problem:
            yield f"resource {problem}"
        for scope_items in getattr(group, scopes) if signal != "traces" else ():  # their tables hold its attributes
            problem = _problem(scope_items.scope.attributes, limits, seen)
            if problem:
                yield f"scope {problem}"
