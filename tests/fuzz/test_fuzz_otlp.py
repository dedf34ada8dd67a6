"""Fuzzing a live collector with OTLP bodies of traces and metrics: protobuf and JSON, valid-but-strange and invalid.

No crash, no 5xx, every refusal a 4xx with a message, and every valid body
sent in the same run stored. ``AITRAIL_FUZZ_BODIES`` sets how many bodies
(``make test``: 10,000; ``make fault``: 200,000).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
from urllib.parse import urlparse

from google.rpc.status_pb2 import Status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otlp_corpus import valid_metrics, valid_traces

BODIES = int(os.environ.get("AITRAIL_FUZZ_BODIES", "10000"))
def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        op = rng.randrange(3)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.randbytes(rng.randrange(1, 8))
        elif buf:
            del buf[pos : pos + rng.randrange(1, 8)]
    return bytes(buf)


def _json_variant(rng: random.Random, request: ExportTraceServiceRequest) -> bytes:
    from google.protobuf import json_format

    doc = json_format.MessageToDict(request)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                span["traceId"] = rng.choice([span.get("traceId", ""), "zz", "", "0" * 31, "ab" * 16])
                span["spanId"] = rng.choice(["ab" * 8, "", "xyz", 12])
                span["unknownField"] = {"nested": [1, None, "x"]}
    text = json.dumps(doc)
    if rng.random() < 0.5:
        cut = rng.randrange(len(text) + 1)
        text = text[:cut] + rng.choice(["", "}", "]", ",", "\"", "null", "\\u0000"]) + text[cut:]
    return text.encode()


METRICS_TABLES = ("gauge", "sum", "histogram", "exponential_histogram", "summary")


def _points(request) -> int:  # noqa: ANN001
    return sum(len(getattr(m, m.WhichOneof("data")).data_points) for rm in request.resource_metrics
               for sm in rm.scope_metrics for m in sm.metrics if m.WhichOneof("data"))


def generate(rng: random.Random, index: int) -> tuple[str, str, bytes, str | None]:
    """(signal, content type, body, marker if the body is valid and makes rows)."""
    marker = f"fuzz-valid-{index}"
    choice = rng.randrange(12)
    if choice == 10:
        request = valid_metrics(rng, marker)
        return "metrics", "application/x-protobuf", request.SerializeToString(), marker if _points(request) else ""
    if choice == 11:
        return "metrics", "application/x-protobuf", _mutate(rng, valid_metrics(rng, "m").SerializeToString()), None
    return ("traces", *_traces(rng, choice, marker))


def _traces(rng: random.Random, choice: int, marker: str) -> tuple[str, bytes, str | None]:
    if choice == 0:
        return "application/x-protobuf", valid_traces(rng, marker).SerializeToString(), marker
    if choice <= 4:
        return "application/x-protobuf", _mutate(rng, valid_traces(rng, "m").SerializeToString()), None
    if choice == 5:
        return "application/x-protobuf", rng.randbytes(rng.randrange(0, 300)), None
    if choice <= 8:
        return "application/json", _json_variant(rng, valid_traces(rng, "j")), None
    return rng.choice(["text/plain", "application/xml", "application/grpc"]), rng.randbytes(20), None


def _message(content_type: str, body: bytes) -> str:
    if content_type == "application/json":
        return json.loads(body).get("message", "")
    return Status.FromString(body).message


def test_fuzzing_a_live_collector(make_collector):
    collector = make_collector()
    statuses: dict[int, int] = {}
    failures: list[str] = []
    valid: list[str] = []
    lock = threading.Lock()
    workers = 4
    parsed = urlparse(collector.http_url)

    def work(worker: int) -> None:
        rng = random.Random(worker)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        for index in range(worker, BODIES, workers):
            signal, content_type, body, marker = generate(rng, index)
            conn.request("POST", f"/v1/{signal}", body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            data = response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status >= 500:
                    failures.append(f"{response.status} for body {index}: {data[:200]!r}")
                elif response.status >= 400:
                    reply_type = response.getheader("Content-Type", "")
                    if not _message("application/json" if "json" in reply_type else "x", data):
                        failures.append(f"{response.status} without a message for body {index}")
                elif marker:  # (a valid metrics body without data points makes no row)
                    valid.append(marker)
                if marker is not None and response.status != 200:
                    failures.append(f"valid body {index} refused with {response.status}: {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    assert sum(statuses.values()) == BODIES and set(statuses) <= {200, 400, 413, 415}, statuses
    import clickhouse_connect

    client = clickhouse_connect.get_client(host="127.0.0.1", port=collector.sql_port)
    names = " UNION ALL ".join(["SELECT SpanName AS name FROM aitrail.otel_traces"] + [
        f"SELECT MetricName FROM aitrail.otel_metrics_{table}" for table in METRICS_TABLES])
    stored = {row[0] for row in client.query(
        f"SELECT DISTINCT name FROM ({names}) WHERE startsWith(name, 'fuzz-valid-')").result_rows}
    assert stored == set(valid)
    health = json.load(__import__("urllib.request").request.urlopen(f"{collector.http_url}/healthz"))
    assert health["status"] == "ok"
    print(f"\nfuzzed {BODIES} bodies: {statuses}; {len(valid)} valid bodies all stored")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
                            lambda children: st.lists(children) | st.dictionaries(st.text(), children), max_leaves=30))
def test_any_json_document_is_answered_with_a_4xx_or_stored(collector, payload):
    parsed = urlparse(collector.http_url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    body = json.dumps({"resourceSpans": payload} if isinstance(payload, list) else payload).encode()
    conn.request("POST", "/v1/logs", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    assert response.status in (200, 400), (response.status, data[:300])
    if response.status == 400:
        assert json.loads(data)["message"]
