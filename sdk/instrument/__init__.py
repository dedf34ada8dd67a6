"""One-line instrumentation of the official model clients: every API call becomes a generation.

::

    import anthropic, aitrail
    from aitrail.sdk.instrument import instrument_anthropic

    client = instrument_anthropic(anthropic.Anthropic())   # this client only
    instrument_anthropic()                                  # or every client, sync and async

``instrument_openai`` does the same for ``openai.OpenAI`` / ``AsyncOpenAI``
(``chat.completions.create``, and so ``chat.completions.stream``); for
Anthropic ``messages.create`` and ``messages.stream`` are covered.

Each call is tracked with :class:`aitrail.track`: the last user message's
text is the prompt, plus the model asked for and the one that answered,
token usage, the response id and finish reasons; a failed call is recorded
as an error and its exception re-raised unchanged. A streamed answer is
handed back as the same stream (iterate it, ``async for`` it, use it as a
context manager, ``get_final_message()``) and the generation ends when the
stream does: exhausted, closed, failed or dropped.

The clients are imported lazily: aitrail does not require them. Nothing here
ever breaks the call: an internal failure is logged at debug level and the
call's result or exception passes through untouched.
"""

from __future__ import annotations

from typing import Any

from aitrail.sdk.instrument.call import Options

# --- the public API (the client libraries are imported only when asked for) ----------


def instrument_anthropic(client: Any = None, *, assistant: str = "sdk", capture_response: bool | None = None) -> Any:
    """Track every ``messages.create`` / ``messages.stream`` of ``client`` (``Anthropic`` or ``AsyncAnthropic``),
    or of every client when None. Returns the client. ``capture_response``: see :func:`aitrail.sdk.instrument.call.keeps_text`."""
    from aitrail.sdk.instrument import anthropic as module

    return module.instrument(client, Options(assistant, capture_response))


def uninstrument_anthropic(client: Any = None) -> None:
    """Undo :func:`instrument_anthropic` for ``client``, or for the classes when None."""
    from aitrail.sdk.instrument import anthropic as module

    module.uninstrument(client)


def instrument_openai(client: Any = None, *, assistant: str = "sdk", capture_response: bool | None = None) -> Any:
    """Track every ``chat.completions.create`` (and so ``chat.completions.stream``) of ``client`` (``OpenAI`` or
    ``AsyncOpenAI``), or of every client when None. Returns the client."""
    from aitrail.sdk.instrument import openai as module

    return module.instrument(client, Options(assistant, capture_response))


def uninstrument_openai(client: Any = None) -> None:
    """Undo :func:`instrument_openai` for ``client``, or for the classes when None."""
    from aitrail.sdk.instrument import openai as module

    module.uninstrument(client)


__all__ = ["instrument_anthropic", "instrument_openai", "uninstrument_anthropic", "uninstrument_openai"]
