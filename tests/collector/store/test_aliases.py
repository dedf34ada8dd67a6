"""Aliases resolved in the views, on the real engine: the raw tables keep attributes as sent, the derived rows read
them under their canonical names. Expected values are worked out here from the attributes sent and the alias table
(the canonical name wins; else the first alias present; an item's own attributes over its resource's)."""

from __future__ import annotations

import random

import pyarrow as pa
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from aitrail.collector.store import StoreLocation, open_store
from aitrail.collector.store.aliases import resolved
from aitrail.collector.store.base import literal
from aitrail.collector.store.schema import known_migrations, migrate
from aitrail.sdk import vocabulary as v

OTHER = ("service.name", "x")


def _expected(sent: dict[str, str]) -> dict[str, str]:
    out = dict(sent)
    for canonical, aliases in v.ALIASES.items():
        present = [a for a in aliases if a in sent]
        if canonical not in sent and present:
            out[canonical] = sent[present[0]]
    return out


def _map(values: dict[str, str]) -> str:
    items = ", ".join(f"{literal(k)}, {literal(x)}" for k, x in values.items())
    return f"CAST(map({items}), 'Map(LowCardinality(String), String)')"


def test_a_map_gains_its_canonical_names_from_the_first_alias_present_and_keeps_everything_sent(store):
    rng = random.Random(15)
    names = [*v.ALIASES, *(a for aliases in v.ALIASES.values() for a in aliases), *OTHER]
    maps = [{k: rng.choice(["", "a", "b", f"v{i}"]) for k in rng.sample(names, rng.randrange(len(names) + 1))}
            for i in range(60)]
    maps += [{}, {"team": "t", "team.name": "n"}, {"team.name": "n", "aitrail.team": "c"}]
    sent = f"[{', '.join(_map(m) for m in maps)}]"
    rows = store.rows(f"SELECT i, {resolved('m')} AS r FROM (SELECT number AS i, {sent}[number + 1] AS m "
                      f"FROM numbers({len(maps)})) ORDER BY i")
    assert [dict(r["r"]) for r in rows] == [_expected(m) for m in maps]


def test_spans_are_stored_as_sent_and_the_generations_read_them_through_their_aliases(collector, ch):
    resource = {"service.name": "svc-aliases", "team": "payments", "gen_ai.system": "on-resource"}
    spans = [
        {"aitrail.kind": "generation", "gen_ai.request.model": "m1", "gen_ai.system": "anthropic",
         "gen_ai.usage.prompt_tokens": 11, "gen_ai.usage.completion_tokens": 7, "gen_ai.conversation.id": "c1"},
        # the canonical name wins over its alias, on the span as on the resource
        {"aitrail.kind": "generation", "gen_ai.request.model": "m2", "gen_ai.provider.name": "openai",
         "gen_ai.system": "azure", "team.name": "mobile", "session.id": "s2", "gen_ai.conversation.id": "c2"},
        # nothing on the span: the resource's alias
        {"aitrail.kind": "generation", "gen_ai.request.model": "m3"},
    ]
    provider = TracerProvider(resource=Resource.create(resource))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")))
    tracer = provider.get_tracer("aliases-test")
    for attributes in spans:
        tracer.start_span("chat", attributes=attributes).end()
    provider.shutdown()

    raw = ch.query("SELECT ResourceAttributes, SpanAttributes FROM aitrail.otel_traces "
                   "WHERE ServiceName = 'svc-aliases' ORDER BY SpanAttributes['gen_ai.request.model']").result_rows
    for (stored_resource, stored_span), sent in zip(raw, spans):
        assert stored_resource["team"] == "payments" and v.TEAM not in stored_resource  # as sent
        assert stored_resource["gen_ai.system"] == "on-resource" and v.GEN_AI_PROVIDER_NAME not in stored_resource
        assert set(stored_span) == set(sent)  # no name added, none renamed

    rows = ch.query("SELECT model, team, provider, session_id, input_tokens, output_tokens FROM aitrail.ai_generations "
                    "WHERE service_name = 'svc-aliases' ORDER BY model").result_rows
    expected = []
    for sent in spans:
        a = {**_expected({k: str(x) for k, x in resource.items()}), **_expected({k: str(x) for k, x in sent.items()})}
        expected.append((sent["gen_ai.request.model"], a.get(v.TEAM, ""), a.get(v.GEN_AI_PROVIDER_NAME, ""),
                         a.get(v.SESSION_ID, ""), int(a.get(v.GEN_AI_USAGE_INPUT_TOKENS, 0)),
                         int(a.get(v.GEN_AI_USAGE_OUTPUT_TOKENS, 0))))
    assert [tuple(r) for r in rows] == expected
    assert expected[0][1:] == ("payments", "anthropic", "c1", 11, 7)  # the rule above, spelled out once
    assert expected[1][1:4] == ("mobile", "openai", "s2")
    assert expected[2][1:3] == ("payments", "on-resource")


def test_migration_0012_keeps_what_was_derived_and_resolves_aliases_from_then_on(tmp_path):
    mapping = pa.map_(pa.string(), pa.string())

    def span(model: str) -> pa.Table:
        return pa.table({
            "Timestamp": pa.array([1_700_000_000_000_000_000], pa.timestamp("ns")), "TraceId": ["ab" * 16],
            "SpanId": [model * 8], "SpanName": ["chat"], "ServiceName": ["svc"],
            "ResourceAttributes": pa.array([[("aitrail.tenant.id", "t1"), ("team", "payments")]], mapping),
            "SpanAttributes": pa.array([[("aitrail.kind", "generation"), ("gen_ai.request.model", model),
                                         ("gen_ai.system", "anthropic")]], mapping),
        })

    with open_store(StoreLocation(data_dir=tmp_path / "store"), migrate=False) as store:
        store.command("CREATE DATABASE IF NOT EXISTS aitrail")
        for migration in known_migrations():
            if migration.version < 12:  # a store as the collector before this change left it
                for statement in migration.statements("aitrail"):
                    store.command(statement)
        store.insert("otel_traces", span("aa"))  # the old views read no alias (the collector renamed them then)
        assert [m.version for m in migrate(store)][-1] == 12
        store.insert("otel_traces", span("bb"))
        rows = store.rows("SELECT model, team, provider FROM aitrail.ai_generations ORDER BY model")
    assert [tuple(r.values()) for r in rows] == [("aa", "", ""), ("bb", "payments", "anthropic")]
