"""The generations behind a line, read by the linkage SQL: a generation whose sender gave tokens but no cost
(Codex, Gemini CLI, the instrumented clients) shows the price table's estimate, marked as such; one with a cost
keeps it. Spans go through the real OTLP/HTTP exporter to a running collector; the estimate is computed here
from prices.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from aitrail.collector.store import StoreLocation
from aitrail.linkage.chain import Reader, generations
from aitrail.sdk import vocabulary as v

PRICES = {row["model"]: row for row in csv.DictReader(
    (Path(__file__).parents[2] / "collector" / "store" / "prices.csv").open())}


def test_a_generation_without_a_cost_shows_the_price_tables_estimate_marked_estimated(collector, tmp_path):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")))
    tracer = provider.get_tracer("test")
    ids = {}
    for name, cost in (("priced", 0.25), ("unpriced", None)):
        attributes = {v.KIND: v.KIND_GENERATION, v.ASSISTANT: "codex", v.GEN_AI_REQUEST_MODEL: "gpt-4o",
                      v.GEN_AI_USAGE_INPUT_TOKENS: 2000,
                      v.GEN_AI_USAGE_OUTPUT_TOKENS: 500, v.USER_EMAIL: "ana@example.com"}
        if cost is not None:
            attributes[v.COST_USD] = cost
        with tracer.start_as_current_span(name, attributes=attributes) as span:
            ids[name] = format(span.get_span_context().span_id, "016x")
    provider.shutdown()
    assert collector.wait_drained(30)

    found = generations(Reader(StoreLocation(data_dir=tmp_path / "store")), ids.values())
    price = PRICES["gpt-4o"]
    estimate = (2000 * float(price["input_usd_per_mtok"]) + 500 * float(price["output_usd_per_mtok"])) / 1e6
    assert estimate > 0
    assert (found[ids["priced"]]["cost_usd"], found[ids["priced"]]["cost_estimated"]) == (0.25, False)
    assert found[ids["unpriced"]]["cost_usd"] == pytest.approx(estimate)
    assert found[ids["unpriced"]]["cost_estimated"] is True
