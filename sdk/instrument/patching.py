"""Putting the tracking around a client's methods and taking it off again: on the class (every client) or on
one instance, sync and async, calls and stream helpers; the original is kept so nothing is wrapped twice."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


log = logging.getLogger("aitrail.sdk")
from aitrail.sdk.instrument.call import _ORIGINAL, Call, Options, Provider, TrackedAsyncStream, TrackedStream, _Proxy

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
