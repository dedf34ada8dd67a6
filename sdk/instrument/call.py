"""One tracked model call: what a provider's request and answer say (prompt, models, tokens, ids), and the
streams handed back in place of the client's, which end the generation when they end."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aitrail.sdk import vocabulary as v
from aitrail.sdk.track import Generation, track

log = logging.getLogger("aitrail.sdk")

_ORIGINAL = "_aitrail_original"
"""The attribute of a wrapper that holds what it wraps."""


@dataclass(frozen=True)
class Options:
    """What the caller chose in ``instrument_*``."""

    assistant: str = "sdk"
    capture_response: bool | None = None


@dataclass
class Answer:
    """What the response (or the stream's events) said, gathered as it arrives."""

    id: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    finish_reasons: dict[int, str] = field(default_factory=dict)
    text: list[str] | None = None
    """The answer's text in pieces; None when it is not to be recorded (then it is not gathered either)."""


@dataclass(frozen=True)
class Provider:
    """How one client library is read: the provider's name, its stream types, its response and event shapes."""

    name: str
    stream_types: tuple[type, ...]
    async_stream_types: tuple[type, ...]
    read_response: Callable[[Answer, Any], None]
    read_event: Callable[[Answer, Any], None]
    input_includes_cache: bool = False
    """OpenAI counts cached tokens in the input; Anthropic reports them beside it."""


def get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a response object or of a plain dict (requests are dicts, responses are models)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def last_user_text(messages: Any) -> str | None:
    """The text of the last user message that has any: content is a string or a list of content blocks."""
    if not isinstance(messages, (list, tuple)):  # never consume a one-shot iterable the client still needs
        return None
    for message in reversed(messages):
        if get(message, "role") != "user":
            continue
        content = get(message, "content")
        if isinstance(content, str):
            return content
        if isinstance(content, (list, tuple)):
            texts = [get(block, "text") for block in content if get(block, "type") in ("text", "input_text")]
            texts = [t for t in texts if isinstance(t, str)]
            if texts:
                return "\n".join(texts)
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Call:
    """One instrumented API call: a generation that is open from the request to the end of the answer.

    The generation is entered in a copy of the caller's context, so its span is
    a child of whatever the caller is tracking but never becomes the caller's
    current span, even while a stream it returned is still being read.
    """

    def __init__(self, provider: Provider, options: Options, request: Mapping[str, Any]) -> None:
        self.provider, self.options = provider, options
        self.answer = Answer(text=[] if keeps_text(options.capture_response) else None)
        self.finished = False
        model = request.get("model")
        model = model if isinstance(model, str) else None
        self._track = track(assistant=options.assistant, prompt=last_user_text(request.get("messages")),
                            model=model, provider=provider.name, name=f"chat {model}" if model else "chat")
        self._context = contextvars.copy_context()
        self.generation: Generation = self._context.run(self._track.__enter__)

    @classmethod
    def start(cls, provider: Provider, options: Options, request: Mapping[str, Any]) -> Call | None:
        try:
            return cls(provider, options, request)
        except Exception:  # noqa: BLE001 - never into the caller
            log.debug("aitrail: could not start tracking a %s call", provider.name, exc_info=True)
            return None

    def read(self, reader: Callable[[Answer, Any], None], item: Any) -> None:
        try:
            reader(self.answer, item)
        except Exception:  # noqa: BLE001
            log.debug("aitrail: could not read a %s response", self.provider.name, exc_info=True)

    def returned(self, result: Any) -> Any:
        """The call returned: a stream is handed back wrapped (the generation ends with it), anything else ends it now."""
        try:
            if isinstance(result, self.provider.stream_types):
                return TrackedStream(result, self)
            if isinstance(result, self.provider.async_stream_types):
                return TrackedAsyncStream(result, self)
            self.read(self.provider.read_response, result)
        except Exception:  # noqa: BLE001
            log.debug("aitrail: could not follow a %s response", self.provider.name, exc_info=True)
        self.finish()
        return result

    def finish(self, exc: BaseException | None = None) -> None:
        """End the generation with what the answer said (once; later calls do nothing)."""
        if self.finished:
            return
        self.finished = True
        try:
            self._record(exc)
        except Exception:  # noqa: BLE001
            log.debug("aitrail: could not record a %s answer", self.provider.name, exc_info=True)
        try:
            self._context.run(self._track.__exit__, type(exc) if exc else None, exc, exc.__traceback__ if exc else None)
        except Exception:  # noqa: BLE001
            log.debug("aitrail: could not finish a %s call", self.provider.name, exc_info=True)

    def _record(self, exc: BaseException | None) -> None:
        answer, generation = self.answer, self.generation
        if answer.model:
            generation.set_model(answer.model)
        if answer.input_tokens is not None or answer.output_tokens is not None:
            cached = 0 if self.provider.input_includes_cache else (answer.cache_read_tokens or 0) + (
                answer.cache_creation_tokens or 0)
            generation.usage((answer.input_tokens or 0) + cached, answer.output_tokens or 0)
        attributes = {
            v.GEN_AI_RESPONSE_ID: answer.id,
            v.GEN_AI_RESPONSE_FINISH_REASONS: [answer.finish_reasons[i] for i in sorted(answer.finish_reasons)] or None,
            v.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: answer.cache_read_tokens,
            v.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: answer.cache_creation_tokens,
            v.ERROR_TYPE: type(exc).__qualname__ if exc is not None else None,
        }
        for key, value in attributes.items():
            if value is not None:
                generation.set(key, value)
        if answer.text:
            generation.set(v.RESPONSE_TEXT, response_text("".join(answer.text)))


def keeps_text(capture: bool | None) -> bool:
    """Whether the answer's text is recorded: ``capture_response`` None follows the code policy (the policy for
    what a model wrote; ``none``, the default, records nothing), True records it whatever that says, False never."""
    if capture is None:
        from aitrail.sdk.runtime import runtime

        return runtime().code_policy != "none"
    return capture


def response_text(text: str) -> str:
    """The answer's text as the policy allows: secrets always redacted, personal data too unless the code policy
    is ``full``."""
    from aitrail.sdk.redact import redact
    from aitrail.sdk.runtime import runtime

    return redact(text, personal=runtime().code_policy != "full").text


class _Proxy:
    """Stands in for the library's stream object: everything not overridden goes to it (``isinstance`` too)."""

    __slots__ = ("_aitrail_call", "_aitrail_stream")

    def __init__(self, stream: Any, call: Call) -> None:
        object.__setattr__(self, "_aitrail_stream", stream)
        object.__setattr__(self, "_aitrail_call", call)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105 - isinstance(stream, anthropic.Stream) stays true
        return type(self._aitrail_stream)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_aitrail_"):  # not yet set (a half-built proxy): no recursion
            raise AttributeError(name)
        return getattr(self._aitrail_stream, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._aitrail_stream, name, value)

    def __repr__(self) -> str:
        return repr(self._aitrail_stream)

    def __del__(self) -> None:  # dropped without being read to the end or closed
        try:
            self._aitrail_call.finish()
        except Exception:  # noqa: BLE001
            pass


class Ending:
    """Around reading a stream, sync or async: when an exception leaves it, the call ends — cleanly when it is
    ``end`` (the stream ran out, or the reader stopped reading), with the error otherwise. The exception goes on."""

    __slots__ = ("call", "end")

    def __init__(self, call: Call, end: type[BaseException]) -> None:
        self.call, self.end = call, end

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if kind is not None:
            self.call.finish(None if issubclass(kind, self.end) else exc)
        return False


class TrackedStream(_Proxy):
    """A sync stream whose events are read into the generation; it ends at exhaustion, close or error."""

    __slots__ = ()

    def __iter__(self) -> Any:
        call = self._aitrail_call
        with Ending(call, GeneratorExit):
            for item in self._aitrail_stream:
                call.read(call.provider.read_event, item)
                yield item
        call.finish()

    def __next__(self) -> Any:
        call = self._aitrail_call
        with Ending(call, StopIteration):
            item = next(self._aitrail_stream)
        call.read(call.provider.read_event, item)
        return item

    def __enter__(self) -> TrackedStream:
        self._aitrail_stream.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Any:
        try:
            return self._aitrail_stream.__exit__(exc_type, exc, tb)
        finally:
            self._aitrail_call.finish(exc)

    def close(self) -> None:
        try:
            self._aitrail_stream.close()
        finally:
            self._aitrail_call.finish()


class TrackedAsyncStream(_Proxy):
    """An async stream whose events are read into the generation; it ends at exhaustion, close or error."""

    __slots__ = ()

    async def __aiter__(self) -> Any:
        call = self._aitrail_call
        with Ending(call, GeneratorExit):
            async for item in self._aitrail_stream:
                call.read(call.provider.read_event, item)
                yield item
        call.finish()

    async def __anext__(self) -> Any:
        call = self._aitrail_call
        with Ending(call, StopAsyncIteration):
            item = await self._aitrail_stream.__anext__()
        call.read(call.provider.read_event, item)
        return item

    async def __aenter__(self) -> TrackedAsyncStream:
        await self._aitrail_stream.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Any:
        try:
            return await self._aitrail_stream.__aexit__(exc_type, exc, tb)
        finally:
            self._aitrail_call.finish(exc)

    async def close(self) -> None:
        try:
            await self._aitrail_stream.close()
        finally:
            self._aitrail_call.finish()
