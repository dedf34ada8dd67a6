"""The identity-mapping processor: configured team names and people, on real OTLP requests and through a collector."""

from __future__ import annotations

import json
import time

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from aitrail.collector.config import CollectorConfig, load
from aitrail.collector.processors import IngestContext
from aitrail.collector.processors.mapping import Mapping
from aitrail.collector.processors.tenant import TenantStamp
from aitrail.errors import ConfigError

CLAUDE_USER = "19b6be39d6e0a1c93ea855ba979002bc470dc153118098b8c3c0797d355d0ec2"
GEMINI_INSTALL = "0084fe60-761a-4bef-b589-e94a4cfe5478"
PEOPLE = {
    CLAUDE_USER: {"email": "ana@example.com", "name": "Ana Lima"},
    GEMINI_INSTALL: {"email": "ben@example.com", "team": "search"},
    "acct-7": {"name": "Cy"},
}


def _kv(key, value):
    kv = KeyValue(key=key)
    kv.value.string_value = value
    return kv


def _logs(resource, *records):
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.extend([_kv(k, v) for k, v in resource.items()])
    scope = rl.scope_logs.add()
    for record in records:
        scope.log_records.add().attributes.extend([_kv(k, v) for k, v in record.items()])
    return request


def _attrs(attributes):
    return {kv.key: kv.value.string_value for kv in attributes}


def _records(request):
    return [_attrs(r.attributes) for r in request.resource_logs[0].scope_logs[0].log_records]


def _run(request, processor, context=None, signal="logs"):
    context = context or IngestContext()
    TenantStamp().stamp(signal, request, context)  # the engine's stamp (traces and logs are stamped at the drain)
    processor.process(signal, request, context)
    return request


def test_people_are_filled_in_from_the_id_each_assistant_sends():
    request = _logs(
        {"service.name": "x"},
        {"user.id": CLAUDE_USER, "event.name": "tool_result"},  # Claude Code
        {"installation.id": GEMINI_INSTALL},  # Gemini CLI
        {"user.account_id": "acct-7", "user.email": "cy@sent.example"},  # Codex: what is sent wins
        {"user.id": "someone-unknown"},
    )
    _run(request, Mapping(people=PEOPLE))
    ana, ben, cy, unknown = _records(request)
    assert ana["user.email"] == "ana@example.com" and ana["user.name"] == "Ana Lima" and ana["user.id"] == CLAUDE_USER
    assert ben["user.email"] == "ben@example.com" and ben["aitrail.team"] == "search"
    assert cy["user.email"] == "cy@sent.example" and cy["user.name"] == "Cy"
    assert unknown == {"user.id": "someone-unknown"}


def test_a_team_sent_anywhere_wins_over_the_persons_team():
    on_resource = _logs({"team": "payments"}, {"installation.id": GEMINI_INSTALL})
    _run(on_resource, Mapping(people=PEOPLE))
    assert "aitrail.team" not in _records(on_resource)[0]
    resource = _attrs(on_resource.resource_logs[0].resource.attributes)
    assert resource["team"] == "payments" and "aitrail.team" not in resource  # as sent: the views read the alias

    on_item = _logs({}, {"installation.id": GEMINI_INSTALL, "aitrail.team": "core"})
    _run(on_item, Mapping(people=PEOPLE))
    assert _records(on_item)[0]["aitrail.team"] == "core"


def test_configured_team_attributes_name_the_team_in_order_and_stay():
    request = _logs({"org.team": "platform", "squad": "payments"}, {})
    _run(request, Mapping(team_attributes=("squad", "org.team")))
    resource = _attrs(request.resource_logs[0].resource.attributes)
    assert resource["aitrail.team"] == "payments" and resource["squad"] == "payments" and resource["org.team"] == "platform"

    builtin = _logs({"team": "core", "squad": "payments"}, {})
    _run(builtin, Mapping(team_attributes=("squad",)))
    resource = _attrs(builtin.resource_logs[0].resource.attributes)
    assert resource["team"] == "core" and "aitrail.team" not in resource  # nothing added: the views read `team`


def test_a_team_fixed_by_the_token_is_never_contradicted():
    request = _logs({"squad": "payments"}, {"installation.id": GEMINI_INSTALL, "squad": "x"})
    _run(request, Mapping(team_attributes=("squad",), people=PEOPLE), IngestContext(tenant="acme", team="fixed"))
    assert _attrs(request.resource_logs[0].resource.attributes)["aitrail.team"] == "fixed"
    assert "aitrail.team" not in _records(request)[0]


def test_metric_data_points_are_mapped_too():
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="claude_code.cost.usage")
    point = metric.sum.data_points.add(as_double=0.5)
    point.attributes.append(_kv("user.id", CLAUDE_USER))
    _run(request, Mapping(people=PEOPLE), signal="metrics")
    assert _attrs(point.attributes)["user.email"] == "ana@example.com"


def test_an_empty_configuration_changes_nothing():
    request = _logs({"squad": "x"}, {"user.id": CLAUDE_USER})
    before = request.SerializeToString()
    Mapping().process("logs", request, IngestContext())
    assert request.SerializeToString() == before


def test_the_toml_file_configures_it(tmp_path):
    path = tmp_path / "aitrail.toml"
    path.write_text(
        '[collector]\nteam_attributes = ["squad", "org.team"]\n\n'
        f'[collector.people]\n"{CLAUDE_USER}" = {{ email = "ana@example.com", name = "Ana Lima" }}\n\n'
        f'[store]\ndata_dir = "{tmp_path / "d"}"\n'
    )
    cfg = load(path)
    assert cfg.team_attributes == ("squad", "org.team")
    assert Mapping.from_config(cfg).people[CLAUDE_USER]["name"] == "Ana Lima"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"team_attributes": "squad"}, "team_attributes"),
        ({"people": {"x": {"mail": "a@b"}}}, "people"),
        ({"people": {"x": "a@b"}}, "people"),
        ({"derive_settle": 90.0}, "derive_settle <= derive_wait"),
        ({"derive_interval": -1.0}, "derive_interval"),
    ],
)
def test_bad_settings_are_refused_with_an_example(settings, message):
    with pytest.raises(ConfigError, match=message):
        CollectorConfig(**settings).check()


def test_a_running_collector_maps_what_it_receives(make_collector):
    """Wired like the collector wires it: what arrives over OTLP/HTTP is stored mapped."""
    import urllib.request

    from aitrail.collector.server import Collector

    collector = make_collector(team_attributes=("squad",), people=PEOPLE)
    assert any(isinstance(p, Mapping) for p in collector.pipeline.processors)  # the collector runs the mapping
    body = {"resourceLogs": [{"resource": {"attributes": [{"key": "squad", "value": {"stringValue": "payments"}}]},
                              "scopeLogs": [{"logRecords": [{"timeUnixNano": str(time.time_ns()), "attributes": [
                                  {"key": "user.id", "value": {"stringValue": CLAUDE_USER}}]}]}]}]}
    request = urllib.request.Request(f"{collector.http_url}/v1/logs", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    assert urllib.request.urlopen(request, timeout=10).status == 200
    deadline = time.monotonic() + 20  # a 2xx may mean "in the spool": wait for the store
    while not (rows := collector.store.rows("SELECT ResourceAttributes AS r, LogAttributes AS l FROM aitrail.otel_logs")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert rows[0]["r"]["aitrail.team"] == "payments" and rows[0]["l"]["user.email"] == "ana@example.com"
    assert isinstance(collector, Collector)
