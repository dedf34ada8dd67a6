"""A trace request nothing changed is spooled as its bytes came; one that anything changed, serialized again.

The spooled message is ``Spooled<Request>{tenant, team, request}``
(``schema.spooled``): its ``request`` must be the receiver's body itself when
no limit refused an item, no processor changed the request and the body is in
the canonical encoding — and the request as the processors left it otherwise
(a redacted secret, a generation's messages read, a refused span), so nothing they did is
lost. Beside it, whether the engine marks its model calls: GenAI content did not read it.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from otlp_corpus import nested, request_with
from secret_corpus import corpus

from aitrail.collector.config import CollectorConfig
from aitrail.collector.engine.schema import spooled
from aitrail.collector.limits import ItemLimits
from aitrail.collector.pipeline import Pipeline, standard_processors
from aitrail.collector.processors import IngestContext
from aitrail.collector.telemetry import SelfMetrics
from aitrail.sdk import vocabulary as v

CONTEXT = IngestContext(tenant="acme", team="payments")
MESSAGES = '[{"role": "user", "parts": [{"type": "text", "content": "write a loop"}]}]'


def _spooled(body: bytes | None, request: ExportTraceServiceRequest, limits: ItemLimits = ItemLimits()) -> tuple[
        bytes, ExportTraceServiceRequest]:
    """(the spooled data of ``request`` sent as ``body`` — None: as OTLP/JSON —, the request as the pipeline left
    it)."""
    parsed = ExportTraceServiceRequest.FromString(request.SerializeToString() if body is None else bytes(body))
    pipeline = Pipeline(standard_processors(CollectorConfig()), None, SelfMetrics(), limits)  # type: ignore[arg-type]
    (part,) = pipeline.prepare("traces", parsed, CONTEXT, body).tables.values()
    return part.data, parsed


def _request(**values: AnyValue) -> ExportTraceServiceRequest:
    return request_with("traces", "span", values)  # type: ignore[return-value]


def test_a_request_nothing_changed_is_spooled_as_its_bytes_came() -> None:
    request = _request(plain=AnyValue(string_value="nothing to see"), listed=nested(2))
    body = request.SerializeToString()
    data, _ = _spooled(body, request)
    assert data == spooled(body, CONTEXT.tenant, CONTEXT.team, model_calls=True)  # (it names no message: the
    # engine marks its model calls, GenAI content did not read it)
    assert _spooled(bytearray(body), request)[0] == data  # (a decompressed body is a bytearray)


def test_a_request_anything_changed_is_spooled_as_changed() -> None:
    secret = corpus()[0]
    changed = {
        "a secret redacted": _request(prompt=AnyValue(string_value=secret.line)),
        "a generation's messages read": _request(**{v.GEN_AI_OPERATION_NAME: AnyValue(string_value="chat"),
                                                    v.GEN_AI_INPUT_MESSAGES: AnyValue(string_value=MESSAGES)}),
        "a span over a limit refused": _request(deep=nested(3)),
    }
    for name, request in changed.items():
        body = request.SerializeToString()
        data, left = _spooled(body, request, ItemLimits(max_depth=2))
        assert left.SerializeToString() != body, name
        read = name == "a generation's messages read"  # GenAI content read it: the engine marks nothing
        assert data == spooled(left.SerializeToString(), CONTEXT.tenant, CONTEXT.team, model_calls=not read), name
    assert secret.line.encode() not in _spooled(changed["a secret redacted"].SerializeToString(),
                                                changed["a secret redacted"])[0]


def test_a_body_not_in_the_canonical_encoding_or_not_protobuf_is_serialized_again() -> None:
    request = _request(plain=AnyValue(string_value="x"))
    body = request.SerializeToString()
    unknown_first = b"\xa0\x06\x05" + body  # field 100, a varint, before the known fields (written last)
    assert ExportTraceServiceRequest.FromString(unknown_first).SerializeToString() == body + b"\xa0\x06\x05"
    for sent in (unknown_first, None):  # None: OTLP/JSON, parsed without protobuf bytes
        data, left = _spooled(sent, request)
        assert data == spooled(left.SerializeToString(), CONTEXT.tenant, CONTEXT.team, model_calls=sent is not None)
    assert _spooled(unknown_first, request)[0] != spooled(unknown_first, CONTEXT.tenant, CONTEXT.team, True)


def test_a_collector_prepares_requests_one_at_a_time_off_its_event_loop(collector) -> None:
    """Preparing a request is Python and C under the GIL, which runs one preparation at a time whatever the threads:
    a live collector prepares them on one thread of their own (several only hand the GIL to each other), never on
    the event loop that receives them. Four requests sent at once are all prepared there, and all acknowledged."""
    pipeline = collector.pipeline
    threads: list[int] = []
    prepare = pipeline.prepare

    def recorded(*args: object) -> object:
        with pytest.raises(RuntimeError):  # no event loop runs on this thread
            asyncio.get_running_loop()
        threads.append(threading.get_ident())
        time.sleep(0.05)  # (long enough for the four to be waiting at once)
        return prepare(*args)

    pipeline.prepare = recorded
    body = _request(plain=AnyValue(string_value="nothing to see")).SerializeToString()

    def send(_: int) -> int:
        post = urllib.request.Request(f"{collector.http_url}/v1/traces", body,
                                      {"Content-Type": "application/x-protobuf"})
        with urllib.request.urlopen(post, timeout=30) as response:
            return response.status

    with ThreadPoolExecutor(4) as clients:
        assert list(clients.map(send, range(4))) == [200] * 4
    assert len(threads) == 4 and len(set(threads)) == 1
