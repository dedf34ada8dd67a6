"""The item limits' cheap checks give the exact walk's answer, on the fuzzing corpus and at every edge of every limit.

``enforce`` with the request's body clears most requests without reading a
value in Python (counts, the body's size, the parser's view of the nesting)
and walks the rest; ``walk`` always reads every value. On the same request
both must refuse the same items for the same reasons (or refuse the whole
request the same way), leave the same request, and send it to the same
statement of the engine; and when ``enforce`` says the body may be spooled as
it came, it must be what serializing the request writes.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from google.protobuf.message import Message
from otlp_corpus import PLACES, nested, request_with, valid_traces
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from aitrail.collector import limits as item_limits
from aitrail.collector.engine import logs, traces
from aitrail.collector.limits import ItemLimits, enforce, walk
from aitrail.errors import AitrailError

LIMITS = [ItemLimits(), ItemLimits(max_items=3, max_attributes=4, max_value_bytes=100, max_depth=3),
          ItemLimits(max_attributes=6, max_value_bytes=4000, max_depth=2), ItemLimits(max_depth=1)]
"""The defaults, small limits (most bodies longer than a value may be), and the shallowest depths."""


STATEMENTS = {"traces": traces.STATEMENT, "logs": logs.STATEMENT}
"""The signals the engine stores: the depth says which of their statements a request takes."""


def _outcome(check: Any) -> Any:
    try:
        return check()
    except AitrailError as exc:
        return type(exc).__name__, str(exc)


def agree(signal: str, request: Message, limits: ItemLimits) -> Any:
    """Both answers on copies of ``request``, required equal; the cheap one's."""
    body = request.SerializeToString()
    cheap, exact = type(request).FromString(body), type(request).FromString(body)
    got = _outcome(lambda: enforce(signal, cheap, limits, body))
    want = _outcome(lambda: walk(signal, exact, limits))
    assert cheap == exact
    if isinstance(want, tuple) and not hasattr(want, "refused"):
        assert got == want
        return got
    assert (got.refused, got.reasons) == (want.refused, want.reasons)
    if signal in STATEMENTS:
        assert STATEMENTS[signal].entry(got.depth) == STATEMENTS[signal].entry(want.depth)
    if got.as_sent:
        assert exact.SerializeToString() == body
    return got


@pytest.mark.parametrize("limits", LIMITS)
def test_the_fuzzing_corpus_gets_the_walks_answer(limits: ItemLimits) -> None:
    rng = random.Random(21)
    answers = [agree("traces", valid_traces(rng, f"c{index}"), limits) for index in range(300)]
    cleared = sum(1 for answer in answers if getattr(answer, "as_sent", False) and not answer.refused)
    assert cleared, "no request of the corpus was cleared without the walk"


def _attributes(count: int) -> dict[str, AnyValue]:
    return {f"a{i}": AnyValue(int_value=i) for i in range(count)}


def _string(length: int, raw: bool = False) -> dict[str, AnyValue]:
    return {"s": AnyValue(bytes_value=b"b" * length) if raw else AnyValue(string_value="é" * (length // 2) + "x" * (length % 2))}


def _inside(values: dict[str, AnyValue]) -> AnyValue:
    """``values`` as a key-value list, inside an array."""
    inner = AnyValue()
    for key, value in values.items():
        inner.kvlist_value.values.add(key=key).value.CopyFrom(value)
    return AnyValue(array_value={"values": [inner]})


EDGES = {
    "attributes": lambda limits, more: _attributes(limits.max_attributes - 1 + more),  # (the request adds "n")
    "characters": lambda limits, more: _string(limits.max_value_bytes + more),
    "bytes": lambda limits, more: _string(limits.max_value_bytes + more, raw=True),
    "bytes in a list in an array": lambda limits, more: {"l": _inside(_string(limits.max_value_bytes + more, raw=True))},
    "depth": lambda limits, more: {"d": nested(limits.max_depth + more)},
    "empty list at the depth": lambda limits, more: {"d": nested(limits.max_depth + more, empty=True)}
    if limits.max_depth + more > 1 else {"d": AnyValue()},
}
"""Values exactly at a limit (``more`` 0) and one past it (``more`` 1)."""

EDGE_LIMITS = [ItemLimits(max_attributes=5, max_value_bytes=64, max_depth=3),
               ItemLimits(max_attributes=5, max_value_bytes=4000, max_depth=2), ItemLimits()]


@pytest.mark.parametrize("limits", EDGE_LIMITS)
@pytest.mark.parametrize("edge", sorted(EDGES))
@pytest.mark.parametrize("signal,place", [(s, p) for s, places in PLACES.items() for p in places])
def test_values_at_each_limit_and_one_past_it_get_the_walks_answer(signal: str, place: str, edge: str,
                                                                 limits: ItemLimits) -> None:
    if edge == "attributes" and place == "body":
        return  # a body is one value
    for more in (0, 1):
        values = EDGES[edge](limits, more)
        if edge == "attributes" and place in ("event", "link", "resource", "scope", "exemplar", "metadata"):
            values = _attributes(limits.max_attributes + more)  # (no "n" there)
        if limits == ItemLimits() and edge in ("characters", "bytes"):
            continue  # (four MiB values: the small limits say the same)
        agree(signal, request_with(signal, place, values), limits)


def test_items_at_the_limit_and_one_past_it() -> None:
    limits = ItemLimits(max_items=4)
    for signal in PLACES:
        assert not agree(signal, request_with(signal, "resource", {}, items=4), limits).refused
        assert agree(signal, request_with(signal, "resource", {}, items=5), limits)[0] == "PayloadTooLarge"


def test_requests_within_the_limits_are_cleared_without_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[str] = []
    real = item_limits.walk
    monkeypatch.setattr(item_limits, "walk", lambda signal, *rest: walked.append(signal) or real(signal, *rest))
    for signal, places in PLACES.items():
        for place in places:
            request = request_with(signal, place, {"list": nested(2), "text": AnyValue(string_value="x" * 100)})
            body = request.SerializeToString()
            answer = enforce(signal, type(request).FromString(body), ItemLimits(), body)
            assert answer.as_sent and not answer.refused and answer.depth == 2
    assert walked == []
    many = request_with("traces", "span", {"text": AnyValue(string_value="x" * 900)}, items=20)  # 20 x 900 bytes
    for span in many.resource_spans[0].scope_spans[0].spans:
        span.attributes.add(key="text").value.string_value = "y" * 900
    body = many.SerializeToString()
    assert len(body) > 1000
    answer = enforce("traces", type(many).FromString(body), ItemLimits(max_value_bytes=1000), body)
    assert answer.as_sent and not answer.refused and walked == []  # a body longer than a value may be: its headers
    request = request_with("traces", "span", {"deep": nested(3)})
    body = request.SerializeToString()
    answer = enforce("traces", type(request).FromString(body), ItemLimits(), body)
    assert (answer.as_sent, traces.STATEMENT.entry(answer.depth), walked) == (True, traces.ENTRIES[True], [])
    answer = enforce("traces", type(request).FromString(body), ItemLimits(max_depth=2), body)
    assert (answer.refused, answer.as_sent, walked) == (1, False, ["traces"])  # a refusal names its item: the walk
