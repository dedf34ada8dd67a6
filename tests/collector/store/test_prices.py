"""Cost when the sender gives none, in the engine: generations sent by the real OTLP exporter through a running
collector get a cost estimated from their tokens and the price table (ai_cost_estimates); a sender's own cost wins;
the configuration overrides the shipped prices. Expected costs are computed here from prices.csv read with the
csv module and the tokens the test sent."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from aitrail.collector.store.prices import parse_overrides
from aitrail.errors import ConfigError
from aitrail.sdk import vocabulary as v

PRICES = {row["model"]: row for row in csv.DictReader(
    (Path(__file__).parents[3] / "collector" / "store" / "prices.csv").open())}


def send(collector, generations: list[dict]) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "prices-test"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")))
    tracer = provider.get_tracer("prices-test")
    for attributes in generations:
        tracer.start_span("chat", attributes={v.KIND: v.KIND_GENERATION, **attributes}).end()
    provider.shutdown()


def expected(model: str, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> float:
    price = {k: float(x) for k, x in PRICES[model].items() if k.endswith("_per_mtok")}
    return ((input_tokens - cache_read - cache_write) * price["input_usd_per_mtok"]
            + cache_read * price["cache_read_usd_per_mtok"] + cache_write * price["cache_write_usd_per_mtok"]
            + output_tokens * price["output_usd_per_mtok"]) / 1e6


def test_tokens_only_generations_get_an_estimated_cost_and_a_sender_s_cost_wins(collector, ch):
    send(collector, [
        {v.GEN_AI_RESPONSE_MODEL: "claude-sonnet-4-5-20250929", v.GEN_AI_USAGE_INPUT_TOKENS: 12_000,
         v.GEN_AI_USAGE_OUTPUT_TOKENS: 800, v.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 10_000,
         v.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 1_000, v.ASSISTANT: "sdk-a"},
        {v.GEN_AI_REQUEST_MODEL: "gpt-4o-2024-08-06", v.GEN_AI_USAGE_INPUT_TOKENS: 3_000,
         v.GEN_AI_USAGE_OUTPUT_TOKENS: 1_500, v.ASSISTANT: "sdk-b"},
        {v.GEN_AI_REQUEST_MODEL: "models/gemini-2.5-pro", v.GEN_AI_USAGE_INPUT_TOKENS: 900,
         v.GEN_AI_USAGE_OUTPUT_TOKENS: 100, v.ASSISTANT: "sdk-c"},
        {v.GEN_AI_RESPONSE_MODEL: "claude-sonnet-4-5", v.GEN_AI_USAGE_INPUT_TOKENS: 5_000,
         v.GEN_AI_USAGE_OUTPUT_TOKENS: 5_000, v.COST_USD: 0.42, v.ASSISTANT: "claude-code"},
        {v.GEN_AI_REQUEST_MODEL: "home-made-model-7b", v.GEN_AI_USAGE_INPUT_TOKENS: 100, v.ASSISTANT: "local"},
    ])
    rows = {r["assistant"]: (r["cost_usd"] + r["estimated"], int(r["estimated"] > 0)) for r in ch.query(
        "SELECT g.assistant AS assistant, g.cost_usd AS cost_usd, e.estimated_cost_usd AS estimated "
        "FROM aitrail.ai_generations AS g LEFT JOIN aitrail.ai_cost_estimates AS e FINAL ON e.span_id = g.span_id"
    ).named_results()}
    assert rows["sdk-a"][1] == 1 and rows["sdk-a"][0] == pytest.approx(expected("claude-sonnet-4-5", 12_000, 800, 10_000, 1_000))
    assert rows["sdk-b"][1] == 1 and rows["sdk-b"][0] == pytest.approx(expected("gpt-4o", 3_000, 1_500))
    assert rows["sdk-c"][1] == 1 and rows["sdk-c"][0] == pytest.approx(expected("gemini-2.5-pro", 900, 100))
    assert rows["claude-code"] == (0.42, 0)
    assert rows["local"] == (0.0, 0)


def test_the_configuration_overrides_the_shipped_prices(make_collector):
    import clickhouse_connect

    collector = make_collector(prices=({"model": "gpt-4o", "provider": "openai", "input_usd_per_mtok": 1.0,
                                        "output_usd_per_mtok": 2.0, "taken_on": "2026-01-01"},
                                       {"model": "home-made-model-7b", "input_usd_per_mtok": 0.5}))
    send(collector, [{v.GEN_AI_REQUEST_MODEL: "gpt-4o", v.GEN_AI_USAGE_INPUT_TOKENS: 1_000_000,
                      v.GEN_AI_USAGE_OUTPUT_TOKENS: 1_000_000, v.ASSISTANT: "a"},
                     {v.GEN_AI_REQUEST_MODEL: "home-made-model-7b", v.GEN_AI_USAGE_INPUT_TOKENS: 2_000_000,
                      v.ASSISTANT: "b"}])
    ch = clickhouse_connect.get_client(host="127.0.0.1", port=collector.sql_port)
    rows = dict(ch.query("SELECT g.assistant, e.estimated_cost_usd FROM aitrail.ai_generations AS g "
                         "INNER JOIN aitrail.ai_cost_estimates AS e FINAL ON e.span_id = g.span_id").result_rows)
    assert rows == {"a": pytest.approx(3.0), "b": pytest.approx(1.0)}
    assert ch.query("SELECT count() FROM aitrail.ai_prices FINAL").result_rows[0][0] == len(PRICES) + 1


@pytest.mark.parametrize(("row", "message"), [
    ({"input_usd_per_mtok": 1}, "collector.prices[1]: model: give the model family"),
    ({"model": "x", "input_usd_per_mtok": "cheap"}, "collector.prices[1]: input_usd_per_mtok: must be USD per million"),
    ({"model": "x", "taken_on": "yesterday"}, "collector.prices[1]: taken_on: must be a date"),
    ({"model": "x", "price": 3}, "collector.prices[1]: price: unknown key"),
])
def test_a_bad_price_override_is_refused_with_its_row_and_key(row, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_overrides([row])


LITELLM_SOURCE = re.compile(r"^litellm==(\d+\.\d+\.\d+) model_prices_and_context_window_backup\.json#(\S+)$")


def test_every_shipped_price_names_where_it_was_read_and_when():
    """A row comes from a provider's price page (its address) or from an entry of the price file a named litellm
    release ships, the entry's key naming the row's model; each says the day it was read."""
    assert PRICES
    for model, row in PRICES.items():
        date.fromisoformat(row["taken_on"])
        matched = LITELLM_SOURCE.match(row["source"])
        if matched:
            assert matched[2].split("/", 1)[-1] == model, row
        else:
            assert row["source"].startswith("https://") and row["provider"] in row["source"], row
