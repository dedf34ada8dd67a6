"""The local journal: recent generations' line fingerprints, on this machine only.

The commit hook attributes each added line of a commit to AI or human by
looking its fingerprint up here, so attribution works offline and without
asking the collector. The file is private to the user (mode 0600), holds no
prompt and no code (fingerprints only), and stays bounded: entries older than
``max_age_days`` or beyond ``max_entries`` are dropped when it is compacted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from aitrail.sdk import environment


@dataclass(frozen=True)
class Entry:
    """One generation's footprint in one file."""

    time: float
    repo: str
    path: str
    fingerprints: tuple[int, ...]
    trace_id: str
    span_id: str
    assistant: str
    model: str


def default_path() -> Path:
    return Path(os.environ.get(environment.AITRAIL_JOURNAL) or Path(platformdirs.user_data_dir("aitrail")) / "journal.jsonl")


class Journal:
    """Append-only JSON lines, compacted when it grows past twice its bound."""

    def __init__(self, path: Path | None = None, max_entries: int = 20_000, max_age_days: float = 90) -> None:
        self.path = Path(path) if path else default_path()
        self.max_entries = max_entries
        self.max_age = max_age_days * 86400

    def append(self, entries: Iterable[Entry]) -> None:
        lines = [json.dumps(asdict(e), separators=(",", ":")) + "\n" for e in entries if e.fingerprints]
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as handle:
            handle.writelines(lines)
        if self.path.stat().st_size > self.max_entries * 400:
            self.compact()

    def entries(self) -> Iterator[Entry]:
        """Every entry still young enough, oldest first; unreadable lines are skipped."""
        if not self.path.exists():
            return
        horizon = time.time() - self.max_age
        with open(self.path) as handle:
            for line in handle:
                try:
                    raw = json.loads(line)
                    entry = Entry(**{**raw, "fingerprints": tuple(raw["fingerprints"])})
                except (ValueError, TypeError, KeyError):
                    continue
                if entry.time >= horizon:
                    yield entry

    def index(self, repo: str | None = None) -> dict[int, Entry]:
        """Fingerprint -> the most recent entry that wrote it (optionally within one repository)."""
        found: dict[int, Entry] = {}
        for entry in self.entries():
            if repo is None or entry.repo == repo:
                for fp in entry.fingerprints:
                    found[fp] = entry
        return found

    def compact(self) -> None:
        """Keep the newest ``max_entries`` young entries, atomically."""
        kept = list(self.entries())[-self.max_entries :]
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(json.dumps(asdict(e), separators=(",", ":")) + "\n" for e in kept)
        os.replace(tmp, self.path)
