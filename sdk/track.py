"""Tracking one AI generation: ``with aitrail.track(...) as gen:`` or ``@aitrail.track(...)``.

The caller's thread only draws the span's ids (so work nested inside the
block sees its parent), notes what happened (edits, usage, decision) and
hands the lot to a background finisher, which creates and ends the real span
with those ids; redaction, hashing, diffing, fingerprinting, git and identity
lookups happen there too, off the hot path. Nothing aitrail does ever raises into the caller: an internal failure
is logged and counted, and the caller's own exceptions are recorded on the
span and re-raised untouched.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context as OtelContext
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from aitrail.sdk import vocabulary as v
from aitrail.sdk.background import Worker
from aitrail.sdk.runtime import Runtime, runtime

log = logging.getLogger("aitrail.sdk")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _EditNote:
    path: str
    new_text: str | None
    old_text: str | None
    diff: str | None


@dataclass
class Facts:
    """What the caller told us; turned into attributes on the finisher thread.

    Shared with :mod:`aitrail.sdk.wrap`, whose runs become generations the same way (not public API).
    """

    assistant: str
    prompt: str | None
    model: str | None
    provider: str | None
    session_id: str | None
    cwd: str
    attributes: dict[str, Any]
    name: str = "generation"
    parent: OtelContext | None = None
    trace_id: int | None = None  # None: a root span, the finisher primes this id
    span_id: int = 0
    start_ns: int = 0
    error: BaseException | None = None
    edits: list[_EditNote] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    decision: str | None = None
    response_model: str | None = None


class Generation:
    """The handle inside ``track``: tell it what the assistant wrote, what it cost, what the person decided."""

    def __init__(self, span_context: SpanContext, facts: Facts) -> None:
        self.span_context = span_context
        self._facts = facts

    def record_edit(self, path: str | os.PathLike[str], new_text: str | None = None, *,
                    old_text: str | None = None, diff: str | None = None) -> None:
        """The assistant wrote ``new_text`` to ``path`` (all of it is AI's), or changed ``old_text`` into
        ``new_text`` (only the difference is AI's), or produced a unified ``diff`` (path then is a hint)."""
        self._facts.edits.append(_EditNote(os.fspath(path), new_text, old_text, diff))

    def usage(self, input_tokens: int = 0, output_tokens: int = 0, cost: float | None = None) -> None:
        """Tokens and cost in US dollars; calling it again adds up (several model calls, one generation)."""
        facts = self._facts
        facts.input_tokens = (facts.input_tokens or 0) + int(input_tokens)
        facts.output_tokens = (facts.output_tokens or 0) + int(output_tokens)
        if cost is not None:
            facts.cost = (facts.cost or 0.0) + float(cost)

    def decision(self, value: str) -> None:
        """``accepted`` or ``rejected``: what the person did with the generation."""
        if value not in (v.DECISION_ACCEPTED, v.DECISION_REJECTED):
            log.warning("aitrail: decision %r is neither accepted nor rejected; recorded as given", value)
        self._facts.decision = value

    def set_model(self, response_model: str) -> None:
        """The model that actually answered (may differ from the one asked for)."""
        self._facts.response_model = response_model

    def set(self, key: str, value: Any) -> None:
        """Any further attribute (use vocabulary names)."""
        self._facts.attributes[key] = value


class track:  # noqa: N801 - used like a function: aitrail.track(...)
    """Track one generation, as a context manager (sync or async) or a decorator.

    Nested tracks become child spans; each is async-safe (OpenTelemetry
    context lives in contextvars).
    """

    def __init__(self, assistant: str = "sdk", prompt: str | None = None, model: str | None = None, *,
                 provider: str | None = None, session_id: str | None = None, name: str | None = None,
                 cwd: str | os.PathLike[str] | None = None, **attributes: Any) -> None:
        self._args = dict(assistant=assistant, prompt=prompt, model=model, provider=provider,
                          session_id=session_id, cwd=os.fspath(cwd) if cwd else None, attributes=attributes)
        self._name = name or f"generation {assistant}"
        self._state: list[tuple[Generation | None, object | None]] = []

    # -- context manager ---------------------------------------------------------------
    def __enter__(self) -> Generation:
        generation, token = _start(self._name, self._args)
        self._state.append((generation, token))
        return generation if generation is not None else _NULL

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        generation, token = self._state.pop()
        _finish(generation, token, exc)

    async def __aenter__(self) -> Generation:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- decorator ---------------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        name, args = self._name, self._args
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_wrapper(*a: Any, **kw: Any) -> Any:
                async with track(**_kwargs(name, args)):
                    return await fn(*a, **kw)
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            with track(**_kwargs(name, args)):
                return fn(*a, **kw)
        return wrapper  # type: ignore[return-value]


def _kwargs(name: str, args: dict[str, Any]) -> dict[str, Any]:
    out = {k: val for k, val in args.items() if k != "attributes"}
    out.update(args["attributes"])
    out["name"] = name
    return out


class _NullGeneration(Generation):
    """Handed out when aitrail itself failed: every call is accepted and ignored."""

    def __init__(self) -> None:
        super().__init__(trace.INVALID_SPAN_CONTEXT, Facts("", None, None, None, None, "", {}))

    def record_edit(self, *a: Any, **kw: Any) -> None:
        pass


_NULL = _NullGeneration()


def _start(name: str, args: dict[str, Any]) -> tuple[Generation | None, object | None]:
    try:
        parent = otel_context.get_current()
        outer = trace.get_current_span(parent).get_span_context()
        trace_id = outer.trace_id if outer.is_valid else random.getrandbits(128) or 1
        span_context = SpanContext(trace_id, random.getrandbits(64) or 1, False, TraceFlags(TraceFlags.SAMPLED))
        token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(span_context), parent))
        facts = Facts(
            assistant=args["assistant"], prompt=args["prompt"], model=args["model"], provider=args["provider"],
            session_id=args["session_id"], cwd=args["cwd"] or os.getcwd(), attributes=dict(args["attributes"]),
            name=name, parent=parent, trace_id=None if outer.is_valid else trace_id,
            span_id=span_context.span_id, start_ns=time.time_ns(),
        )
        return Generation(span_context, facts), token
    except Exception:  # noqa: BLE001 - never into the caller
        log.debug("aitrail: could not start tracking", exc_info=True)
        return None, None


def _finish(generation: Generation | None, token: object | None, exc: BaseException | None) -> None:
    if generation is None:
        return
    try:
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]
        generation._facts.error = exc
        finisher().submit(runtime(), generation, time.time_ns())
    except Exception:  # noqa: BLE001
        log.debug("aitrail: could not finish tracking", exc_info=True)


class Finisher:
    """One background thread that turns facts into attributes and ends spans (bounded; overflow is counted)."""

    def __init__(self, max_queue: int = 10_000) -> None:
        self._worker: Worker[tuple[Runtime, Generation, int]] = Worker("aitrail-finisher", self._finish, max_queue)

    def submit(self, rt: Runtime, generation: Generation, end_ns: int) -> None:
        if not self._worker.submit((rt, generation, end_ns)):
            rt.stats.add(dropped=1)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far is finished."""
        return self._worker.wait(timeout)

    @staticmethod
    def _finish(item: tuple[Runtime, Generation, int]) -> None:
        rt, generation, end_ns = item
        try:
            emit(rt, generation, end_ns)
        except Exception:  # noqa: BLE001
            rt.stats.add(dropped=1)
            log.debug("aitrail: could not record a generation", exc_info=True)


_finisher: Finisher | None = None
_finisher_lock = threading.Lock()


def finisher() -> Finisher:
    global _finisher
    if _finisher is None:
        with _finisher_lock:
            if _finisher is None:
                _finisher = Finisher()
    return _finisher


def flush(timeout: float = 5.0) -> bool:
    """Finish every tracked generation and export it now (tests, short-lived scripts, before exit)."""
    done = finisher().flush(timeout)
    from aitrail.sdk.accountability import scan

    if scan._scanner is not None:  # findings of the generations just finished go with them
        done = scan._scanner.wait(timeout) and done
    return runtime().flush(int(timeout * 1000)) and done


def emit(rt: Runtime, generation: Generation, end_ns: int) -> None:
    """Set every attribute of a finished generation and end its span; one extra span per further file."""
    from aitrail.sdk.context import context_attributes
    from aitrail.sdk.edits import Edit, attributes as edit_attributes, edit_from_texts, edits_from_diff
    from aitrail.sdk.journal import Entry, Journal
    from aitrail.sdk.policy import code_attributes, prompt_attributes

    facts = generation._facts
    rt.ids.prime(facts.trace_id, facts.span_id)
    span = rt.tracer.start_span(facts.name, context=facts.parent, start_time=facts.start_ns)
    if facts.error is not None:
        span.record_exception(facts.error)
        span.set_status(Status(StatusCode.ERROR, f"{type(facts.error).__name__}: {facts.error}"))
    common: dict[str, Any] = {v.KIND: v.KIND_GENERATION, v.ASSISTANT: facts.assistant}
    optional = {
        v.GEN_AI_REQUEST_MODEL: facts.model, v.GEN_AI_RESPONSE_MODEL: facts.response_model,
        v.GEN_AI_PROVIDER_NAME: facts.provider, v.SESSION_ID: facts.session_id,
    }
    common.update({k: val for k, val in optional.items() if val is not None})
    if facts.model or facts.provider:
        common[v.GEN_AI_OPERATION_NAME] = "chat"
    common.update(prompt_attributes(facts.prompt, rt.prompt_policy, rt.salt))
    first_path = next((note.path for note in facts.edits if note.diff is None), None)
    ctx = context_attributes(rt.settings, facts.cwd, first_path)
    common.update(ctx.attributes)
    common.update(facts.attributes)

    edits: list[tuple[Edit, str | None]] = []
    for note in facts.edits:
        path = ctx.relative(note.path)
        if note.diff is not None:
            edits.extend((e, None) for e in edits_from_diff(note.diff))
        else:
            edits.append((edit_from_texts(path, note.old_text, note.new_text), note.new_text))

    usage: dict[str, Any] = {}
    if facts.input_tokens is not None:
        usage[v.GEN_AI_USAGE_INPUT_TOKENS] = facts.input_tokens
        usage[v.GEN_AI_USAGE_OUTPUT_TOKENS] = facts.output_tokens or 0
    if facts.cost is not None:
        usage[v.COST_USD] = facts.cost
    if facts.decision is not None:
        common[v.DECISION] = facts.decision

    span.set_attributes(common)
    span.set_attributes(usage)
    if edits:
        first, first_text = edits[0]
        span.set_attributes(edit_attributes(first))
        span.set_attributes(code_attributes(first_text, rt.code_policy))
    # One row per file in ai_generations: further files get sibling spans (usage counted once, on the first).
    parent = trace.set_span_in_context(span)
    written = [(span, *edits[0])] if edits else []
    for edit, text in edits[1:]:
        extra = rt.tracer.start_span(facts.name, context=parent, start_time=facts.start_ns)
        extra.set_attributes(common)
        extra.set_attributes(edit_attributes(edit))
        extra.set_attributes(code_attributes(text, rt.code_policy))
        extra.end(end_time=end_ns)
        written.append((extra, edit, text))
    span.end(end_time=end_ns)
    if rt.settings.scans():
        _scan(rt, written, ctx.attributes)

    if rt.settings.journal and edits:
        sc = span.get_span_context()
        Journal().append(
            Entry(time=time.time(), repo=ctx.repo_root, path=edit.path, fingerprints=tuple(edit.fingerprints),
                  trace_id=format(sc.trace_id, "032x"), span_id=format(sc.span_id, "016x"),
                  assistant=facts.assistant, model=facts.response_model or facts.model or "")
            for edit, _ in edits
        )


def _scan(rt: Runtime, written: list[tuple[Any, Any, str | None]], place: dict[str, Any]) -> None:
    """Hand what each span's file now says to the generation-time scanner (its own thread)."""
    from aitrail.sdk.accountability.scan import ScanJob, scanner

    keep = (v.VCS_REPOSITORY_URL_FULL, v.VCS_REF_HEAD_NAME, v.VCS_REF_HEAD_REVISION, v.TEAM)
    attributes = {key: place[key] for key in keep if place.get(key)}
    for span, edit, text in written:
        if text is None or not edit.ranges:
            continue  # a diff without the file's text, or nothing added: nothing to scan
        sc = span.get_span_context()
        scanner().submit(rt, ScanJob(format(sc.trace_id, "032x"), format(sc.span_id, "016x"),
                                     ((edit.path, text, edit.ranges),), attributes))


__all__ = ["Generation", "flush", "track"]
