"""OTLP/JSON to protobuf: the converter builds the very message protobuf's own JSON parser builds, on every corpus.

The reference is ``json_format.ParseDict`` (what the collector used before) on
the same document with its ids in base64 (the protobuf mapping); the converter
gets the OTLP/JSON form (hex ids). Documents are written by ``json_format``
itself from the fuzzing corpus (every value type, NaN and infinities, odd
strings), the recorded native telemetry of Claude Code, Codex and Gemini CLI,
and metrics of every kind: camelCase or original names, enums by name or number.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otlp_corpus import valid_logs, valid_traces

from aitrail.collector.otlp.otlp_json import HEX_IDS, to_message
from aitrail.errors import InvalidPayload

NATIVE = Path(__file__).resolve().parents[2] / "fixtures" / "native"
REQUESTS = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest,
            "metrics": ExportMetricsServiceRequest}
_HEX_KEYS = {*HEX_IDS, "traceId", "spanId", "parentSpanId"}


def _hex_ids(node: Any) -> Any:
    """The protobuf mapping's base64 ids as OTLP/JSON's hex, everywhere in a document."""
    if isinstance(node, dict):
        return {key: base64.b64decode(value).hex() if key in _HEX_KEYS and isinstance(value, str) else _hex_ids(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def metrics_request() -> ExportMetricsServiceRequest:
    exemplar = {"traceId": "AQEBAQEBAQEBAQEBAQEBAQ==", "spanId": "AgICAgICAgI=", "asDouble": 1.5, "timeUnixNano": "3",
                "filteredAttributes": [{"key": "k", "value": {"intValue": "-4"}}]}
    point = {"timeUnixNano": "9", "startTimeUnixNano": "1", "attributes": [{"key": "k", "value": {"boolValue": True}}],
             "exemplars": [exemplar], "flags": 1}
    doc = {"resourceMetrics": [{"schemaUrl": "u", "scopeMetrics": [{"scope": {"name": "s"}, "metrics": [
        {"name": "g", "unit": "1", "gauge": {"dataPoints": [{**point, "asInt": "7"}, {**point, "asDouble": "NaN"}]}},
        {"name": "c", "sum": {"dataPoints": [{**point, "asDouble": "Infinity"}], "aggregationTemporality": 2,
                              "isMonotonic": True}},
        {"name": "h", "histogram": {"dataPoints": [{**point, "count": "3", "sum": 6.0, "bucketCounts": ["1", "2"],
                                                    "explicitBounds": [2.0], "min": 1.0, "max": 3.0}],
                                    "aggregationTemporality": 1}},
        {"name": "e", "exponentialHistogram": {"dataPoints": [{**point, "count": "2", "scale": -1, "zeroCount": "0",
                                                               "positive": {"offset": -3, "bucketCounts": ["2"]},
                                                               "zeroThreshold": 1e-9}]}},
        {"name": "q", "summary": {"dataPoints": [{"timeUnixNano": "9", "count": "2", "sum": 3.0,
                                                  "quantileValues": [{"quantile": 0.5, "value": 1.5}]}]}},
    ]}]}]}
    return json_format.ParseDict(doc, ExportMetricsServiceRequest())


def corpus() -> list[tuple[str, Message]]:
    rng = random.Random(20)
    requests: list[tuple[str, Message]] = [("metrics", metrics_request())]
    requests += [("traces", valid_traces(rng, f"t{i}")) for i in range(40)]
    requests += [("logs", valid_logs(rng, f"l{i}")) for i in range(40)]
    for path in sorted(NATIVE.glob("*/*.jsonl")):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry["signal"] in REQUESTS:
                document = entry["body"]
                requests.append((entry["signal"], json_format.ParseDict(_base64_ids(document),
                                                                         REQUESTS[entry["signal"]]())))
    return requests


def _base64_ids(node: Any) -> Any:
    """OTLP/JSON's hex ids as the protobuf mapping's base64 (the recordings are OTLP/JSON)."""
    if isinstance(node, dict):
        return {key: base64.b64encode(bytes.fromhex(value)).decode() if key in _HEX_KEYS and isinstance(value, str)
                else _base64_ids(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_base64_ids(item) for item in node]
    return node


@pytest.mark.parametrize("names", ["lowerCamelCase", "original"])
@pytest.mark.parametrize("enums", ["names", "numbers"])
def test_the_message_is_the_one_protobufs_parser_builds(names: str, enums: str) -> None:
    signals = set()
    for signal, request in corpus():
        document = json_format.MessageToDict(request, preserving_proto_field_name=names == "original",
                                             use_integers_for_enums=enums == "numbers")
        expected = json_format.ParseDict(document, REQUESTS[signal](), ignore_unknown_fields=True)
        converted = to_message(REQUESTS[signal], _hex_ids(document), signal)
        assert converted.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
        assert converted.SerializeToString(deterministic=True) == request.SerializeToString(deterministic=True)
        signals.add(signal)
    assert signals == set(REQUESTS)


@pytest.mark.parametrize(
    "record, where",
    [
        ({"body": {"stringValue": 5}}, "logRecords[0].body.stringValue"),
        ({"attributes": [{"key": "a"}, {"key": "b", "value": {"intValue": "x"}}]}, "logRecords[0].attributes[1].value.intValue"),
        ({"attributes": {"key": "a"}}, "logRecords[0].attributes"),
        ({"flags": True}, "logRecords[0].flags"),
        ({"body": {"stringValue": "a", "intValue": "1"}}, "logRecords[0].body"),  # two members of one oneof
        ({"eventName": "a", "event_name": "b"}, "logRecords[0]"),  # one field under both names
        ({"body": {"bytesValue": "not base64!"}}, "logRecords[0].body.bytesValue"),
        ({"severityNumber": [9]}, "logRecords[0].severityNumber"),
    ],
)
def test_what_the_mapping_refuses_is_400_naming_the_field(record: dict, where: str) -> None:
    document = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "1"}, record]}]}]}
    document["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = [record]
    with pytest.raises(InvalidPayload) as raised:
        to_message(ExportLogsServiceRequest, document, "logs")
    assert f"resourceLogs[0].scopeLogs[0].{where} " in str(raised.value)


def test_numbers_in_range_for_their_field_only() -> None:
    record = {"severityNumber": 9, "timeUnixNano": str(2**64)}  # past uint64
    with pytest.raises(InvalidPayload, match="logs request"):
        to_message(ExportLogsServiceRequest, {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}, "logs")
