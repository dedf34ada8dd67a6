"""The prompt and the answer of any GenAI application, in aitrail's vocabulary.

An application instrumented by the OpenTelemetry GenAI conventions (the
official openai-v2 instrumentation with content capture on, and others) does
not send ``aitrail.prompt.text``: the current conventions carry the messages in
``gen_ai.input.messages`` and ``gen_ai.output.messages`` (JSON: a list of
``{role, parts: [{type: "text", content}]}``), on the span or on its
``gen_ai.client.inference.operation.details`` event; older ones in
``gen_ai.prompt`` / ``gen_ai.completion`` (text or JSON, also on
``gen_ai.content.prompt`` / ``gen_ai.content.completion`` events) or in
``gen_ai.user.message`` / ``gen_ai.choice`` events. For a span that is a
generation by the GenAI rules and carries no aitrail prompt:

- the last user message becomes the prompt, under the collector's
  ``prompt_policy`` (text, hash and length as :func:`aitrail.sdk.policy.prompt_attributes`
  allows; ``redacted`` by default); under any policy but ``full`` the
  message attributes and events are then removed from the span, so the raw
  table does not keep what the policy withholds;
- the code in the answer (its fenced blocks) is fingerprinted into
  ``aitrail.code.line_fingerprints`` and counted in ``aitrail.code.lines_added``,
  so a line of it found in a repository later links to this generation.

Log-record events (the same messages sent as OTLP logs) are not read here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aitrail.collector.processors import IngestContext
from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import fingerprints, to_signed
from aitrail.sdk.policy import prompt_attributes, resolve_salt

INPUT_MESSAGES, OUTPUT_MESSAGES, COMPLETION = v.GEN_AI_INPUT_MESSAGES, v.GEN_AI_OUTPUT_MESSAGES, v.GEN_AI_COMPLETION
DETAILS_EVENT, PROMPT_EVENTS, ANSWER_EVENTS = v.GEN_AI_INFERENCE_DETAILS_EVENT, v.GEN_AI_PROMPT_EVENTS, v.GEN_AI_ANSWER_EVENTS
OPERATIONS = ("chat", "text_completion", "generate_content")
"""Operations whose spans are generations (as migration 0004's view has it)."""
_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.S)


def _string(kv: Any) -> str:
    value = kv.value
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "array_value":
        return "\n".join(item.string_value for item in value.array_value.values if item.HasField("string_value"))
    return ""


def _message_text(message: Any) -> str:
    if isinstance(message, str):
        return message
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    parts = message.get("parts") or (content if isinstance(content, list) else [])
    return "\n".join(str(p.get("content") or p.get("text") or "") for p in parts
                     if isinstance(p, dict) and p.get("type", "text") == "text")


def _text(raw: str, role: str | None) -> str:
    """The text of the last message with ``role`` (any, when None) in a messages document, or ``raw`` itself."""
    try:
        document = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(document, dict):
        document = document.get("messages", [document])
    if not isinstance(document, list):
        return raw if isinstance(document, str) else ""
    chosen = [m for m in document if role is None or not isinstance(m, dict) or m.get("role") in (role, None)]
    return _message_text(chosen[-1]) if chosen else ""


def _is_generation(attributes: dict[str, str]) -> bool:
    operation = attributes.get(v.GEN_AI_OPERATION_NAME, "")
    return not attributes.get(v.KIND) and (
        operation in OPERATIONS or (not operation and bool(attributes.get(v.GEN_AI_REQUEST_MODEL))))


class GenAIContent:
    """The processor: prompts and answers of generic GenAI spans, under the collector's prompt policy."""

    def __init__(self, prompt_policy: str = "redacted") -> None:
        self.policy = prompt_policy
        self.salt = resolve_salt()

    @classmethod
    def from_config(cls, config: Any) -> GenAIContent:
        return cls(config.prompt_policy)

    def process(self, signal: str, request: Any, context: IngestContext) -> None:
        if signal != "traces":
            return
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    self._span(span)

    def _span(self, span: Any) -> None:
        keys = {kv.key for kv in span.attributes}
        if v.PROMPT_TEXT in keys or v.PROMPT_HASH in keys:
            return
        watched = {v.GEN_AI_PROMPT, INPUT_MESSAGES, OUTPUT_MESSAGES, COMPLETION}
        events = [e for e in span.events if e.name == DETAILS_EVENT or e.name in PROMPT_EVENTS or e.name in ANSWER_EVENTS]
        if not (keys & watched or events):
            return
        attributes = {kv.key: _string(kv) for kv in span.attributes
                      if kv.key in (v.KIND, v.GEN_AI_OPERATION_NAME, v.GEN_AI_REQUEST_MODEL) or kv.key in watched}
        if not _is_generation(attributes):
            return
        prompt = answer = ""
        for event in events:
            values = {kv.key: _string(kv) for kv in event.attributes}
            prompt = _text(values.get(INPUT_MESSAGES) or values.get(PROMPT_EVENTS.get(event.name, ""), ""), "user") or prompt
            answer = _text(values.get(OUTPUT_MESSAGES) or values.get(ANSWER_EVENTS.get(event.name, ""), ""), None) or answer
        prompt = _text(attributes.get(INPUT_MESSAGES) or attributes.get(v.GEN_AI_PROMPT, ""), "user") or prompt
        answer = _text(attributes.get(OUTPUT_MESSAGES) or attributes.get(COMPLETION, ""), None) or answer
        added: dict[str, Any] = prompt_attributes(prompt, self.policy, self.salt) if prompt else {}
        code = [line for block in _FENCE.findall(answer) for line in block.splitlines()]
        prints = fingerprints(code)
        if prints:
            added[v.LINE_FINGERPRINTS] = [to_signed(fp) for fp in prints]
            added[v.LINES_ADDED] = len(code)
        if self.policy != "full" and prompt:
            kept = [kv for kv in span.attributes if kv.key not in watched]
            del span.attributes[:]
            span.attributes.extend(kept)
            kept_events = [e for e in span.events if e not in events]
            del span.events[:]
            span.events.extend(kept_events)
        for key, value in added.items():
            kv = span.attributes.add()
            kv.key = key
            if isinstance(value, list):
                for item in value:
                    element = kv.value.array_value.values.add()
                    if isinstance(item, int):
                        element.int_value = item
                    else:
                        element.string_value = str(item)
            elif isinstance(value, bool) or not isinstance(value, int):
                kv.value.string_value = str(value)
            else:
                kv.value.int_value = value
