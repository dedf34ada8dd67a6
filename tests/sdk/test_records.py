"""``aitrail.sdk.records``: deterministic ids and spans, and the OTLP body the exporters' encoder makes of them."""

from __future__ import annotations

import hashlib
import json

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import line_fingerprint, to_signed
from aitrail.sdk.records import Location, encode, finding_record, incident_record, record_id, to_spans

LINE = "subprocess.call(cmd, shell=True)"


def finding(**overrides):
    values = dict(source="bandit", rule="B602", severity="high", message="shell", repository="r", commit="c" * 40,
                  file_path="app.py", line_start=3, line_end=3, fingerprints=[line_fingerprint(LINE)], line_text=LINE,
                  resolved=True, time_ns=1_700_000_000_000_000_000, cwe=["CWE-78"])
    values.update(overrides)
    return finding_record(**values)


def test_record_id_is_the_first_16_bytes_of_sha256_over_the_fields():
    assert record_id("a", 1, None) == hashlib.sha256("a\x1f1\x1f".encode()).hexdigest()[:32]


def test_the_same_result_is_the_same_record_and_a_different_line_is_not():
    assert finding().id == finding(message="other words, same place").id
    assert finding().id != finding(line_start=4, line_end=4).id
    assert finding().id != finding(commit="d" * 40).id


def test_spans_carry_the_record_and_deterministic_ids():
    first, second = to_spans([finding()]), to_spans([finding()])
    assert first[0].context.trace_id == second[0].context.trace_id != 0
    assert first[0].context.span_id == second[0].context.span_id != 0
    a = first[0].attributes
    assert a[v.KIND] == v.KIND_FINDING and a[v.FINDING_ID] == finding().id
    assert json.loads(a[v.LINE_FINGERPRINTS]) == [to_signed(line_fingerprint(LINE))]
    assert first[0].start_time == first[0].end_time == 1_700_000_000_000_000_000


def test_an_incident_keeps_its_ticket_id_and_its_locations_fingerprints_exactly():
    fp = line_fingerprint(LINE)
    record = incident_record(title="outage", severity="critical", time_ns=1, cost_usd=12.5, incident_id="INC-7",
                             locations=[Location("app.py", 3, (fp,))])
    assert record.id == "INC-7"
    request = ExportTraceServiceRequest()
    request.ParseFromString(encode([record]))
    (span,) = request.resource_spans[0].scope_spans[0].spans
    attributes = {kv.key: kv.value for kv in span.attributes}
    assert json.loads(attributes[v.INCIDENT_LOCATIONS].string_value) == [
        {"path": "app.py", "line": 3, "fingerprints": [str(fp)]}]
    assert attributes[v.COST_USD].double_value == 12.5
