"""``aitrail wrap -- claude -p "..."``: record what any command-line assistant did to the working tree.

The wrapper never touches the repository: no stash, no index change, no
commit. It reads the working tree (tracked files and untracked files that are
not ignored, as ``git ls-files -co --exclude-standard`` lists them) into
memory before the assistant runs and again after it exits, and records the
difference as generations through the SDK — one per changed file, so one row
per file in ``ai_generations``:

* a changed file: the lines added relative to the file before the run;
* a new file: all of its lines;
* a deleted file: nothing added, its lines removed;
* a renamed file (same content, or at least 50 % similar, under a new path
  while the old path vanished): recorded under the new path, counted against
  the old content, with :data:`~aitrail.sdk.vocabulary.RENAMED_FROM`.

Changes already in the working tree before the run (uncommitted work) are not
attributed: only the difference between the two snapshots is. Binary files
(a NUL byte in the first 8000 bytes, or not UTF-8) and files over 1 MiB are
skipped, as are symbolic links and submodules.

The assistant runs with the wrapper's standard input, output and error
(nothing is captured or altered); its exit status is returned (128+N when a
signal N killed it) and recorded as ``process.exit.code``; SIGTERM (and
SIGINT/SIGHUP not already delivered by the terminal) are forwarded to it. Its
environment tells assistants with native OpenTelemetry (Claude Code, Gemini
CLI, anything honouring ``OTEL_*``) to report to the same collector,
correlated with the wrapper's span — see :func:`child_environment`.

Nothing here ever stops the assistant from running: when aitrail itself
fails, the command still runs and its status is still returned.
"""

from __future__ import annotations

import logging
import os
import random
import shlex
import sys
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from aitrail.errors import AssistantExited
from aitrail.sdk import vocabulary as v
from aitrail.sdk.git import git_context
from aitrail.sdk.wrap.assistants import assistant_name, recognise_model, recognise_prompt, recognise_session
from aitrail.sdk.wrap.child import child_environment, run
from aitrail.sdk.wrap.snapshot import Change, Snapshot, changes, snapshot

log = logging.getLogger("aitrail.sdk")

# --- recording -----------------------------------------------------------------------------


def _say(message: str) -> None:
    try:
        print(f"aitrail: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _random_id(bits: int) -> int:
    return random.getrandbits(bits) or 1


class _Recording:
    """The wrapper's side of one run: the snapshot before, the span ids, then the generations.

    The generations go through the SDK's own finisher (``aitrail.sdk.track``),
    which creates their spans with the ids chosen here — so the child can be
    given its ``TRACEPARENT`` before it starts — and with the run's start and
    end times, each with its own attributes (``aitrail.code.renamed_from``).
    """

    def __init__(self, runtime: Any, cwd: str, assistant: str, prompt: str | None, model: str | None,
                 session_id: str | None) -> None:
        self.cwd, self.assistant, self.prompt, self.model, self.session_id = cwd, assistant, prompt, model, session_id
        self.runtime = runtime
        self.git = git_context(cwd)
        self.before: Snapshot | None = None
        if self.git is None:
            _say(f"{cwd} is not in a git repository: recording this run without file changes")
        else:
            self.before = snapshot(self.git.root)
            if self.before is None:
                _say(f"could not list the files of {self.git.root}: recording this run without file changes")
        self.parent = otel_context.get_current()  # the caller's current span, if any
        if os.environ.get("TRACEPARENT"):  # a traced caller (CI, a script): the wrapper joins its trace
            carrier = {"traceparent": os.environ["TRACEPARENT"], "tracestate": os.environ.get("TRACESTATE", "")}
            self.parent = TraceContextTextMapPropagator().extract(carrier)
        outer = trace.get_current_span(self.parent).get_span_context()
        self.own_trace = not outer.is_valid
        trace_id = _random_id(128) if self.own_trace else outer.trace_id
        self.span_context = SpanContext(trace_id, _random_id(64), False, TraceFlags(TraceFlags.SAMPLED))
        self.name = f"generation {assistant}"
        self.start_ns = time.time_ns()
        self.span_ids: list[str] = []

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        from aitrail.sdk.context import context_attributes

        who = context_attributes(self.runtime.settings, self.cwd).attributes
        env = child_environment(base, self.span_context, session_id=self.session_id, settings=self.runtime.settings,
                                git=self.git, identity=who)
        # Claude Code reports each file it writes itself (the collector derives those rows): ask it for the details
        # the derivation needs, and record this run's file changes as observations rather than counting them twice.
        self.native = self.assistant == "claude-code" and env.get("CLAUDE_CODE_ENABLE_TELEMETRY") == "1" and env.get(
            "OTEL_LOGS_EXPORTER") == "otlp"
        if self.native:
            for key in ("OTEL_LOG_USER_PROMPTS", "OTEL_LOG_TOOL_DETAILS"):
                env.setdefault(key, "1")
        return env

    def finish(self, status: int) -> list[Change]:
        from aitrail.sdk.track import Facts, Generation, finisher

        end_ns = time.time_ns()
        found: list[Change] = []
        if self.git is not None and self.before is not None:
            after = snapshot(self.git.root, previous=self.before)
            if after is None:
                _say(f"could not list the files of {self.git.root} after the run: no file changes recorded")
            else:
                found = changes(self.before, after)
        common: dict[str, Any] = {v.PROCESS_EXIT_CODE: status}
        if getattr(self, "native", False):
            common[v.KIND] = v.KIND_OBSERVED
        if self.git is not None:
            common[v.REPO_ROOT] = str(self.git.root)  # for the assistant's own events, should their resource lose it
            if self.git.commit:
                common[v.VCS_REF_HEAD_REVISION] = self.git.commit  # where the work started, even if the assistant committed
        error = AssistantExited(f"{self.assistant} exited with status {status}") if status != 0 else None
        inside = trace.set_span_in_context(trace.NonRecordingSpan(self.span_context))
        for i, change in enumerate(found or [None]):
            attributes = dict(common)
            if change is not None and change.renamed_from is not None:
                attributes[v.RENAMED_FROM] = change.renamed_from
            first = i == 0  # the run's own span (the child's TRACEPARENT); further files are its children
            span_context = self.span_context if first else SpanContext(
                self.span_context.trace_id, _random_id(64), False, TraceFlags(TraceFlags.SAMPLED))
            facts = Facts(
                assistant=self.assistant, prompt=self.prompt, model=self.model, provider=None,
                session_id=self.session_id, cwd=self.cwd, attributes=attributes, name=self.name,
                parent=self.parent if first else inside,
                trace_id=self.span_context.trace_id if first and self.own_trace else None,
                span_id=span_context.span_id, start_ns=self.start_ns, error=error,
            )
            generation = Generation(span_context, facts)
            self.span_ids.append(format(span_context.span_id, "016x"))
            if change is not None:
                assert self.git is not None
                generation.record_edit(os.path.join(self.git.root, change.path), change.after, old_text=change.before)
            finisher().submit(self.runtime, generation, end_ns)
        return found


SCAN_WAIT = 5.0
"""Seconds ``aitrail wrap`` waits, after the assistant exits, for the generation-time scan of what it wrote."""


def _warn_of_findings(recording: _Recording) -> None:
    """Say in one line which findings the generation-time scan made in what the run wrote (bounded wait)."""
    from aitrail.sdk.accountability.scan import scanner, warning
    from aitrail.sdk.track import finisher

    if not recording.runtime.settings.scans() or not recording.span_ids:
        return
    finisher().flush(SCAN_WAIT)
    found = scanner()
    found.wait(SCAN_WAIT)
    message = warning(found.findings_of(recording.span_ids))
    if message:
        _say(message)


def wrap(command: list[str], prompt: str | None = None, assistant: str | None = None, model: str | None = None,
         cwd: str | os.PathLike[str] | None = None, *, session_id: str | None = None) -> int:
    """Run an assistant's command line and record what it changed; returns its exit status.

    ``prompt``, ``model`` and ``session_id`` default to what the command line
    says (:func:`recognise_prompt`, :func:`recognise_model`,
    :func:`recognise_session`), ``assistant`` to the executable's name
    (:func:`assistant_name`). The generations are handed to the SDK's
    background finisher; call :func:`aitrail.flush` before the process ends.
    """
    command = list(command)
    if not command:
        raise ValueError("wrap needs a command to run")
    where = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
    name = assistant or assistant_name(command)
    if not os.path.isdir(where):
        _say(f"cannot run {shlex.join(command[:1])}: no such directory {where}")
        return 127
    recording: _Recording | None = None
    env: dict[str, str] = dict(os.environ)
    try:
        from aitrail.sdk.runtime import runtime

        rt = runtime()
        if not rt.settings.is_disabled():  # AITRAIL_DISABLED: a plain pass-through, nothing read, nothing recorded
            recording = _Recording(
                rt, where, name,
                prompt if prompt is not None else recognise_prompt(command, name),
                model if model is not None else recognise_model(command, name),
                session_id if session_id is not None else recognise_session(command, name),
            )
            env = recording.environment(os.environ)
    except Exception as exc:  # noqa: BLE001 - the assistant runs whatever happens to aitrail
        log.debug("aitrail: could not prepare the recording", exc_info=True)
        _say(f"not recording this run ({type(exc).__name__}: {exc})")
        recording = None
    try:
        status = run(command, cwd=where, env=env)
    except OSError as exc:
        _say(f"cannot run {shlex.join(command[:1])}: {exc.strerror or exc}")
        return 126 if isinstance(exc, PermissionError) else 127  # the span is never ended, so never sent
    if recording is not None:
        try:
            recording.finish(status)
            _warn_of_findings(recording)
        except Exception as exc:  # noqa: BLE001
            log.debug("aitrail: could not record the run", exc_info=True)
            _say(f"could not record this run ({type(exc).__name__}: {exc})")
    return status


__all__ = ["wrap"]
