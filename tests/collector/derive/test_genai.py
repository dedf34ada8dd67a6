"""A generic GenAI application whose messages come as log records: its prompt and its answer's code reach
ai_generations. The real OpenTelemetry SDK emits the call's span and its GenAI events (as log records, through the
logs API) with the real OTLP/HTTP exporters, to a running collector, in the order each test chooses."""

from __future__ import annotations

import json
import time

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from aitrail.sdk.fingerprint import fingerprints

CODE = ["def retry(call, attempts=3):", "    for attempt in range(attempts):", "        try:",
        "            return call()", "        except TimeoutError:", "            continue"]
ANSWER = "Here is a helper:\n\n```python\n" + "\n".join(CODE) + "\n```\nUse it around the gateway call."
SYSTEM = "You are terse. Escalations go to ops@example.com."
PROMPT = "Write a retry helper for the card gateway; questions to ana@example.com"
CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": 57, "gen_ai.usage.output_tokens": 81}
RESOURCE = Resource.create({"service.name": "chat-app", "team": "payments"})


def _parts(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


CURRENT = [("gen_ai.client.inference.operation.details", None, {
    **CHAT, "gen_ai.input.messages": [_parts("system", SYSTEM), _parts("user", "an older question"),
                                      _parts("assistant", "an older answer"), _parts("user", PROMPT)],
    "gen_ai.output.messages": [{**_parts("assistant", ANSWER), "finish_reason": "stop"}]})]
"""The current conventions (opentelemetry-util-genai): one event, the messages as structured attributes."""
OLDER = [("gen_ai.system.message", {"content": SYSTEM}, {"gen_ai.system": "openai"}),
         ("gen_ai.user.message", {"content": PROMPT}, {"gen_ai.system": "openai"}),
         ("gen_ai.choice", {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": ANSWER}},
          {"gen_ai.system": "openai"})]
"""The older conventions (openai-v2 before them): one event per message, the message in the body."""


class App:
    """A GenAI application: the call's span and its events (log records through the logs API), each signal held by
    its batch processor until the test flushes it, so the test chooses what the collector receives first."""

    HOLD = 3_600_000
    """Milliseconds the batch processors would wait before exporting by themselves (longer than any test)."""

    def __init__(self, collector) -> None:
        self.collector = collector
        self.traces = TracerProvider(resource=RESOURCE)
        self.traces.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces"), schedule_delay_millis=self.HOLD))
        self.logs = LoggerProvider(resource=RESOURCE)
        self.logs.add_log_record_processor(BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=f"{collector.http_url}/v1/logs"), schedule_delay_millis=self.HOLD))

    def call(self, events, attributes=CHAT) -> None:
        """One model call: its span, and each event emitted while it is current (so it carries its ids)."""
        tracer = self.traces.get_tracer("opentelemetry.instrumentation.openai_v2")
        logger = self.logs.get_logger("opentelemetry.instrumentation.openai_v2")
        with tracer.start_as_current_span("chat gpt-4o", kind=trace.SpanKind.CLIENT, attributes=attributes):
            for name, body, values in events:
                logger.emit(event_name=name, body=body, attributes=values)

    def send_spans(self) -> None:
        assert self.traces.force_flush()
        assert self.collector.wait_drained()

    def send_logs(self) -> None:
        assert self.logs.force_flush()
        assert self.collector.wait_drained()

    def close(self) -> None:
        self.traces.shutdown()
        self.logs.shutdown()


@pytest.fixture
def app_of():
    """A factory of :class:`App` for a collector; every app is shut down after the test."""
    apps: list[App] = []

    def make(collector) -> App:
        apps.append(App(collector))
        return apps[-1]

    yield make
    for app in apps:
        app.close()


def _row(collector, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        rows = collector.store.rows("SELECT * FROM aitrail.ai_generations")
        if rows or time.monotonic() > deadline:
            assert len(rows) == 1, rows
            return rows[0]
        time.sleep(0.1)


def _stored(collector, sql: str) -> None:
    """Wait until ``sql`` counts something (what a test sent is in the raw tables)."""
    deadline = time.monotonic() + 30
    while collector.store.rows(sql)[0]["n"] == 0:
        assert time.monotonic() < deadline, sql
        time.sleep(0.05)


REDACTED = PROMPT.replace("ana@example.com", "[REDACTED:email]")


@pytest.mark.parametrize("events", [CURRENT, OLDER], ids=["current", "older"])
@pytest.mark.parametrize("first", ["span", "logs"])
def test_the_prompt_and_the_answers_code_reach_the_generation_whatever_arrives_first(make_collector, app_of, events, first):
    collector = make_collector(derive_interval=0.1, derive_settle=0.2, derive_wait=600.0)
    app = app_of(collector)
    app.call(events)
    if first == "span":
        app.send_spans()
        _stored(collector, "SELECT count() AS n FROM aitrail.otel_traces WHERE SpanName = 'chat gpt-4o'")
        app.send_logs()
    else:
        app.send_logs()
        _stored(collector, "SELECT count() AS n FROM aitrail.otel_logs")
        app.send_spans()
    row = _row(collector)
    assert (row["prompt"], row["prompt_policy"], len(row["prompt_hash"])) == (REDACTED, "redacted", 64)
    assert row["line_fingerprints"] == fingerprints(CODE) and row["lines_added"] == len(CODE)
    assert (row["model"], row["provider"], row["input_tokens"], row["output_tokens"]) == ("gpt-4o", "openai", 57, 81)
    assert (row["assistant"], row["team"], row["tenant"]) == ("chat-app", "payments", "default")
    (call,) = collector.store.rows("SELECT TraceId, SpanId FROM aitrail.otel_traces WHERE SpanName = 'chat gpt-4o'")
    assert row["trace_id"] == call["TraceId"]  # the call's trace; its generation is a child of the call's span
    raw = json.dumps(collector.store.rows("SELECT Body, LogAttributes FROM aitrail.otel_logs"))
    assert "ana@example.com" not in raw and "ops@example.com" not in raw and "older question" not in raw
    assert "def retry" not in raw  # under any policy but full, no message is kept in the raw table


def test_under_the_full_policy_the_prompt_and_the_messages_are_kept(make_collector, app_of):
    collector = make_collector(derive_interval=0.1, derive_settle=0.2, derive_wait=600.0, prompt_policy="full")
    app = app_of(collector)
    app.call(OLDER)
    app.send_spans()
    app.send_logs()
    row = _row(collector)
    assert (row["prompt"], row["prompt_policy"]) == (PROMPT, "full")
    bodies = [json.loads(r["Body"]) for r in collector.store.rows("SELECT Body FROM aitrail.otel_logs ORDER BY Timestamp")]
    assert bodies == [body for _, body, _ in OLDER]


def test_a_call_whose_events_never_come_is_a_generation_after_the_wait(make_collector, app_of):
    """Content capture off: no log record; the call still counts, without prompt or code."""
    collector = make_collector(derive_interval=0.1, derive_settle=0.2, derive_wait=1.0)
    app = app_of(collector)
    app.call([])
    app.send_spans()
    row = _row(collector)
    assert (row["prompt"], row["line_fingerprints"], row["model"], row["input_tokens"]) == ("", [], "gpt-4o", 57)


def test_without_derivation_a_call_is_a_generation_at_once(make_collector, app_of):
    """derive_interval = 0: nothing would derive it, so the call's span is a generation as it arrives."""
    collector = make_collector(derive_interval=0)
    app = app_of(collector)
    app.call(CURRENT)
    app.send_spans()
    app.send_logs()
    row = _row(collector)
    assert (row["model"], row["prompt"], row["input_tokens"]) == ("gpt-4o", "", 57)


def test_two_calls_each_keep_their_own_messages(make_collector, app_of):
    collector = make_collector(derive_interval=0.1, derive_settle=0.2, derive_wait=600.0, prompt_policy="full")
    app = app_of(collector)
    other = [("gen_ai.user.message", {"content": "Explain the outage"}, {}),
             ("gen_ai.choice", {"index": 0, "message": {"content": "It was DNS."}}, {})]
    app.call(OLDER)
    app.call(other)
    app.send_logs()
    app.send_spans()
    deadline = time.monotonic() + 30
    query = "SELECT prompt, line_fingerprints FROM aitrail.ai_generations ORDER BY prompt"
    while len(collector.store.rows(query)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert collector.store.rows(query) == [{"prompt": "Explain the outage", "line_fingerprints": []},
                                           {"prompt": PROMPT, "line_fingerprints": fingerprints(CODE)}]
