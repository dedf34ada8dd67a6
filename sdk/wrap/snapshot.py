"""Snapshots of the working tree before and after a wrapped assistant runs, and the changes between them.

Tracked and untracked files that are not ignored, read into memory (never a stash or an index change);
binary files, files over 1 MiB, symbolic links and submodules are skipped; a vanished file and a similar new
one are a rename."""

from __future__ import annotations

import difflib
import os
import stat
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


from aitrail.sdk.git import run_git



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
