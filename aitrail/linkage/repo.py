"""What linkage reads from a git repository: a file's lines at a commit (or in the working tree), ``git blame``
for them, commit times, and CODEOWNERS. Every call goes through :func:`aitrail.sdk.git.run_git` (short timeout,
repository variables dropped); a missing file or commit is an answer (None), not an error."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from aitrail.sdk.git import run_git

BLAME_TIMEOUT = 60.0
"""Seconds ``git blame`` of one file may take."""


def file_lines(root: Path, path: str, commit: str | None = None) -> list[str] | None:
    """The lines of ``path`` (relative to ``root``) at ``commit``, or in the working tree; None if absent."""
    if commit:
        text = run_git(root, "show", f"{commit}:{path}", timeout=BLAME_TIMEOUT)
        return None if text is None else text.split("\n")
    try:
        return (root / path).read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class BlameLine:
    """One line as ``git blame`` tells it: the commit that introduced it (all zeros: not committed yet)."""

    line: int
    text: str
    commit: str
    author_email: str
    committed_at: int
    """Committer time of the introducing commit, Unix seconds (0 for uncommitted lines)."""
    original_path: str


UNCOMMITTED = "0" * 40


def blame(root: Path, path: str, rev: str | None = None) -> list[BlameLine] | None:
    """``git blame --porcelain`` of ``path`` at ``rev`` (the working tree without), following moves and copies
    within and across files (``-M -C``); None when git cannot blame it."""
    args = ["blame", "--porcelain", "-M", "-C", "-w"]
    if rev:
        args.append(rev)
    out = run_git(root, *args, "--", path, timeout=BLAME_TIMEOUT)
    if out is None:
        return None
    lines: list[BlameLine] = []
    info: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    sha, final = "", 0
    for raw in out.split("\n"):
        if raw.startswith("\t"):
            c = info.setdefault(sha, {})
            c.update(current)
            email = c.get("author-mail", "").strip("<>")
            lines.append(BlameLine(final, raw[1:], sha, email, int(c.get("committer-time", "0") or 0),
                                   c.get("filename", path)))
            current = {}
            continue
        head = raw.split(" ")
        if len(head) >= 3 and len(head[0]) == 40 and all(ch in "0123456789abcdef" for ch in head[0]):
            sha, final = head[0], int(head[2])
            current = dict(info.get(sha, {}))
            continue
        key, _, value = raw.partition(" ")
        current[key] = value
    return lines


def commit_time(root: Path, commit: str) -> int | None:
    """Committer time of ``commit``, Unix seconds."""
    out = run_git(root, "show", "-s", "--format=%ct", commit)
    return int(out) if out and out.isdigit() else None


def head(root: Path) -> str:
    """HEAD's commit id, or "" in a repository without commits."""
    return run_git(root, "rev-parse", "--quiet", "--verify", "HEAD^{commit}") or ""


CODEOWNERS_PLACES = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


def owners(root: Path, path: str, commit: str | None = None) -> list[str]:
    """The owners CODEOWNERS gives ``path`` (the last matching pattern wins, as on GitHub and GitLab); [] without."""
    for place in CODEOWNERS_PLACES:
        text = file_lines(root, place, commit)
        if text is None:
            continue
        found: list[str] = []
        for line in text:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            pattern, *who = line.split()
            if _matches(pattern, path):
                found = who
        return found
    return []


def _matches(pattern: str, path: str) -> bool:
    anchored = pattern.startswith("/")
    pattern = pattern.strip("/") if pattern != "/" else ""
    if pattern in ("", "*", "**"):
        return True
    candidates = [path] if anchored or "/" in pattern else [path, *_suffixes(path)]
    for candidate in candidates:
        if fnmatch.fnmatchcase(candidate, pattern) or candidate.startswith(pattern.rstrip("*") + "/") and \
                not any(c in pattern for c in "*?["):
            return True
        if fnmatch.fnmatchcase(candidate, pattern + "/*") or fnmatch.fnmatchcase(candidate, pattern + "/**"):
            return True
    return False


def _suffixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[i:]) for i in range(1, len(parts))]
