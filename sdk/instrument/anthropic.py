"""The official ``anthropic`` client: ``messages.create`` (plain and ``stream=True``) and ``messages.stream``.

Imported only by :func:`aitrail.sdk.instrument.instrument_anthropic`; the
``anthropic`` package is the caller's, never aitrail's dependency.
"""

from __future__ import annotations

from typing import Any

from aitrail.sdk.instrument.call import Answer, Options, Provider, _int, get
from aitrail.sdk.instrument.patching import Target
from aitrail.sdk.instrument.patching import instrument as _instrument
from aitrail.sdk.instrument.patching import uninstrument as _uninstrument

_USAGE = (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
          ("cache_read_input_tokens", "cache_read_tokens"), ("cache_creation_input_tokens", "cache_creation_tokens"))


def _read_usage(answer: Answer, usage: Any) -> None:
    # message_start carries the input, message_delta the (cumulative) output and sometimes the input again.
    for source, name in _USAGE:
        value = _int(get(usage, source))
        if value is not None:
            setattr(answer, name, value)


def read_message(answer: Answer, message: Any) -> None:
    """A ``Message`` (the whole answer, or the empty one a stream starts with)."""
    content = get(message, "content")
    if not isinstance(content, list):  # not a Message (a raw HTTP response, say)
        return
    answer.id = get(message, "id") or answer.id
    answer.model = get(message, "model") or answer.model
    _read_usage(answer, get(message, "usage"))
    if stop := get(message, "stop_reason"):
        answer.finish_reasons[0] = stop
    if answer.text is not None:
        answer.text.extend(t for block in content if get(block, "type") == "text" and isinstance(t := get(block, "text"), str))


def read_event(answer: Answer, event: Any) -> None:
    """One streamed event: message_start, content_block_delta, message_delta (the rest say nothing we keep)."""
    kind = get(event, "type")
    if kind == "message_start":
        read_message(answer, get(event, "message"))
    elif kind == "content_block_delta" and answer.text is not None:
        delta = get(event, "delta")
        if get(delta, "type") == "text_delta" and isinstance(text := get(delta, "text"), str):
            answer.text.append(text)
    elif kind == "message_delta":
        if stop := get(get(event, "delta"), "stop_reason"):
            answer.finish_reasons[0] = stop
        _read_usage(answer, get(event, "usage"))


def provider() -> Provider:
    import anthropic

    return Provider("anthropic", (anthropic.Stream,), (anthropic.AsyncStream,), read_message, read_event)


def targets() -> list[Target]:
    from anthropic.resources.messages import AsyncMessages, Messages

    return [Target(Messages, "create", is_async=False), Target(AsyncMessages, "create", is_async=True),
            Target(Messages, "stream", is_async=False, stream_helper=True),
            Target(AsyncMessages, "stream", is_async=True, stream_helper=True)]


def _messages(client: Any, target: Target) -> Any:
    return client.messages


def instrument(client: Any, options: Options) -> Any:
    return _instrument(client, targets, _messages, provider, options)


def uninstrument(client: Any) -> None:
    _uninstrument(client, targets, _messages)
