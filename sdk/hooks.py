"""Git hooks: attribute each commit's lines to AI or human, from the local journal, at commit time.

``aitrail hook install`` puts a ``post-commit`` hook (and with ``--trailer`` a
``prepare-commit-msg`` hook) in the repository's hooks directory — the one
``core.hooksPath`` names, else ``.git/hooks``. A hook already there is kept,
byte for byte, under ``<name>.pre-aitrail`` and called first (with the same
arguments; its exit status is the hook's), then aitrail runs.
``aitrail hook uninstall`` moves the original back (or removes aitrail's hook
when there was none), so the hooks directory is exactly as it was.

At commit time, every line HEAD adds (against its first parent; a root commit
against the empty tree; renames detected, so a moved file adds only what
changed) is looked up by fingerprint in the local journal of generations
(:class:`aitrail.sdk.journal.Journal`, only entries for this repository): a
match is an AI line, anything else a human one. **Blank and trivial lines**
(``}``, ``);``, under 3 characters — see :mod:`aitrail.sdk.fingerprint`)
**have no fingerprint and are counted in neither the numerator nor the
denominator**: "12/20 lines" means 12 of the commit's 20 fingerprinted added
lines. A line a person types that is identical (but for surrounding white
space) to one an assistant wrote recently in the same repository counts as
AI's: fingerprints identify text, not keystrokes.

The commit becomes one span (``aitrail.kind=commit``) with the commit id, its
parents, repository, branch, author (``user.email``, ``user.name``), committer, lines added, AI
lines, per-file detail, the assistants and the message's trailers, linked to
the generation spans whose lines it contains. The optional
``prepare-commit-msg`` hook adds ``AI-Assisted: <ai>/<added> lines
(<assistants>)`` to the message when staged lines match the journal.

A hook never fails and never holds a commit for long: every error is one line
on standard error, the exit status is always 0, and sending waits at most
:data:`FLUSH_TIMEOUT` seconds.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitrail.errors import HookError, NotInRepository
from aitrail.sdk import vocabulary as v
from aitrail.sdk.edits import edits_from_diff
from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.git import GitFailed, git
from aitrail.sdk.identity import resolve_identity
from aitrail.sdk.journal import Entry, Journal

log = logging.getLogger("aitrail.sdk")

POST_COMMIT = "post-commit"
PREPARE_COMMIT_MSG = "prepare-commit-msg"
PRE_PUSH = "pre-push"
"""Runs ``aitrail check`` on what a push sends, and stops the push when a commit misses its sign-offs."""
HOOKS = (POST_COMMIT, PREPARE_COMMIT_MSG, PRE_PUSH)
"""Every hook aitrail may install."""

MARKER = "# aitrail-hook: installed by `aitrail hook install`; `aitrail hook uninstall` restores what was here"
"""The line that marks a hook file as aitrail's."""
BACKUP_SUFFIX = ".pre-aitrail"
"""The original hook is kept next to aitrail's under this suffix, and called first."""

TRAILER = "AI-Assisted"
"""The commit message trailer of ``aitrail hook install --trailer``."""
FLUSH_TIMEOUT = 2.0
"""Seconds a hook waits for its span to be sent."""
HOOK_GIT_TIMEOUT = 10.0
"""Seconds one git call of a hook may take: diffs of large commits take longer than the SDK's context lookups."""
MAX_LINKS = 32
"""Generation spans a commit span links to, at most."""


# --- git -----------------------------------------------------------------------------------


def _git(cwd: Path | str, *args: str, index: bool = False, check: bool = True) -> str:
    """stdout of ``git <args>`` in ``cwd`` (:func:`aitrail.sdk.git.git`), a failure a :class:`HookError`."""
    try:
        out = git(cwd, *args, index=index, check=check, timeout=HOOK_GIT_TIMEOUT)
    except GitFailed as exc:
        raise HookError(str(exc)) from None
    return out.decode("utf-8", "surrogateescape")


def repository_root(repo: Path | str = ".") -> Path:
    """The top of the working tree around ``repo`` (as the journal records it)."""
    from aitrail.sdk.git import git_context

    ctx = git_context(repo)
    if ctx is None:
        raise NotInRepository(f"{os.path.abspath(repo)} is not in a git repository")
    return ctx.root


def hooks_dir(repo: Path | str = ".") -> Path:
    """The directory git runs hooks from: ``core.hooksPath`` when set, else ``.git/hooks`` (worktrees share it)."""
    root = repository_root(repo)
    found = _git(root, "rev-parse", "--git-path", "hooks").strip()
    return (root / found).resolve() if not os.path.isabs(found) else Path(found)


# --- install / uninstall ------------------------------------------------------------------


@dataclass(frozen=True)
class HookChange:
    """What install or uninstall did to one hook."""

    hook: str
    path: Path
    action: str
    """installed, chained (an original kept and called first), updated, restored, removed, absent, unchanged."""


def _is_ours(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return MARKER.encode() in handle.read(4096)
    except OSError:
        return False


def hook_script(hook: str, python: str | None = None) -> str:
    """The text of aitrail's hook ``hook``: call the original (if kept), then aitrail, never failing the commit
    (the pre-push hook's status is the check's: it is there to stop a push)."""
    python = python or sys.executable
    original = f'"$(dirname "$0")/{hook}{BACKUP_SUFFIX}"'
    if hook == PRE_PUSH:
        return _pre_push_script(python, original)
    run_aitrail = (
        f"if [ -x {shlex.quote(python)} ]; then\n"
        f"    {shlex.quote(python)} -m aitrail.sdk.hooks {hook} \"$@\" || true\n"
        f"elif command -v aitrail >/dev/null 2>&1; then\n"
        f"    aitrail hook run {hook} \"$@\" || true\n"
        f"fi\n"
    )
    stop_on_failure = 'if [ "$status" -ne 0 ]; then exit "$status"; fi\n' if hook == PREPARE_COMMIT_MSG else ""
    return (
        "#!/bin/sh\n"
        f"{MARKER}\n"
        f"# The hook that was here before (if any) is kept as {hook}{BACKUP_SUFFIX} and runs first.\n"
        "status=0\n"
        f"if [ -x {original} ]; then\n"
        f"    {original} \"$@\"\n"
        "    status=$?\n"
        "fi\n"
        f"{stop_on_failure}"
        f"{run_aitrail}"
        'exit "$status"\n'
    )


def _pre_push_script(python: str, original: str) -> str:
    """The pre-push hook: the refs git gives on standard input reach both the original hook and aitrail."""
    feed = 'printf \'%s\\n\' "$refs" | '
    return (
        "#!/bin/sh\n"
        f"{MARKER}\n"
        f"# The hook that was here before (if any) is kept as {PRE_PUSH}{BACKUP_SUFFIX} and runs first.\n"
        "refs=$(cat)\n"
        f"if [ -x {original} ]; then\n"
        f"    {feed}{original} \"$@\" || exit $?\n"
        "fi\n"
        f"if [ -x {shlex.quote(python)} ]; then\n"
        f"    {feed}{shlex.quote(python)} -m aitrail.sdk.hooks {PRE_PUSH} \"$@\"\n"
        "elif command -v aitrail >/dev/null 2>&1; then\n"
        f"    {feed}aitrail hook run {PRE_PUSH} \"$@\"\n"
        "fi\n"
    )


def install(repo: Path | str = ".", trailer: bool = False, python: str | None = None,
            pre_push: bool = False) -> list[HookChange]:
    """Install aitrail's ``post-commit`` hook (and ``prepare-commit-msg`` with ``trailer``, ``pre-push`` with
    ``pre_push``); idempotent.

    An existing hook is renamed to ``<name>.pre-aitrail`` (content and mode
    untouched) and called first by aitrail's. Raises :class:`HookError` when
    a ``.pre-aitrail`` file is already there next to a hook that is not
    aitrail's (a half-removed earlier install: sort it out by hand).
    """
    directory = hooks_dir(repo)
    directory.mkdir(parents=True, exist_ok=True)
    done: list[HookChange] = []
    for hook in (POST_COMMIT, *((PREPARE_COMMIT_MSG,) if trailer else ()), *((PRE_PUSH,) if pre_push else ())):
        path, backup = directory / hook, directory / f"{hook}{BACKUP_SUFFIX}"
        script = hook_script(hook, python)
        if path.is_symlink() or path.exists():
            if _is_ours(path):
                if path.read_text() == script:
                    done.append(HookChange(hook, path, "unchanged"))
                    continue
                _write_script(path, script)
                done.append(HookChange(hook, path, "updated"))
                continue
            if backup.is_symlink() or backup.exists():
                raise HookError(f"{backup} already exists next to a {hook} hook that is not aitrail's; "
                                f"move one of them away and install again")
            os.replace(path, backup)
            _write_script(path, script)
            done.append(HookChange(hook, path, "chained"))
        else:
            _write_script(path, script)
            done.append(HookChange(hook, path, "installed"))
    return done


def _write_script(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.aitrail-tmp")
    with open(tmp, "w", newline="\n") as handle:
        handle.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def uninstall(repo: Path | str = ".") -> list[HookChange]:
    """Remove what :func:`install` added: the original hook moves back (byte for byte), or aitrail's goes."""
    directory = hooks_dir(repo)
    done: list[HookChange] = []
    for hook in HOOKS:
        path, backup = directory / hook, directory / f"{hook}{BACKUP_SUFFIX}"
        if not _is_ours(path):
            done.append(HookChange(hook, path, "absent" if not path.exists() else "unchanged"))
            continue
        if backup.is_symlink() or backup.exists():
            os.replace(backup, path)
            done.append(HookChange(hook, path, "restored"))
        else:
            path.unlink()
            done.append(HookChange(hook, path, "removed"))
    return done


def status(repo: Path | str = ".") -> dict[str, str]:
    """hook -> ``aitrail`` (installed), ``aitrail+original`` (installed, chaining one), ``other`` or ``none``."""
    directory = hooks_dir(repo)
    out = {}
    for hook in HOOKS:
        path = directory / hook
        if _is_ours(path):
            out[hook] = "aitrail+original" if (directory / f"{hook}{BACKUP_SUFFIX}").exists() else "aitrail"
        else:
            out[hook] = "other" if path.exists() else "none"
    return out


# --- attribution ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileAttribution:
    """One file of a commit: fingerprinted lines added, and how many of them match the journal."""

    path: str
    added: int
    ai: int


@dataclass(frozen=True)
class Attribution:
    """A diff's added lines, attributed."""

    files: tuple[FileAttribution, ...]
    generations: tuple[Entry, ...] = field(default=())
    """The journal entries whose lines matched, most recent first, one per generation."""

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def ai(self) -> int:
        return sum(f.ai for f in self.files)

    @property
    def assistants(self) -> tuple[str, ...]:
        return tuple(sorted({e.assistant for e in self.generations if e.assistant}))

    def files_json(self) -> str:
        return json.dumps([{"path": f.path, "added": f.added, "ai": f.ai} for f in self.files], separators=(",", ":"))


def attribute_diff(diff: str, index: Mapping[int, Entry]) -> Attribution:
    """Attribute each fingerprinted added line of a unified diff: AI when its fingerprint is in ``index``."""
    files: list[FileAttribution] = []
    matched: dict[tuple[str, str], Entry] = {}
    for edit in edits_from_diff(diff):
        added = ai = 0
        for line in edit.added:
            fp = line_fingerprint(line)
            if fp is None:
                continue  # blank or trivial: neither AI nor human
            added += 1
            entry = index.get(fp)
            if entry is not None:
                ai += 1
                matched.setdefault((entry.trace_id, entry.span_id), entry)
        if added:  # files with no fingerprinted added line (deleted, renamed, binary, blank lines only) say nothing
            files.append(FileAttribution(edit.path, added, ai))
    generations = tuple(sorted(matched.values(), key=lambda e: -e.time))
    return Attribution(tuple(files), generations)


_DIFF_OPTIONS = ("-p", "-U0", "-M", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/",
                 "--dst-prefix=b/")


def _empty_tree(root: Path) -> str:
    return _git(root, "hash-object", "-t", "tree", os.devnull).strip()


def commit_diff(root: Path, commit: str = "HEAD") -> tuple[str, str]:
    """(first parent or "", the unified diff of ``commit`` against it, or against the empty tree for a root commit)."""
    parents = _git(root, "rev-list", "--parents", "-n", "1", commit).split()
    parent = parents[1] if len(parents) > 1 else ""
    base = parent or _empty_tree(root)
    return parent, _git(root, "-c", "core.quotepath=false", "diff-tree", "-r", *_DIFF_OPTIONS, base, parents[0])


def staged_diff(root: Path, amend: bool = False) -> str:
    """The diff the commit being made will add: the index against HEAD (HEAD's parent when amending)."""
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
    base = head
    if head and amend:
        base = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^1", check=False).strip()
    if not base:
        base = _empty_tree(root)
    return _git(root, "-c", "core.quotepath=false", "diff", "--cached", *_DIFF_OPTIONS, base, index=True)


def journal_index(root: Path | str) -> dict[int, Entry]:
    """Fingerprint -> most recent journal entry, for this repository only."""
    return Journal().index(str(root))


# --- post-commit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitRecord:
    """What the post-commit hook recorded."""

    sha: str
    parent: str
    attribution: Attribution
    author_email: str
    author_name: str
    trailers: tuple[str, ...]
    attributes: dict[str, Any]
    trace_id: str


def _trailers(root: Path, commit: str) -> tuple[str, ...]:
    out = _git(root, "show", "-s", "--format=%(trailers:only,unfold)", commit, check=False)
    return tuple(line.strip() for line in out.splitlines() if line.strip())


def record_commit(repo: Path | str = ".", commit: str = "HEAD") -> CommitRecord:
    """Attribute ``commit``'s added lines and emit its span through the SDK (not flushed: see :func:`aitrail.flush`)."""
    from opentelemetry.trace import Link, SpanContext, TraceFlags

    from aitrail.sdk.context import context_attributes
    from aitrail.sdk.runtime import runtime

    root = repository_root(repo)
    sha = _git(root, "rev-parse", "--verify", f"{commit}^{{commit}}").strip()
    parent, diff = commit_diff(root, sha)
    attribution = attribute_diff(diff, journal_index(root))
    email, name, committer, parents = (_git(root, "show", "-s", "--format=%ae%x00%an%x00%ce%x00%P", sha)
                                       .rstrip("\n").split("\0"))
    trailers = _trailers(root, sha)

    rt = runtime()
    ctx = context_attributes(rt.settings, str(root))
    attributes: dict[str, Any] = {k: val for k, val in ctx.attributes.items()
                                  if k not in (v.USER_ID, v.USER_EMAIL, v.USER_NAME, v.IDENTITY_SOURCE)}
    attributes.update({
        v.KIND: v.KIND_COMMIT,
        v.VCS_REF_HEAD_REVISION: sha,
        v.LINES_ADDED: attribution.added,
        v.AI_LINES: attribution.ai,
        v.COMMIT_FILES: attribution.files_json(),
        v.COMMIT_ASSISTANTS: list(attribution.assistants),
        v.COMMIT_TRAILERS: list(trailers),
        v.COMMIT_PARENTS: parents.split(),
    })
    if committer:
        attributes[v.COMMITTER_EMAIL] = committer
    if email:
        attributes[v.USER_EMAIL] = email
        # The author's id: the configured one (AITRAIL_USER_ID, ...) when the author is this machine's user, so
        # commits join their generations; else the e-mail address, as identity resolution does without an id.
        same_person = str(ctx.attributes.get(v.USER_EMAIL, "")).casefold() == email.casefold()
        attributes[v.USER_ID] = ctx.attributes.get(v.USER_ID) if same_person and ctx.attributes.get(v.USER_ID) else email
        if not same_person:  # another author's commit (a rebase, a cherry-pick): that author's team, not ours
            attributes.pop(v.TEAM, None)
            if team := resolve_identity(email=email, repo_root=root, env={}).team:
                attributes[v.TEAM] = team
    if name:
        attributes[v.USER_NAME] = name
    links = []
    for entry in attribution.generations[:MAX_LINKS]:
        try:
            links.append(Link(SpanContext(int(entry.trace_id, 16), int(entry.span_id, 16), is_remote=True,
                                          trace_flags=TraceFlags(TraceFlags.SAMPLED))))
        except ValueError:
            continue
    now = time.time_ns()
    span = rt.tracer.start_span(f"commit {sha[:12]}", attributes=attributes, links=links, start_time=now)
    trace_id = format(span.get_span_context().trace_id, "032x")
    span.end(end_time=now)
    from aitrail.sdk.accountability.signoff import emit_trailers

    emit_trailers(root, sha, str(attributes.get(v.VCS_REPOSITORY_URL_FULL, "")))
    return CommitRecord(sha, parent, attribution, email, name, trailers, attributes, trace_id)


# --- prepare-commit-msg ----------------------------------------------------------------------------


def _amending() -> bool:
    """Whether the ``git commit`` running this hook has ``--amend`` (Linux: read from /proc; else unknown -> False)."""
    pid = os.getppid()
    for _ in range(4):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                args = handle.read().split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as handle:
                parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if args and os.path.basename(args[0]) in (b"git", b"git.exe") and b"commit" in args:
            return b"--amend" in args
        pid = parent
        if pid <= 1:
            break
    return False


def trailer_text(attribution: Attribution) -> str | None:
    """``AI-Assisted: 12/20 lines (claude-code, codex)``, or None when no line matches the journal."""
    if attribution.ai == 0:
        return None
    assistants = ", ".join(attribution.assistants) or "unknown"
    return f"{TRAILER}: {attribution.ai}/{attribution.added} lines ({assistants})"


def add_trailer(repo: Path | str, message_file: Path | str, source: str | None = None,
                commit: str | None = None, amend: bool | None = None) -> str | None:
    """The ``prepare-commit-msg`` hook: add (or replace) the AI-Assisted trailer; returns it, or None.

    Merges and squashes are left alone. ``amend`` (default: detected) counts
    the whole amended commit, not only what is staged on top of it.
    """
    if source in ("merge", "squash"):
        return None
    root = repository_root(repo)
    if amend is None:
        amend = _amending() or (source == "commit" and commit == "HEAD")
    attribution = attribute_diff(staged_diff(root, amend=amend), journal_index(root))
    text = trailer_text(attribution)
    if text is None:
        return None
    _git(root, "interpret-trailers", "--in-place", "--if-exists", "replace", "--trailer", text,
         os.path.abspath(message_file))
    return text


# --- running a hook -----------------------------------------------------------------------------------


def deliver(timeout: float = FLUSH_TIMEOUT) -> bool:
    """Finish and send what the SDK holds, waiting at most ``timeout`` seconds; True when all of it went.

    The flush runs on a daemon thread: OpenTelemetry's ``force_flush`` exports
    synchronously and retries an unreachable collector for up to its exporter
    timeout (10 s), whatever timeout it is given. While it runs the exporters'
    retry warnings are silenced (the caller says one line instead); when it
    does not finish in time they stay silenced, the process being about to end.
    """
    try:
        from aitrail.sdk.runtime import runtime
        from aitrail.sdk.track import flush

        rt = runtime()
        dropped = rt.stats.dropped
        otel_log = logging.getLogger("opentelemetry")
        level = otel_log.level
        otel_log.setLevel(logging.CRITICAL)
        outcome: list[bool] = []

        def work() -> None:
            try:
                outcome.append(flush(timeout))
            except Exception:  # noqa: BLE001
                log.debug("aitrail: could not flush", exc_info=True)
                outcome.append(False)

        worker = threading.Thread(target=work, name="aitrail-deliver", daemon=True)
        worker.start()
        worker.join(timeout)
        if outcome:
            otel_log.setLevel(level)
        delivered = bool(outcome and outcome[0]) and rt.stats.dropped == dropped
        if delivered:  # the collector answers: what earlier runs kept goes too
            rt.send_outbox(timeout)
        return delivered
    except Exception:  # noqa: BLE001 - the end of a hook or a wrapped run never fails on aitrail's account
        log.debug("aitrail: could not flush", exc_info=True)
        return False


def undelivered() -> str:
    """What became of records :func:`deliver` could not send: kept in the outbox, how they will go, what was dropped."""
    from aitrail.sdk.outbox import Outbox, report
    from aitrail.sdk.runtime import runtime

    return report(runtime().outbox or Outbox())


def release(timeout: float = 0.25) -> None:
    """Stop exporting without waiting for a collector that does not answer (end of a short-lived process)."""
    from aitrail.sdk.runtime import shutdown

    def stop() -> None:
        try:
            shutdown()
        except Exception:  # noqa: BLE001
            log.debug("aitrail: could not shut down", exc_info=True)

    stopper = threading.Thread(target=stop, name="aitrail-shutdown", daemon=True)
    stopper.start()
    stopper.join(timeout)


def _say(message: str) -> None:
    try:
        print(f"aitrail: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def run_hook(hook: str, args: Sequence[str] = (), repo: Path | str = ".", timeout: float = FLUSH_TIMEOUT) -> int:
    """Run one of aitrail's hooks as git does; returns 0 (errors are one line on standard error), except the
    pre-push hook: 1 when a pushed commit misses what the policy asks, or the check cannot run."""
    if hook == PRE_PUSH:
        return _pre_push(repo)
    try:
        if hook == POST_COMMIT:
            from aitrail.sdk.runtime import runtime

            if runtime().settings.is_disabled():
                return 0  # AITRAIL_DISABLED: nothing recorded (the trailer, a local feature, still works)
            record_commit(repo)
            if not deliver(timeout):
                _say(f"the commit record could not be sent yet (is the collector running?): {undelivered()}")
        elif hook == PREPARE_COMMIT_MSG:
            if not args:
                raise HookError("prepare-commit-msg needs the message file")
            add_trailer(repo, args[0], args[1] if len(args) > 1 else None, args[2] if len(args) > 2 else None)
        else:
            raise HookError(f"unknown hook {hook!r}: use {' or '.join(HOOKS)}")
    except Exception as exc:  # noqa: BLE001 - a hook never fails a commit
        log.debug("aitrail hook failed", exc_info=True)
        _say(f"{hook} hook: {exc}")
    return 0


def _pre_push(repo: Path | str) -> int:
    """``aitrail check`` on the commits a push sends (read from standard input, as git gives them)."""
    from aitrail.sdk.accountability.check import check, describe, policy_in_force, pushed_commits

    try:
        root = repository_root(repo)
        pushed = pushed_commits(root, sys.stdin.read())
        result = check(root, pushed, policy_in_force(root, pushed))
    except Exception as exc:  # noqa: BLE001 - a policy that cannot be checked stops the push, in one line
        log.debug("aitrail pre-push failed", exc_info=True)
        _say(f"pre-push: cannot check the push: {exc}")
        return 1
    if not result.ok:
        for line in describe(result):
            _say(line)
        _say("push stopped: sign off with `aitrail signoff REV --role reviewer|approver`, then push again")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aitrail.sdk.hooks <hook> [args...]``: what the installed hook scripts call."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        _say(f"usage: python -m aitrail.sdk.hooks {{{','.join(HOOKS)}}} [args...]")
        return 0
    try:
        return run_hook(argv[0], argv[1:])
    finally:
        release()


__all__ = [
    "Attribution", "CommitRecord", "FileAttribution", "HookChange", "HookError", "add_trailer", "attribute_diff",
    "commit_diff", "hook_script", "hooks_dir", "install", "record_commit", "run_hook", "staged_diff", "status",
    "trailer_text", "uninstall",
]


if __name__ == "__main__":
    sys.exit(main())


