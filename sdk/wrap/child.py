"""The wrapped assistant's process: its environment (the collector to report to, correlated with the
wrapper's span, and who it works for) and running it with the terminal, signals forwarded, the exit status
returned."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote

from opentelemetry import trace
from opentelemetry.trace import SpanContext
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from aitrail.sdk import vocabulary as v
from aitrail.sdk.git import GitContext


DEFAULT_OTLP_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_OTLP_PROTOCOL = "http/protobuf"


# --- the child's environment ----------------------------------------------------------


def _otlp_target(settings: Any, env: Mapping[str, str]) -> tuple[str, str]:
    """(endpoint, protocol) aitrail itself exports to: configure() arguments, then OTEL_* variables, then defaults."""
    protocol = (getattr(settings, "protocol", None) or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or DEFAULT_OTLP_PROTOCOL)
    endpoint = getattr(settings, "endpoint", None) or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint:
        traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
        if traces.rstrip("/").endswith("/v1/traces"):
            endpoint = traces.rstrip("/")[: -len("/v1/traces")]
    if not endpoint:
        endpoint = DEFAULT_OTLP_ENDPOINT.replace("4318", "4317") if protocol == "grpc" else DEFAULT_OTLP_ENDPOINT
    return endpoint.rstrip("/"), protocol


def _resource_keys(value: str) -> set[str]:
    return {unquote(item.split("=", 1)[0]).strip() for item in value.split(",") if "=" in item}


_BAGGAGE_SAFE = "!#$&'()*+-./:<=>?@[]^_`{|}~"
"""Printable ASCII that a baggage value may hold as is (everything but space, ``"``, ``,``, ``;``, ``\\`` and ``%``)."""


def child_environment(base: Mapping[str, str], span_context: SpanContext | None = None, *,
                      session_id: str | None = None, settings: Any = None,
                      git: GitContext | None = None, identity: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a wrapped assistant: ``base`` plus what makes its native telemetry land next to ours.

    Set unless ``base`` already has them (a variable the user set explicitly
    is never overridden): ``CLAUDE_CODE_ENABLE_TELEMETRY=1``,
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_PROTOCOL`` (where
    aitrail exports, default http://127.0.0.1:4318 and http/protobuf),
    ``OTEL_EXPORTER_OTLP_HEADERS`` (when aitrail was configured with headers),
    ``OTEL_TRACES_EXPORTER`` / ``OTEL_LOGS_EXPORTER`` / ``OTEL_METRICS_EXPORTER=otlp``,
    Gemini CLI's ``GEMINI_TELEMETRY_*`` equivalents, and ``TRACEPARENT`` of
    the wrapper's span. ``OTEL_RESOURCE_ATTRIBUTES`` is extended, not
    replaced, with ``aitrail.wrap.trace_id``, ``session.id`` (when known) and
    the repository (``aitrail.repo.root``, ``vcs.repository.url.full``,
    ``vcs.ref.head.name``, ``vcs.ref.head.revision``: native telemetry sends
    absolute paths and no repository), and the person and team of ``identity``
    (``user.id``, ``user.email``, ``user.name``, ``aitrail.team``: the assistant
    knows an opaque id at best, and the author is the point of the record), each
    only if not already there (a team the user named with an alias, ``team=``,
    is kept as the team).
    """
    env = dict(base)
    endpoint, protocol = _otlp_target(settings, base)
    defaults = {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "GEMINI_TELEMETRY_ENABLED": "true",
        "GEMINI_TELEMETRY_TARGET": "local",
        "GEMINI_TELEMETRY_OTLP_ENDPOINT": endpoint,
        "GEMINI_TELEMETRY_OTLP_PROTOCOL": "grpc" if protocol == "grpc" else "http",
    }
    headers = getattr(settings, "headers", None)
    if headers:
        defaults["OTEL_EXPORTER_OTLP_HEADERS"] = ",".join(f"{quote(str(k))}={quote(str(val))}" for k, val in headers.items())
    for key, value in defaults.items():
        env.setdefault(key, value)

    extra: dict[str, str] = {}
    if span_context is not None and span_context.is_valid:
        extra[v.WRAP_TRACE_ID] = format(span_context.trace_id, "032x")
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier, trace.set_span_in_context(trace.NonRecordingSpan(span_context)))
        if "traceparent" in carrier:
            env.setdefault("TRACEPARENT", carrier["traceparent"])
            if carrier.get("tracestate"):
                env.setdefault("TRACESTATE", carrier["tracestate"])
    if session_id:
        extra[v.SESSION_ID] = session_id
    if git is not None:
        repository = {v.REPO_ROOT: str(git.root), v.VCS_REPOSITORY_URL_FULL: git.repository,
                      v.VCS_REF_HEAD_NAME: git.branch, v.VCS_REF_HEAD_REVISION: git.commit}
        extra.update({key: value for key, value in repository.items() if value})
    existing = env.get("OTEL_RESOURCE_ATTRIBUTES", "").strip().strip(",")
    have = _resource_keys(existing)
    for key in (v.USER_ID, v.USER_EMAIL, v.USER_NAME, v.TEAM):
        if (identity or {}).get(key) and not (key == v.TEAM and have & set(v.TEAM_ALIASES)):
            extra[key] = str(identity[key])
    # Encode only what W3C baggage forbids in a value: some assistants (Codex) pass the rest on undecoded.
    added = [f"{key}={quote(value, safe=_BAGGAGE_SAFE)}" for key, value in extra.items() if key not in have]
    if added:
        env["OTEL_RESOURCE_ATTRIBUTES"] = ",".join(([existing] if existing else []) + added)
    return env


# --- running the child -------------------------------------------------------------------


def _exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _terminal_fd() -> int | None:
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return fd
        except OSError:
            pass
    return None


def run(command: Sequence[str], cwd: str | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run ``command`` with inherited standard streams, forwarding signals; its exit status (128+N for signal N).

    SIGTERM is always forwarded. SIGINT and SIGHUP are forwarded unless the
    wrapper is in the terminal's foreground process group: then the terminal
    already delivered them to the child (same group), and sending them again
    would make an assistant that asks "press Ctrl-C again to exit" quit.
    Raises OSError when the command cannot be started.
    """
    tty = _terminal_fd()
    children: list[subprocess.Popen[bytes]] = []
    pending: list[int] = []  # signals that arrived before the child existed

    def forward(signum: int, _frame: Any) -> None:
        if signum != signal.SIGTERM and tty is not None and hasattr(os, "tcgetpgrp"):
            try:
                if os.tcgetpgrp(tty) == os.getpgrp():
                    return
            except OSError:
                pass
        if not children:
            pending.append(signum)
            return
        try:
            children[0].send_signal(signum)
        except OSError:
            pass

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            try:
                previous[signum] = signal.signal(signum, forward)
            except (ValueError, OSError):
                pass
    try:
        proc = subprocess.Popen(list(command), cwd=cwd, env=dict(env) if env is not None else None)
    except BaseException:
        _restore(previous)
        raise
    children.append(proc)
    for signum in pending:
        forward(signum, None)
    try:
        while True:
            try:
                return _exit_status(proc.wait())
            except KeyboardInterrupt:  # only when our handler could not be installed
                try:
                    proc.send_signal(signal.SIGINT)
                except OSError:
                    pass
    finally:
        _restore(previous)


def _restore(handlers: Mapping[int, Any]) -> None:
    for signum, handler in handlers.items():
        try:
            signal.signal(signum, handler)
        except (ValueError, OSError, TypeError):
            pass
