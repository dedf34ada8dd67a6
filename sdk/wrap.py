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

import difflib
import logging
import os
import random
import shlex
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from aitrail.errors import AssistantExited
from aitrail.sdk import vocabulary as v
from aitrail.sdk.git import GitContext, git_context, run_git

log = logging.getLogger("aitrail.sdk")

MAX_FILE_BYTES = 1 << 20
"""Files larger than this are not read (and so never attributed)."""
BINARY_SNIFF_BYTES = 8000
"""A NUL byte within the first this-many bytes makes a file binary (git's rule)."""
RENAME_SIMILARITY = 0.5
"""A vanished file and a new one at least this similar (shared bytes / larger size) are one renamed file."""
RENAME_PAIR_LIMIT = 10_000
"""Beyond this many (vanished x new) pairs, only identical contents count as renames (like git's renameLimit)."""
RACY_SECONDS = 2.0
"""A file modified this close to the first snapshot is re-read even when its stat did not change."""
LIST_TIMEOUT = 60.0
"""Seconds ``git ls-files`` may take on a large repository."""

ASSISTANTS = {"claude": "claude-code", "codex": "codex", "gemini": "gemini-cli", "aider": "aider"}
"""Executable name -> assistant name as aitrail spells it (else the executable's name)."""
NOT_ASSISTANTS = frozenset({
    "sh", "bash", "zsh", "dash", "ksh", "fish", "pwsh", "powershell", "cmd", "env", "sudo", "time", "nice", "xargs",
    "python", "python3", "node", "npx", "bun", "deno", "ruby", "perl", "make", "uv", "uvx", "pipx",
})
"""Shells, interpreters and launchers: what they run is not known from their name, so the assistant is
``unknown`` (name it with ``aitrail wrap --assistant NAME``) rather than, say, ``sh``."""

DEFAULT_OTLP_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_OTLP_PROTOCOL = "http/protobuf"


# --- recognising the assistant, its prompt and model ----------------------------


def assistant_name(command: Sequence[str]) -> str:
    """``claude`` -> ``claude-code``, ``/usr/bin/gemini`` -> ``gemini-cli``, ``codex.exe`` -> ``codex``; a shell or
    interpreter (``sh -c ...``, ``python agent.py``) -> ``unknown``; else the basename."""
    if not command:
        return "unknown"
    base = command[0].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or command[0]
    stem = base
    for suffix in (".exe", ".cmd", ".bat", ".ps1", ".js", ".mjs", ".py", ".sh"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if stem.lower() in NOT_ASSISTANTS or stem.lower().startswith("python"):
        return "unknown"
    return ASSISTANTS.get(stem.lower(), stem)


@dataclass(frozen=True)
class _Grammar:
    """Enough of an assistant's command line to find its prompt, model and session."""

    value_options: frozenset[str]
    """Options that take a value (the next argument, or ``--opt=value``)."""
    prompt_options: tuple[str, ...] = ()
    """Options whose value is the prompt."""
    model_options: tuple[str, ...] = ()
    session_options: tuple[str, ...] = ()
    positional_prompt: bool = True
    """Whether the first positional argument is the prompt."""
    subcommands: frozenset[str] = frozenset()
    """First positional arguments that are commands, not prompts."""
    prompt_subcommands: frozenset[str] = frozenset()
    """Subcommands after which the next positional argument is the prompt (``codex exec "..."``)."""


_CLAUDE = _Grammar(
    value_options=frozenset({
        "--model", "--fallback-model", "--output-format", "--input-format", "--allowedTools", "--allowed-tools",
        "--disallowedTools", "--disallowed-tools", "--tools", "--append-system-prompt", "--system-prompt",
        "--system-prompt-file", "--append-system-prompt-file", "--permission-mode", "--permission-prompt-tool",
        "--max-turns", "--mcp-config", "--session-id", "--settings", "--setting-sources", "--agents", "--agent",
        "--add-dir", "--plugin-dir", "--betas", "--max-budget-usd", "--json-schema", "--debug-file",
    }),
    model_options=("--model",),
    session_options=("--session-id",),
    subcommands=frozenset({"mcp", "config", "update", "doctor", "install", "migrate-installer", "setup-token",
                           "plugin", "api-key"}),
)
_CODEX = _Grammar(
    value_options=frozenset({
        "-m", "--model", "-c", "--config", "-p", "--profile", "-s", "--sandbox", "-a", "--ask-for-approval",
        "-C", "--cd", "-i", "--image", "--add-dir", "-o", "--output-last-message", "--color", "--output-schema",
        "--local-provider", "--enable", "--disable",
    }),
    model_options=("-m", "--model"),
    subcommands=frozenset({"login", "logout", "mcp", "mcp-server", "app-server", "completion", "debug", "sandbox",
                           "apply", "a", "resume", "cloud", "features", "help", "proto"}),
    prompt_subcommands=frozenset({"exec", "e"}),
)
_GEMINI = _Grammar(
    value_options=frozenset({
        "-p", "--prompt", "-i", "--prompt-interactive", "-m", "--model", "--approval-mode", "-e", "--extensions",
        "--include-directories", "--allowed-mcp-server-names", "--allowed-tools", "-o", "--output-format",
        "--proxy", "--telemetry-target", "--telemetry-otlp-endpoint", "--telemetry-otlp-protocol",
        "--telemetry-outfile", "--sandbox-image", "-r", "--resume",
    }),
    prompt_options=("-p", "--prompt", "-i", "--prompt-interactive"),
    model_options=("-m", "--model"),
    subcommands=frozenset({"mcp", "extensions", "extension"}),
)
_AIDER = _Grammar(
    value_options=frozenset({
        "-m", "--message", "--msg", "-f", "--message-file", "--model", "--weak-model", "--editor-model",
        "--edit-format", "--api-key", "--set-env", "--read", "--file", "--config", "-c", "--env-file",
        "--openai-api-key", "--anthropic-api-key", "--chat-language", "--map-tokens", "--lint-cmd", "--test-cmd",
    }),
    prompt_options=("-m", "--message", "--msg"),
    model_options=("--model",),
    positional_prompt=False,  # aider's positional arguments are files
)
_GRAMMARS = {"claude-code": _CLAUDE, "codex": _CODEX, "gemini-cli": _GEMINI, "aider": _AIDER}


@dataclass
class _Parsed:
    options: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    positionals: list[str] = field(default_factory=list)


def _parse(args: Sequence[str], grammar: _Grammar) -> _Parsed:
    parsed = _Parsed()
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            parsed.positionals.extend(args[i + 1 :])
            break
        if arg.startswith("-") and arg != "-":
            name, eq, value = arg.partition("=")
            if eq and name.startswith("--"):
                parsed.options[name].append(value)
            elif name in grammar.value_options and i + 1 < len(args):
                parsed.options[name].append(args[i + 1])
                i += 1
            elif (len(arg) > 2 and not arg.startswith("--") and arg[:2] in grammar.value_options):
                parsed.options[arg[:2]].append(arg[2:])  # -mgpt-5
            else:
                parsed.options[name].append("")
        else:
            parsed.positionals.append(arg)
        i += 1
    return parsed


def _first(parsed: _Parsed, names: Iterable[str]) -> str | None:
    for name in names:
        for value in parsed.options.get(name, ()):
            if value.strip():
                return value
    return None


def _grammar(command: Sequence[str], assistant: str | None) -> _Grammar | None:
    return _GRAMMARS.get(assistant or assistant_name(command)) or _GRAMMARS.get(assistant_name(command))


def recognise_prompt(command: Sequence[str], assistant: str | None = None) -> str | None:
    """The prompt in an assistant's command line, when it has one there; None otherwise.

    ``claude [-p|--print] "..."`` (the first positional argument), ``codex exec "..."`` and ``codex "..."``,
    ``gemini -p/--prompt "..."`` (or ``-i``, or a positional query), ``aider --message/-m "..."`` (or
    ``--message-file``). A prompt read from standard input (``-``), a subcommand (``claude mcp``) or an
    unknown assistant gives None.
    """
    grammar = _grammar(command, assistant)
    if grammar is None or not command:
        return None
    parsed = _parse(list(command[1:]), grammar)
    prompt = _first(parsed, grammar.prompt_options)
    if prompt is None and grammar is _AIDER:
        path = _first(parsed, ("-f", "--message-file"))
        if path:
            prompt = _read_small(path)
    if prompt is None and grammar.positional_prompt and parsed.positionals:
        head, rest = parsed.positionals[0], parsed.positionals[1:]
        if head in grammar.prompt_subcommands:
            if rest and rest[0] == "resume":  # codex exec resume [SESSION] [PROMPT]
                rest = rest[2:] if len(rest) > 2 or not parsed.options.get("--last") else rest[1:]
            prompt = rest[0] if rest else None
        elif head not in grammar.subcommands:
            prompt = head
    if prompt is None or prompt == "-" or not prompt.strip():
        return None
    return prompt


def recognise_model(command: Sequence[str], assistant: str | None = None) -> str | None:
    """The model an assistant's command line asks for (``--model``, ``-m`` where it means the model), else None."""
    grammar = _grammar(command, assistant)
    if grammar is None or not command:
        return None
    return _first(_parse(list(command[1:]), grammar), grammar.model_options)


def recognise_session(command: Sequence[str], assistant: str | None = None) -> str | None:
    """The session id an assistant's command line fixes (``claude --session-id <uuid>``), else None."""
    grammar = _grammar(command, assistant)
    if grammar is None or not command or not grammar.session_options:
        return None
    return _first(_parse(list(command[1:]), grammar), grammar.session_options)


def _read_small(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        return data.decode("utf-8") if len(data) <= MAX_FILE_BYTES else None
    except (OSError, UnicodeDecodeError):
        return None


# --- snapshots of the working tree ------------------------------------------------


_Signature = tuple[int, int, int, int, int]


@dataclass
class Snapshot:
    """The text files of a working tree at one moment, in memory (paths relative to ``root``, POSIX)."""

    root: Path
    files: dict[str, str] = field(default_factory=dict)
    """path -> text, for every readable text file."""
    skipped: set[str] = field(default_factory=set)
    """Paths present but not read: binary, too large, not a regular file, unreadable."""
    signatures: dict[str, _Signature] = field(default_factory=dict)
    taken_ns: int = 0


def _signature(st: os.stat_result) -> _Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def list_files(root: Path | str) -> list[str] | None:
    """Tracked files and untracked files that are not ignored (``git ls-files -co --exclude-standard``)."""
    out = run_git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", timeout=LIST_TIMEOUT)
    if out is None:
        return None
    return list(dict.fromkeys(p for p in out.split("\0") if p))  # unmerged paths are listed once per stage


def snapshot(root: Path | str, previous: Snapshot | None = None) -> Snapshot | None:
    """Read the working tree of ``root``; None when git cannot list it.

    With ``previous`` (the snapshot before), a file whose stat did not change
    and was not modified near that snapshot is taken from it without being
    read again; files listed then but no longer listed (newly ignored) are
    still looked at, so they do not pass for deleted.
    """
    root = Path(root)
    paths = list_files(root)
    if paths is None:
        return None
    if previous is not None:
        listed = set(paths)
        paths.extend(p for p in list(previous.files) + sorted(previous.skipped) if p not in listed)
    snap = Snapshot(root=root, taken_ns=time.time_ns())
    racy_before = (previous.taken_ns - int(RACY_SECONDS * 1e9)) if previous is not None else 0
    for rel in paths:
        full = os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except OSError:
            continue  # listed in the index but gone from the working tree: absent
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            snap.skipped.add(rel)
            continue
        sig = _signature(st)
        if (previous is not None and previous.signatures.get(rel) == sig and rel in previous.files
                and st.st_mtime_ns < racy_before):
            snap.files[rel] = previous.files[rel]
            snap.signatures[rel] = sig
            continue
        text = _read_text(full)
        if text is None:
            snap.skipped.add(rel)
        else:
            snap.files[rel] = text
            snap.signatures[rel] = sig
    return snap


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_FILE_BYTES or b"\0" in data[:BINARY_SNIFF_BYTES]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Change:
    """One file the run changed: its text before (None: it did not exist) and after (None: deleted)."""

    path: str
    before: str | None
    after: str | None
    renamed_from: str | None = None

    @property
    def kind(self) -> str:
        if self.renamed_from is not None:
            return "renamed"
        if self.before is None:
            return "added"
        return "deleted" if self.after is None else "modified"


def changes(before: Snapshot, after: Snapshot) -> list[Change]:
    """What changed between two snapshots of one working tree, sorted by path (renames paired)."""
    ignored = before.skipped | after.skipped
    old = {p: t for p, t in before.files.items() if p not in ignored}
    new = {p: t for p, t in after.files.items() if p not in ignored}
    gone = {p: old[p] for p in old.keys() - new.keys()}
    born = {p: new[p] for p in new.keys() - old.keys()}
    renames = pair_renames(gone, born)
    out = [Change(p, old[p], new[p]) for p in old.keys() & new.keys() if old[p] != new[p]]
    out.extend(Change(p, gone[src], born[p], renamed_from=src) for p, src in renames.items())
    paired = set(renames.values())
    out.extend(Change(p, None, t) for p, t in born.items() if p not in renames)
    out.extend(Change(p, t, None) for p, t in gone.items() if p not in paired)
    return sorted(out, key=lambda c: c.path)


def similarity(a: str, b: str) -> float:
    """Shared content of two texts, as git measures renames: bytes of common lines / size of the larger."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    larger = max(len(a), len(b))
    if min(len(a), len(b)) < RENAME_SIMILARITY * larger:
        return 0.0
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, la, lb, autojunk=False)
    common = sum(sum(len(line) for line in la[i : i + n]) for i, _, n in matcher.get_matching_blocks())
    return common / larger


def pair_renames(gone: Mapping[str, str], born: Mapping[str, str]) -> dict[str, str]:
    """new path -> old path for files that moved: identical content first, then the most similar (>= 50 %)."""
    pairs: dict[str, str] = {}
    by_text: dict[str, list[str]] = defaultdict(list)
    for path in sorted(gone):
        if gone[path]:  # empty files are alike without being renames
            by_text[gone[path]].append(path)
    for path in sorted(born):
        sources = by_text.get(born[path])
        if sources:
            same_name = [s for s in sources if os.path.basename(s) == os.path.basename(path)]
            source = (same_name or sources)[0]
            sources.remove(source)
            pairs[path] = source
    left_gone = [p for p in sorted(gone) if p not in pairs.values() and gone[p]]
    left_born = [p for p in sorted(born) if p not in pairs and born[p]]
    if not left_gone or not left_born or len(left_gone) * len(left_born) > RENAME_PAIR_LIMIT:
        return pairs
    scored = []
    for new in left_born:
        for old in left_gone:
            score = similarity(gone[old], born[new])
            if score >= RENAME_SIMILARITY:
                same_name = os.path.basename(old) == os.path.basename(new)
                scored.append((score, same_name, new, old))
    scored.sort(key=lambda s: (-s[0], not s[1], s[2], s[3]))
    used: set[str] = set()
    for _, _, new, old in scored:
        if new not in pairs and old not in used:
            pairs[new] = old
            used.add(old)
    return pairs


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
        if self.git is not None and self.git.commit:
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


__all__ = [
    "Change", "Snapshot", "assistant_name", "changes", "child_environment", "pair_renames", "recognise_model",
    "recognise_prompt", "recognise_session", "run", "similarity", "snapshot", "wrap",
]
