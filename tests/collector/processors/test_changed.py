"""Each processor says whether it changed a request, and is right: the pipeline spools the bytes as they came on
its word (a request it changed must be serialized again, or the change would be lost)."""

from __future__ import annotations

import json
import random

import pytest
from google.protobuf.message import Message
from otlp_corpus import PLACES, request_with, valid_traces
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from secret_corpus import corpus

from aitrail.collector.config import CollectorConfig
from aitrail.collector.pipeline import standard_processors
from aitrail.collector.processors import IngestContext
from aitrail.sdk import vocabulary as v

PEOPLE = {"u-1": {"email": "ana@example.com", "name": "Ana Lima", "team": "search"}}


def _strings(**values: str) -> dict[str, AnyValue]:
    return {key.replace("_", "."): AnyValue(string_value=value) for key, value in values.items()}


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


CHAT = {v.GEN_AI_OPERATION_NAME: AnyValue(string_value="chat"), v.GEN_AI_REQUEST_MODEL: AnyValue(string_value="m")}


def requests() -> list[tuple[str, str, Message]]:
    """(name, signal, request): some that one processor or another changes, some that none does."""
    out: list[tuple[str, str, Message]] = []
    rng = random.Random(5)
    out += [(f"corpus {i}", "traces", valid_traces(rng, f"c{i}")) for i in range(30)]
    secrets = corpus()
    for signal, places in PLACES.items():
        for place in places:
            out.append((f"{signal} {place} plain", signal, request_with(signal, place, _strings(k="plain value"))))
            secret = secrets[len(out) % len(secrets)].line
            out.append((f"{signal} {place} secret", signal, request_with(signal, place, {"k": AnyValue(string_value=secret)})))
            out.append((f"{signal} {place} alias", signal, request_with(signal, place, _strings(team="payments"))))
            out.append((f"{signal} {place} person", signal, request_with(signal, place, _strings(user_id="u-1"))))
            out.append((f"{signal} {place} squad", signal, request_with(signal, place, _strings(squad="infra"))))
    out.append(("generation with content", "traces", request_with("traces", "span", {
        **CHAT, v.GEN_AI_INPUT_MESSAGES: AnyValue(string_value=_messages("user", "hello")),
        v.GEN_AI_OUTPUT_MESSAGES: AnyValue(string_value=_messages("assistant", "```\nprint(1)\n```"))})))
    out.append(("generation without content", "traces", request_with("traces", "span", CHAT)))
    out.append(("generation already read", "traces", request_with("traces", "span", {
        **CHAT, v.PROMPT_HASH: AnyValue(string_value="ab" * 32)})))
    out.append(("prompt event as a log", "logs", request_with("logs", "record", {
        "event.name": AnyValue(string_value="gen_ai.user.message"), "content": AnyValue(string_value="hello")})))
    for name, place, values in (("empty prompt event as a log", "record", {v.GEN_AI_PROMPT: AnyValue(string_value="")}),
                                ("empty prompt event in a body", "body", {"": AnyValue(string_value="")})):
        request = request_with("logs", place, values)
        request.resource_logs[0].scope_logs[0].log_records[0].event_name = "gen_ai.user.message"
        out.append((name, "logs", request))
    return out


@pytest.mark.parametrize("policy", ["redacted", "full"])
def test_each_processor_says_whether_it_changed_the_request(policy: str) -> None:
    config = CollectorConfig(team_attributes=("squad",), people=PEOPLE, prompt_policy=policy)
    changed_by: dict[str, set[str]] = {}
    for name, signal, request in requests():
        for context in (IngestContext(), IngestContext(tenant="acme", team="payments")):
            copy = type(request).FromString(request.SerializeToString())
            for processor in standard_processors(config):
                before = copy.SerializeToString()
                said = processor.process(signal, copy, context)
                assert said == (copy.SerializeToString() != before), (type(processor).__name__, name, context)
                if said:
                    changed_by.setdefault(type(processor).__name__, set()).add(name)
    assert set(changed_by) == {type(p).__name__ for p in standard_processors(config)}  # each changed something
    assert "traces span plain" not in set().union(*changed_by.values())
