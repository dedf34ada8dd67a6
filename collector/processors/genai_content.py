"""The prompt and the answer of any GenAI application, in aitrail's vocabulary.

An application instrumented by the OpenTelemetry GenAI conventions (the
official openai-v2 instrumentation with content capture on, and others) does
not send ``aitrail.prompt.text``: the current conventions carry the messages in
``gen_ai.input.messages`` and ``gen_ai.output.messages`` (JSON: a list of
``{role, parts: [{type: "text", content}]}``), on the span or on its
``gen_ai.client.inference.operation.details`` event; older ones in
``gen_ai.prompt`` / ``gen_ai.completion`` (text or JSON, also on
``gen_ai.content.prompt`` / ``gen_ai.content.completion`` events) or in
``gen_ai.user.message`` / ``gen_ai.choice`` events. Events come on the span, or
as log records correlated to it by trace and span id (the older conventions,
and instrumentations that emit events as logs: the message then in the body).

For a span that is a generation by the GenAI rules and carries no aitrail
prompt, and for each such log record:

- the last user message becomes the prompt, under the collector's
  ``prompt_policy`` (text, hash and length as :func:`aitrail.sdk.policy.prompt_attributes`
  allows; ``redacted`` by default); under any policy but ``full`` the
  messages are then removed (span attributes and events; a record's body and
  message attributes, whatever its role), so the raw tables do not keep what
  the policy withholds;
- the code in the answer (its fenced blocks) is fingerprinted into
  ``aitrail.code.line_fingerprints`` and counted in ``aitrail.code.lines_added``,
  so a line of it found in a repository later links to this generation.

A span that carries neither (its messages may be on their way as log records)
is marked ``aitrail.kind = model_call`` while the collector derives
generations: migration 0004's view then leaves it, and
``collector/derive/genai.sql`` makes it a generation with what its log
records say, once they had time to arrive. Spans of the assistants whose
generations are derived from their own events (Claude Code, Gemini CLI, as in
migration 0005) are left alone.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aitrail.collector.processors import IngestContext
from aitrail.collector.rows.common import any_value_str
from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import fingerprints, to_signed
from aitrail.sdk.policy import prompt_attributes, resolve_salt

INPUT_MESSAGES, OUTPUT_MESSAGES, COMPLETION = v.GEN_AI_INPUT_MESSAGES, v.GEN_AI_OUTPUT_MESSAGES, v.GEN_AI_COMPLETION
DETAILS_EVENT, PROMPT_EVENTS, ANSWER_EVENTS = v.GEN_AI_INFERENCE_DETAILS_EVENT, v.GEN_AI_PROMPT_EVENTS, v.GEN_AI_ANSWER_EVENTS
MESSAGE_EVENTS = frozenset({DETAILS_EVENT, *PROMPT_EVENTS, *ANSWER_EVENTS, *v.GEN_AI_CONTEXT_EVENTS})
"""Events that hold messages (on a span, or as log records)."""
MESSAGE_ATTRIBUTES = frozenset({v.GEN_AI_PROMPT, INPUT_MESSAGES, OUTPUT_MESSAGES, COMPLETION, v.GEN_AI_SYSTEM_INSTRUCTIONS})
"""Span and record attributes that hold messages."""
OPERATIONS = ("chat", "text_completion", "generate_content")
"""Operations whose spans are generations (as migration 0004's view has it)."""
_MESSAGE_NAMES = re.compile(b"|".join(re.escape(name.encode()) for name in sorted(MESSAGE_EVENTS | MESSAGE_ATTRIBUTES)))
"""Any name of an event or an attribute holding messages, in a request's protobuf bytes. A record is read only
for its event name, and a span changed only for its messages but for the ``model_call`` mark: where none of these
names is in the bytes, no record is changed, nor a span when the collector does not derive generations."""
_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.S)
ALREADY_READ = frozenset({v.PROMPT_TEXT, v.PROMPT_HASH})
"""Keys that say a span's or a record's prompt was read already (the SDK's): it is left as it came."""
DECIDED_BY = (v.KIND, v.GEN_AI_OPERATION_NAME, v.GEN_AI_REQUEST_MODEL, v.GEN_AI_AGENT_NAME)
"""The span attributes that decide whether a span is a generation and not an assistant's own."""
_READ = frozenset({*DECIDED_BY, *MESSAGE_ATTRIBUTES})
"""The span attributes the processor decides by and reads messages from."""
CLAUDE_CODE_SPANS, CLAUDE_CODE_SCOPES, GEMINI_CLI = "claude_code.", "com.anthropic.claude_code", "gemini-cli"
"""What tells an assistant's own spans, whose generations are derived from its events (migration 0005's
exceptions): a span name's prefix, a scope name's prefix, a ``gen_ai.agent.name``."""


def _names_no_message(body: bytes | bytearray | None) -> bool:
    """Whether a request's protobuf bytes (None: not at hand) name no message event or attribute."""
    return body is not None and _MESSAGE_NAMES.search(body) is None


def _string(value: Any) -> str:
    """An attribute's value as text: a string, the lines of an array of strings, else its JSON (structured messages)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "array_value" and all(item.HasField("string_value") for item in value.array_value.values):
        return "\n".join(item.string_value for item in value.array_value.values)
    return any_value_str(value) if kind in ("array_value", "kvlist_value") else ""


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
    if not raw:  # (most spans: no messages; a failed parse costs more than everything else read of them)
        return raw
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


def _event_texts(name: str, values: dict[str, str], body: Any = None) -> tuple[str, str]:
    """(prompt, answer) of one event: its attributes, else (a log record) its body."""
    if name == DETAILS_EVENT:
        return _text(values.get(INPUT_MESSAGES, ""), "user"), _text(values.get(OUTPUT_MESSAGES, ""), None)
    for events, role, is_prompt in ((PROMPT_EVENTS, "user", True), (ANSWER_EVENTS, None, False)):
        if name in events:
            field = events[name]
            if values.get(field):
                text = _text(values[field], role)
            else:
                text = _message_text(body.get(field, body) if isinstance(body, dict) else body)
            return (text, "") if is_prompt else ("", text)
    return "", ""


def _body(record: Any) -> Any:
    """A log record's body as Python: a string, or the decoded structure (a message: ``{"content": ...}``)."""
    kind = record.body.WhichOneof("value")
    if kind not in ("string_value", "array_value", "kvlist_value"):
        return None
    text = any_value_str(record.body)
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed if isinstance(parsed, (dict, list)) else text


def _event_name(record: Any) -> str:
    name = getattr(record, "event_name", "")
    return name or next((kv.value.string_value for kv in record.attributes if kv.key == "event.name"), "")


def _is_generation(attributes: dict[str, str]) -> bool:
    operation = attributes.get(v.GEN_AI_OPERATION_NAME, "")
    return not attributes.get(v.KIND) and (
        operation in OPERATIONS or (not operation and bool(attributes.get(v.GEN_AI_REQUEST_MODEL))))


def _assistants_own(span: Any, scope: str, attributes: dict[str, str]) -> bool:
    """A span of an assistant whose generations are derived from its own events (migration 0005's exceptions)."""
    return (span.name.startswith(CLAUDE_CODE_SPANS) or scope.startswith(CLAUDE_CODE_SCOPES)
            or attributes.get(v.GEN_AI_AGENT_NAME) == GEMINI_CLI)


def _add(attributes: Any, added: dict[str, Any]) -> bool:
    for key, value in added.items():
        kv = attributes.add()
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
    return bool(added)


def _keep(repeated: Any, keep: Any) -> bool:
    """Keep only the items of a repeated protobuf field for which ``keep(item)`` is true; say whether any went."""
    kept = [item for item in repeated if keep(item)]
    if len(kept) == len(repeated):
        return False
    del repeated[:]
    repeated.extend(kept)
    return True


class GenAIContent:
    """The processor: prompts and answers of generic GenAI spans and log records, under the collector's prompt policy.

    ``derive`` says whether the collector derives generations (``derive_interval`` > 0): only then is a span
    without content marked ``model_call``, to wait for its log records.
    """

    def __init__(self, prompt_policy: str = "redacted", derive: bool = True) -> None:
        self.policy = prompt_policy
        self.derive = derive
        self.salt = resolve_salt()

    @classmethod
    def from_config(cls, config: Any) -> GenAIContent:
        return cls(config.prompt_policy, derive=config.derive_interval > 0)

    def leaves_marks(self, signal: str, body: bytes | bytearray | None) -> bool:
        """Whether a request need not be read because its one possible change, the ``model_call`` mark of spans
        without content, can be left to the engine (``engine/traces.py``'s ``MODEL_CALL``, the same rule): a trace
        request whose bytes name no message, while the collector derives generations."""
        return signal == "traces" and self.derive and _names_no_message(body)

    def process(self, signal: str, request: Any, context: IngestContext, body: bytes | bytearray | None = None
                ) -> bool:
        if (signal == "logs" or not self.derive) and _names_no_message(body):
            return False  # nothing to read, and (records; spans when not deriving) nothing to mark
        changed: list[bool] = []
        if signal == "traces":
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    changed.extend(self._span(span, ss.scope.name) for span in ss.spans)
        elif signal == "logs":
            for rl in request.resource_logs:
                for sl in rl.scope_logs:
                    changed.extend(self._record(record) for record in sl.log_records)
        return any(changed)

    def _content(self, prompt: str, answer: str) -> dict[str, Any]:
        """What aitrail reads of a prompt (under the policy) and of an answer (its code's fingerprints)."""
        added: dict[str, Any] = prompt_attributes(prompt, self.policy, self.salt) if prompt else {}
        code = [line for block in _FENCE.findall(answer) for line in block.splitlines()]
        prints = fingerprints(code)
        if prints:
            added[v.LINE_FINGERPRINTS] = [to_signed(fp) for fp in prints]
            added[v.LINES_ADDED] = len(code)
        return added

    def _span(self, span: Any, scope: str) -> bool:
        """Read one span's prompt and answer; whether it changed."""
        # One pass, left at the first aitrail prompt key: a span carrying one is never changed, whatever follows
        # (the SDK's spans name theirs a third of the way in, so most of their attributes are never read).
        attributes: dict[str, str] = {}
        for kv in span.attributes:
            key = kv.key
            if key in ALREADY_READ:
                return False
            if key in _READ:
                attributes[key] = _string(kv.value)  # the last of duplicate keys wins, as in the stored row
        if not _is_generation(attributes) or _assistants_own(span, scope, attributes):
            return False
        events = [e for e in span.events if e.name in MESSAGE_EVENTS]
        prompt = answer = ""
        for event in events:
            asked, answered = _event_texts(event.name, {kv.key: _string(kv.value) for kv in event.attributes})
            prompt, answer = asked or prompt, answered or answer
        prompt = _text(attributes.get(INPUT_MESSAGES) or attributes.get(v.GEN_AI_PROMPT, ""), "user") or prompt
        answer = _text(attributes.get(OUTPUT_MESSAGES) or attributes.get(COMPLETION, ""), None) or answer
        if not (prompt or answer):
            return self.derive and _add(span.attributes, {v.KIND: v.KIND_MODEL_CALL})
        removed = False
        if self.policy != "full" and prompt:
            removed = _keep(span.attributes, lambda kv: kv.key not in MESSAGE_ATTRIBUTES)
            removed = _keep(span.events, lambda e: e.name not in MESSAGE_EVENTS) or removed
        return _add(span.attributes, self._content(prompt, answer)) or removed

    def _record(self, record: Any) -> bool:
        """Read one log record's prompt and answer; whether it changed."""
        name = _event_name(record)
        if name not in MESSAGE_EVENTS or any(kv.key in ALREADY_READ for kv in record.attributes):
            return False
        prompt, answer = _event_texts(name, {kv.key: _string(kv.value) for kv in record.attributes}, _body(record))
        removed = False
        if self.policy != "full":
            removed = record.HasField("body")
            record.ClearField("body")
            removed = _keep(record.attributes, lambda kv: kv.key not in MESSAGE_ATTRIBUTES) or removed
        return _add(record.attributes, self._content(prompt, answer)) or removed
