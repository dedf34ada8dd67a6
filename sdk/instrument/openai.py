"""The official ``openai`` client: ``chat.completions.create`` (plain and ``stream=True``; ``.stream()`` uses it).

Imported only by :func:`aitrail.sdk.instrument.instrument_openai`; the
``openai`` package is the caller's, never aitrail's dependency. A stream
reports usage only when the caller asked for it
(``stream_options={"include_usage": True}``): aitrail never changes the request.
"""

from __future__ import annotations

from typing import Any

from aitrail.sdk.instrument.call import Answer, Options, Provider, _int, get
from aitrail.sdk.instrument.patching import Target
from aitrail.sdk.instrument.patching import instrument as _instrument
from aitrail.sdk.instrument.patching import uninstrument as _uninstrument


def _read_usage(answer: Answer, usage: Any) -> None:
    if usage is None:
        return
    answer.input_tokens = _int(get(usage, "prompt_tokens"))
    answer.output_tokens = _int(get(usage, "completion_tokens"))
    answer.cache_read_tokens = _int(get(get(usage, "prompt_tokens_details"), "cached_tokens")) or None


def _read(answer: Answer, response: Any, part: str) -> None:
    choices = get(response, "choices")
    if not isinstance(choices, list):  # not a completion (a raw HTTP response, say)
        return
    answer.id = get(response, "id") or answer.id
    answer.model = get(response, "model") or answer.model
    _read_usage(answer, get(response, "usage"))
    for choice in choices:
        index = get(choice, "index") or 0
        if reason := get(choice, "finish_reason"):
            answer.finish_reasons[index] = reason
        if index == 0 and answer.text is not None and isinstance(text := get(get(choice, part), "content"), str):
            answer.text.append(text)


def read_completion(answer: Answer, completion: Any) -> None:
    """A ``ChatCompletion``: the whole answer."""
    _read(answer, completion, "message")


def read_chunk(answer: Answer, chunk: Any) -> None:
    """A ``ChatCompletionChunk``: a piece of the first choice's text, finish reasons, usage in the last one."""
    _read(answer, chunk, "delta")


def provider() -> Provider:
    import openai

    return Provider("openai", (openai.Stream,), (openai.AsyncStream,), read_completion, read_chunk,
                    input_includes_cache=True)


def targets() -> list[Target]:
    from openai.resources.chat.completions import AsyncCompletions, Completions

    return [Target(Completions, "create", is_async=False), Target(AsyncCompletions, "create", is_async=True)]


def _completions(client: Any, target: Target) -> Any:
    return client.chat.completions


def instrument(client: Any, options: Options) -> Any:
    return _instrument(client, targets, _completions, provider, options)


def uninstrument(client: Any) -> None:
    _uninstrument(client, targets, _completions)
