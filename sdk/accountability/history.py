"""Reading the repository's history: the commits of a range, their authors, trailers and files, and files as
they were at a commit (CODEOWNERS, the policy).

Every answer comes from the ``git`` command line (:func:`aitrail.sdk.git.run_git`: short timeouts, the
hook's variables dropped). A revision or range git does not know is a :class:`~aitrail.errors.UsageError`
naming it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aitrail.errors import UsageError
from aitrail.sdk.git import run_git

GIT_TIMEOUT = 30.0
"""Seconds one history call may take (a long range's diff is slower than the SDK's per-generation calls)."""

_TRAILER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):\s*(.*)$")


@dataclass(frozen=True)
class Commit:
    """One commit as the policy sees it."""

    sha: str
    parents: tuple[str, ...]
    author_email: str
    author_name: str
    trailers: tuple[tuple[str, str], ...]
    """(key, value) of each trailer of the message, in order."""


def git(root: Path | str, *args: str) -> str:
    """stdout of ``git <args>`` in ``root``; a failure is a :class:`UsageError` that names the command."""
    out = run_git(root, *args, timeout=GIT_TIMEOUT)
    if out is None:
        raise UsageError(f"git {' '.join(args[:3])} failed in {root}")
    return out


def resolve_commits(root: Path | str, spec: str) -> list[str]:
    """The commits ``spec`` names, oldest first: one revision (``HEAD``, a sha) or a range (``main..HEAD``)."""
    if spec.startswith("-"):
        raise UsageError(f"{spec!r} is not a revision or range")
    if ".." in spec:
        out = run_git(root, "rev-list", "--reverse", spec, "--", timeout=GIT_TIMEOUT)
        if out is None:
            raise UsageError(f"unknown range {spec!r}: name two revisions git knows, e.g. origin/main..HEAD")
        return [line for line in out.splitlines() if line]
    sha = run_git(root, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}", timeout=GIT_TIMEOUT)
    if not sha:
        raise UsageError(f"unknown revision {spec!r}: name a commit git knows (HEAD, a sha, a branch)")
    return [sha]


@dataclass(frozen=True)
class Base:
    """The commit a set of commits is checked against: as the user named it, and its id."""

    name: str
    sha: str

    def __str__(self) -> str:
        return f"{self.name} ({self.sha[:12]})"


def range_base(root: Path | str, spec: str | Sequence[str]) -> Base | None:
    """What ``spec``'s commits are measured against, which none of them can change: the left side of ``A..B``,
    the merge base of ``A...B``, the first parent of one revision, and for a list of commits the first parent
    that is not itself listed (the oldest commit's, as listed oldest first). None when nothing comes before them
    (a repository's first commit, commits this clone does not have) or the two sides of ``A...B`` share no
    history."""
    if isinstance(spec, str):
        if "..." in spec:
            left, right = (side or "HEAD" for side in spec.split("...", 1))
            sha = run_git(root, "merge-base", left, right, timeout=GIT_TIMEOUT)
            return Base(f"merge-base of {left} and {right}", sha) if sha else None
        if ".." in spec:
            left = spec.split("..", 1)[0] or "HEAD"
            name = left
        else:
            name = f"{spec}^"
        sha = run_git(root, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", timeout=GIT_TIMEOUT)
        return Base(name, sha) if sha else None
    listed = set(spec)
    for commit in spec:  # a commit this clone does not have (a pull request's, from the API) is passed over
        parent = run_git(root, "rev-parse", "--verify", "--quiet", f"{commit}^1^{{commit}}", timeout=GIT_TIMEOUT)
        if parent and parent not in listed:
            return Base(f"the parent of {commit[:12]}", parent)
    return None


def parse_trailers(text: str) -> tuple[tuple[str, str], ...]:
    """``Key: value`` lines (as ``git log --format=%(trailers:only,unfold)`` prints them) as pairs."""
    found = []
    for line in text.splitlines():
        matched = _TRAILER.match(line.strip())
        if matched:
            found.append((matched[1], matched[2].strip()))
    return tuple(found)


def read_commit(root: Path | str, sha: str) -> Commit:
    """Author, parents and trailers of one commit."""
    out = git(root, "show", "-s", "--format=%H%x00%P%x00%ae%x00%an%x00%(trailers:only,unfold)", sha)
    full, parents, email, name, trailers = (out.split("\0") + [""] * 5)[:5]
    return Commit(full, tuple(parents.split()), email, name, parse_trailers(trailers))


def file_at(root: Path | str, sha: str, path: str) -> str | None:
    """The text of ``path`` as it was at commit ``sha``, or None when it did not exist there."""
    return run_git(root, "show", f"{sha}:{path}", timeout=GIT_TIMEOUT)


def changed_paths(root: Path | str, sha: str) -> list[str]:
    """Paths a commit adds or changes (against its first parent; a root commit against nothing)."""
    out = git(root, "-c", "core.quotepath=false", "diff-tree", "--root", "-r", "-M", "--no-commit-id", "--name-only",
              "--diff-filter=ACMR", sha)
    return [line for line in out.splitlines() if line]
