"""A repository's files at any revision, for the fingerprints of the lines an imported record names.

Agent Trace ranges and git-ai attestations give line numbers "at the recorded revision"; the lines
themselves are in the repository. All the files an import needs are read with one ``git cat-file --batch``
(no checkout, no working tree change), then cut into lines as git counts them (``\\n`` ends a line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.git import GitFailed, git_context
from aitrail.sdk.git import git as run

GIT_TIMEOUT = 300.0
"""Seconds one batch read of a repository may take."""


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """stdout of ``git <args>`` in ``root`` through the one runner, with the batch reads' timeout."""
    return run(root, *args, stdin=stdin, timeout=GIT_TIMEOUT)


class Repository:
    """A local git repository: its root, its URL as aitrail records it, and its files at any revision."""

    def __init__(self, root: Path, url: str) -> None:
        self.root, self.url = root, url
        self._lines: dict[tuple[str, str], list[str] | None] = {}

    @classmethod
    def around(cls, path: Path | str) -> Repository | None:
        """The repository around ``path``, or None outside one. Its URL is the remote's (credentials
        stripped), as native records carry it ("" without a remote, as for native records)."""
        ctx = git_context(path)
        if ctx is None:
            return None
        return cls(ctx.root, ctx.repository)

    def blobs(self, names: Sequence[str]) -> list[bytes | None]:
        """The content of each object name (``<rev>:<path>``, a blob id), in order; None for what is missing or
        not a file (a tree, a submodule). One ``git cat-file --batch`` for all of them."""
        if not names:
            return []
        out = git(self.root, "cat-file", "--batch", stdin="".join(f"{name}\n" for name in names).encode())
        found: list[bytes | None] = []
        position = 0
        for _ in names:
            end = out.index(b"\n", position)
            header = out[position:end].split(b" ")
            position = end + 1
            if len(header) != 3 or header[1] not in (b"blob", b"commit", b"tree", b"tag"):
                found.append(None)  # "<name> missing" / "ambiguous"
                continue
            size = int(header[2])
            found.append(out[position : position + size] if header[1] == b"blob" else None)
            position += size + 1
        return found

    def load(self, files: Iterable[tuple[str, str]]) -> None:
        """Read every (revision, path) at once; a revision or file the repository does not have reads as None."""
        wanted = sorted({f for f in files if f not in self._lines})
        readable = [f for f in wanted if "\n" not in f[0] + f[1]]  # cat-file --batch reads one name a line
        for key, blob in zip(readable, self.blobs([f"{rev}:{path}" for rev, path in readable])):
            self._lines[key] = split_lines(blob.decode("utf-8", "replace")) if blob is not None else None
        for key in wanted:
            self._lines.setdefault(key, None)

    def lines(self, revision: str, path: str) -> list[str] | None:
        """The lines of ``path`` at ``revision`` (without terminators), or None when it has no such file."""
        key = (revision, path)
        if key not in self._lines:
            self.load([key])
        return self._lines.get(key)


def split_lines(text: str) -> list[str]:
    """Lines as git counts them: ``\\n`` ends a line; a final line without one still counts."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def range_lines(lines: Sequence[str], ranges: Iterable[tuple[int, int]]) -> list[str] | None:
    """The lines of 1-based inclusive ``ranges``, in order; None when a range goes past the end of the file."""
    found: list[str] = []
    for first, last in ranges:
        if last > len(lines):
            return None
        found.extend(lines[first - 1 : last])
    return found


def range_fingerprints(lines: Sequence[str]) -> list[int]:
    """Unsigned fingerprints of the non-trivial lines, in order (see :mod:`aitrail.sdk.fingerprint`)."""
    return [fp for fp in map(line_fingerprint, lines) if fp is not None]


def merge_ranges(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted line numbers as blocks of consecutive lines: 1,2,3,7 -> (1, 3), (7, 7)."""
    blocks: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if blocks and n == blocks[-1][1] + 1:
            blocks[-1] = (blocks[-1][0], n)
        else:
            blocks.append((n, n))
    return blocks


__all__ = ["GitFailed", "Repository", "git", "merge_ranges", "range_fingerprints", "range_lines", "split_lines"]
