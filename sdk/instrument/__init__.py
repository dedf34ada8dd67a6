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

import contextvars
import functools
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


class TrackedStream(_Proxy):
    """A sync stream whose events are read into the generation; it ends at exhaustion, close or error."""

    __slots__ = ()

    def __iter__(self) -> Any:
        call = self._aitrail_call
        try:
            for item in self._aitrail_stream:
                call.read(call.provider.read_event, item)
                yield item
        except GeneratorExit:
            call.finish()
            raise
        except BaseException as exc:
            call.finish(exc)
            raise
        call.finish()

    def __next__(self) -> Any:
        call = self._aitrail_call
        try:
            item = next(self._aitrail_stream)
        except StopIteration:
            call.finish()
            raise
        except BaseException as exc:
            call.finish(exc)
            raise
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
        try:
            async for item in self._aitrail_stream:
                call.read(call.provider.read_event, item)
                yield item
        except GeneratorExit:
            call.finish()
            raise
        except BaseException as exc:
            call.finish(exc)
            raise
        call.finish()

    async def __anext__(self) -> Any:
        call = self._aitrail_call
        try:
            item = await self._aitrail_stream.__anext__()
        except StopAsyncIteration:
            call.finish()
            raise
        except BaseException as exc:
            call.finish(exc)
            raise
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


# --- wrapping and patching ----------------------------------------------------------


def wrap_call(original: Callable[..., Any], provider: Provider, options: Options, *, is_async: bool) -> Callable[..., Any]:
    """``create`` (sync or async) as one tracked generation; result and exceptions pass through untouched."""
    if is_async:
        @functools.wraps(original)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            call = Call.start(provider, options, kwargs)
            if call is None:
                return await original(*args, **kwargs)
            try:
                result = await original(*args, **kwargs)
            except BaseException as exc:
                call.finish(exc)
                raise
            return call.returned(result)

        wrapper: Callable[..., Any] = async_wrapper
    else:
        @functools.wraps(original)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            call = Call.start(provider, options, kwargs)
            if call is None:
                return original(*args, **kwargs)
            try:
                result = original(*args, **kwargs)
            except BaseException as exc:
                call.finish(exc)
                raise
            return call.returned(result)

        wrapper = sync_wrapper
    setattr(wrapper, _ORIGINAL, original)
    return wrapper


def wrap_stream_helper(original: Callable[..., Any], provider: Provider, options: Options, *,
                       is_async: bool) -> Callable[..., Any]:
    """A ``stream()`` helper that returns a context manager around the raw stream (``client.messages.stream``)."""

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        manager = original(*args, **kwargs)
        try:
            return (AsyncStreamManager if is_async else StreamManager)(manager, provider, options, kwargs)
        except Exception:  # noqa: BLE001
            log.debug("aitrail: could not follow a %s stream", provider.name, exc_info=True)
            return manager

    setattr(wrapper, _ORIGINAL, original)
    return wrapper


class _ManagerBase:
    def __init__(self, manager: Any, provider: Provider, options: Options, request: Mapping[str, Any]) -> None:
        self._manager, self._provider, self._options, self._request = manager, provider, options, dict(request)
        self._call: Call | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)

    def _follow(self, helper: Any, tracked: type[_Proxy]) -> None:
        """Put the tracked raw stream under the library's stream helper (it reads ``_raw_stream``)."""
        call = self._call
        if call is None:
            return
        try:
            raw = helper._raw_stream
            if isinstance(raw, _Proxy):
                return
            helper._raw_stream = tracked(raw, call)
        except Exception:  # noqa: BLE001 - a helper of another shape: record the call without its answer
            log.debug("aitrail: could not follow a %s stream helper", self._provider.name, exc_info=True)
            call.finish()


class StreamManager(_ManagerBase):
    """``with client.messages.stream(...) as stream:``: the request is made on entry, the generation ends with it."""

    def __enter__(self) -> Any:
        self._call = Call.start(self._provider, self._options, self._request)
        try:
            helper = self._manager.__enter__()
        except BaseException as exc:
            if self._call is not None:
                self._call.finish(exc)
            raise
        self._follow(helper, TrackedStream)
        return helper

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Any:
        if exc is not None and self._call is not None:
            self._call.finish(exc)
        try:
            return self._manager.__exit__(exc_type, exc, tb)
        finally:
            if self._call is not None:
                self._call.finish()


class AsyncStreamManager(_ManagerBase):
    """``async with client.messages.stream(...) as stream:``, as :class:`StreamManager`."""

    async def __aenter__(self) -> Any:
        self._call = Call.start(self._provider, self._options, self._request)
        try:
            helper = await self._manager.__aenter__()
        except BaseException as exc:
            if self._call is not None:
                self._call.finish(exc)
            raise
        self._follow(helper, TrackedAsyncStream)
        return helper

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Any:
        if exc is not None and self._call is not None:
            self._call.finish(exc)
        try:
            return await self._manager.__aexit__(exc_type, exc, tb)
        finally:
            if self._call is not None:
                self._call.finish()


@dataclass(frozen=True)
class Target:
    """One method to wrap: on a resource class (globally) or on a client's resource instance."""

    cls: type
    method: str
    is_async: bool
    stream_helper: bool = False

    def wrapper(self, original: Callable[..., Any], provider: Provider, options: Options) -> Callable[..., Any]:
        wrap = wrap_stream_helper if self.stream_helper else wrap_call
        return wrap(original, provider, options, is_async=self.is_async)


def patch_class(target: Target, provider: Provider, options: Options) -> None:
    """Wrap the method on its class (again with new options if already wrapped; never twice)."""
    current = vars(target.cls).get(target.method)
    if current is None:
        return
    original = getattr(current, _ORIGINAL, current)
    setattr(target.cls, target.method, target.wrapper(original, provider, options))


def unpatch_class(target: Target) -> None:
    current = vars(target.cls).get(target.method)
    original = getattr(current, _ORIGINAL, None)
    if original is not None:
        setattr(target.cls, target.method, original)


def patch_instance(resource: Any, target: Target, provider: Provider, options: Options) -> None:
    """Wrap the method on one resource object; a class already wrapped globally is left to do the work."""
    own = vars(resource).get(target.method)
    if own is not None:
        original = getattr(own, _ORIGINAL, own)
    else:
        original = getattr(resource, target.method)
        if hasattr(original, _ORIGINAL):  # the class is instrumented: wrapping again would count the call twice
            return
    setattr(resource, target.method, target.wrapper(original, provider, options))


def unpatch_instance(resource: Any, target: Target) -> None:
    own = vars(resource).get(target.method)
    if own is not None and hasattr(own, _ORIGINAL):
        delattr(resource, target.method)


def instrument(client: Any, targets: Callable[[], list[Target]], resource_of: Callable[[Any, Target], Any],
               provider: Callable[[], Provider], options: Options) -> Any:
    """Instrument one client's resources, or (client None) the classes."""
    try:
        spec = provider()
        for target in targets():
            if client is None:
                patch_class(target, spec, options)
            else:
                resource = resource_of(client, target)
                if isinstance(resource, target.cls):
                    patch_instance(resource, target, spec, options)
    except Exception:  # noqa: BLE001 - instrumentation never breaks the program
        log.debug("aitrail: could not instrument %r", client, exc_info=True)
    return client


def uninstrument(client: Any, targets: Callable[[], list[Target]], resource_of: Callable[[Any, Target], Any]) -> None:
    try:
        for target in targets():
            if client is None:
                unpatch_class(target)
            else:
                resource = resource_of(client, target)
                if isinstance(resource, target.cls):
                    unpatch_instance(resource, target)
    except Exception:  # noqa: BLE001
        log.debug("aitrail: could not uninstrument %r", client, exc_info=True)


# --- the public API (the client libraries are imported only when asked for) ----------


def instrument_anthropic(client: Any = None, *, assistant: str = "sdk", capture_response: bool | None = None) -> Any:
    """Track every ``messages.create`` / ``messages.stream`` of ``client`` (``Anthropic`` or ``AsyncAnthropic``),
    or of every client when None. Returns the client. ``capture_response``: see :func:`keeps_text`."""
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
