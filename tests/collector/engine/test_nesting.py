"""The mirror schemas tell how deep a request's values nest, and whether its body is canonical, from the parser alone.

Each mirror is checked field by field against opentelemetry-proto's own
descriptors (the same numbers and wire types); then values nesting one level
more or less than the mirror's, in every place a request of each signal holds
values, and empty lists at the bottom, must be told apart; and bodies in an
encoding that is valid but not canonical (an unknown field, a field sent twice,
fields out of order, numbers not packed, an over-long varint) must not be
taken for canonical ones.
"""

from __future__ import annotations

import random

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from otlp_corpus import PLACES, nested, request_with, valid_traces

from aitrail.collector.engine import nesting
from aitrail.collector.engine.schema import REQUESTS, VALUE_DEPTH
from aitrail.collector.limits import UNLIMITED

WIRE = {FieldDescriptor.TYPE_STRING: 2, FieldDescriptor.TYPE_BYTES: 2, FieldDescriptor.TYPE_MESSAGE: 2,
        FieldDescriptor.TYPE_ENUM: 0, FieldDescriptor.TYPE_INT32: 0, FieldDescriptor.TYPE_INT64: 0,
        FieldDescriptor.TYPE_UINT32: 0, FieldDescriptor.TYPE_UINT64: 0, FieldDescriptor.TYPE_SINT32: 0,
        FieldDescriptor.TYPE_SINT64: 0, FieldDescriptor.TYPE_BOOL: 0, FieldDescriptor.TYPE_FIXED64: 1,
        FieldDescriptor.TYPE_SFIXED64: 1, FieldDescriptor.TYPE_DOUBLE: 1, FieldDescriptor.TYPE_FIXED32: 5,
        FieldDescriptor.TYPE_SFIXED32: 5, FieldDescriptor.TYPE_FLOAT: 5}
"""The wire type of each field type (protobuf's encoding guide), written out here, not taken from the code."""


def _same_wire(real: Descriptor, mirror: Descriptor, level: int, levels: int, seen: set[tuple[str, int]]) -> None:
    if (real.full_name, level) in seen:
        return
    seen.add((real.full_name, level))
    assert [(f.name, f.number, f.is_repeated) for f in real.fields] == [
        (f.name, f.number, f.is_repeated) for f in mirror.fields], real.full_name
    for ours, theirs in zip(real.fields, mirror.fields):
        assert WIRE[ours.type] == WIRE[theirs.type], f"{real.full_name}.{ours.name}"
        if ours.containing_oneof is not None and not ours.containing_oneof.name.startswith("_"):
            assert theirs.containing_oneof.name == ours.containing_oneof.name  # last of the members wins, as in proto3
        if ours.type != FieldDescriptor.TYPE_MESSAGE or theirs.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        inner = level + (ours.message_type.name == "AnyValue")
        if real.name == "AnyValue" and ours.name in ("array_value", "kvlist_value") and level >= levels:
            assert [f.is_required for f in theirs.message_type.fields] == [True]  # never sent
        else:
            _same_wire(ours.message_type, theirs.message_type, inner, levels, seen)


@pytest.mark.parametrize("signal", sorted(REQUESTS))
@pytest.mark.parametrize("levels", range(1, VALUE_DEPTH + 1))
def test_each_mirror_has_the_protocols_fields_on_the_wire(signal: str, levels: int) -> None:
    mirror = nesting.mirror(signal, levels).DESCRIPTOR
    _same_wire(REQUESTS[signal], mirror, 0, levels, set())
    opaque = nesting.mirror(signal, levels, UNLIMITED["metrics"]).DESCRIPTOR
    _same_wire(REQUESTS[signal], opaque, 0, levels, set())  # (still the same wire types)


@pytest.mark.parametrize("signal,place", [(s, p) for s, places in PLACES.items() for p in places])
def test_values_one_level_too_deep_are_told_apart_in_every_place(signal: str, place: str) -> None:
    for levels in range(1, VALUE_DEPTH + 1):
        for depth in range(1, VALUE_DEPTH + 2):
            for empty in (False, True) if depth > 1 else (False,):
                body = request_with(signal, place, {"v": nested(depth, empty)}).SerializeToString()
                expected = nesting.WITHIN if depth <= levels else nesting.DEEPER
                assert nesting.nesting(signal, body, levels) is expected, (levels, depth, empty)
                opaque = {"scope": "InstrumentationScope.attributes", "exemplar": "Exemplar.filtered_attributes",
                          "metadata": "Metric.metadata"}.get(place)
                if opaque:  # read as bytes: nothing nested there counts
                    assert nesting.nesting(signal, body, levels, frozenset({opaque})) is nesting.WITHIN


def test_canonical_bodies_are_within_and_the_corpus_is_told_right() -> None:
    rng = random.Random(7)
    for index in range(200):
        request = valid_traces(rng, f"n{index}")
        body = request.SerializeToString()
        deepest = max((_levels(kv.value) for rs in request.resource_spans for kv in rs.resource.attributes),
                      default=1)
        deepest = max([deepest, *(_levels(kv.value) for rs in request.resource_spans for ss in rs.scope_spans
                                  for span in ss.spans for kv in span.attributes)])
        for levels in range(1, VALUE_DEPTH + 1):
            expected = nesting.WITHIN if deepest <= levels else nesting.DEEPER
            assert nesting.nesting("traces", body, levels) is expected


def _levels(value) -> int:  # noqa: ANN001
    """How many levels a value nests, read here with its own walk."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return 1 + max((_levels(item) for item in value.array_value.values), default=1)
    if kind == "kvlist_value":
        return 1 + max((_levels(kv.value) for kv in value.kvlist_value.values), default=1)
    return 1


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    """One field as protobuf's encoding guide writes it (written out here, not taken from the code under test)."""
    return _varint(number << 3 | wire) + (_varint(len(payload)) + payload if wire == 2 else payload)


def test_bodies_not_in_the_canonical_encoding_are_not_taken_for_canonical() -> None:
    """Each of these bodies is a valid request to the protocol's own parser, and holds nothing nested; serializing
    what it parses writes other bytes."""
    from google.protobuf import message_factory

    parse = {signal: message_factory.GetMessageClass(descriptor).FromString for signal, descriptor in REQUESTS.items()}
    ids = _field(1, 2, b"\x01" * 16) + _field(2, 2, b"\x02" * 8)  # Span: trace_id = 1, span_id = 2, name = 5, kind = 6

    def traces(span: bytes) -> bytes:  # resource_spans = 1, scope_spans = 2, spans = 2
        return _field(1, 2, _field(2, 2, _field(2, 2, span)))

    canonical = traces(ids + _field(5, 2, b"name") + _field(6, 0, b"\x01"))
    assert parse["traces"](canonical).SerializeToString() == canonical  # (the encoding guide's, indeed)
    assert nesting.nesting("traces", canonical, 2) is nesting.WITHIN
    kept = traces(ids + _field(5, 2, b"name") + _field(6, 0, b"\x01") + _field(100, 0, b"\x05"))
    assert parse["traces"](kept).SerializeToString() == kept  # an unknown field last is written back where it was:
    assert nesting.nesting("traces", kept, 2) is nesting.WITHIN  # (the bytes are what serializing writes)
    variants = {
        "an unknown field before known ones": ids + _field(100, 0, b"\x05") + _field(5, 2, b"name") + _field(6, 0, b"\x01"),
        "a field sent twice": ids + _field(5, 2, b"first") + _field(5, 2, b"name") + _field(6, 0, b"\x01"),
        "fields out of order": _field(5, 2, b"name") + ids + _field(6, 0, b"\x01"),
        "an over-long varint": ids + _field(5, 2, b"name") + _field(6, 0, b"\x81\x00"),
    }
    for name, span in variants.items():
        body = traces(span)
        assert parse["traces"](body).SerializeToString() != body  # the protocol's parser takes it, and rewrites it
        assert nesting.nesting("traces", body, 2) is nesting.UNKNOWN, name

    def metrics(counts: bytes) -> bytes:  # resource_metrics = 1, scope_metrics = 2, metrics = 2, Metric.histogram = 9,
        return _field(1, 2, _field(2, 2, _field(2, 2, _field(9, 2, _field(1, 2, counts)))))  # data_points = 1

    assert (REQUESTS["metrics"].fields_by_name["resource_metrics"].message_type.fields_by_name["scope_metrics"]
            .message_type.fields_by_name["metrics"].message_type.fields_by_name["histogram"].number) == 9
    numbers = (1, 2, 3)  # HistogramDataPoint.bucket_counts = 6, fixed64: packed, then one field per number
    packed = metrics(_field(6, 2, b"".join(n.to_bytes(8, "little") for n in numbers)))
    unpacked = metrics(b"".join(_field(6, 1, n.to_bytes(8, "little")) for n in numbers))
    assert parse["metrics"](packed) == parse["metrics"](unpacked)
    assert parse["metrics"](packed).SerializeToString() == packed
    assert nesting.nesting("metrics", packed, 2) is nesting.WITHIN
    assert nesting.nesting("metrics", unpacked, 2) is nesting.UNKNOWN
