"""The outbox: spans the SDK could not send yet, kept on disk (bounded) and sent by a later run.

A short-lived process (``aitrail wrap``, the commit hook, a script) often ends
before an unreachable collector answers; without this its records would be
lost while the commit hook still counts their lines as AI. So every batch is
written here *before* it is exported (as the OTLP request body it becomes)
and removed once the collector took it:

    outbox/
      <time>-<pid>-<random>-<spans>.otlp            waiting to be sent
      <time>-<pid>-<random>-<spans>.otlp.<pid>      being exported or sent by process <pid>
      dropped.json                                  spans dropped past the bound, not yet reported

A file held by a process that is gone is waiting again. The next run of the
SDK sends what waits (in the background), and so do ``aitrail flush`` and the
end of ``aitrail wrap`` and of the hook. Past :data:`MAX_BYTES` the oldest
files are dropped and counted; whoever reports the outbox next says how many.
A span is sent at least once: a process killed between the collector's answer
and the file's removal sends that batch again later.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aitrail.sdk import environment

log = logging.getLogger("aitrail.sdk")

MAX_BYTES = 16 << 20
"""What the outbox may hold; past it the oldest batches are dropped (and counted)."""
SUFFIX = ".otlp"
DROPPED = "dropped.json"


def default_dir() -> Path:
    """``AITRAIL_OUTBOX``, else beside the journal (``AITRAIL_JOURNAL``'s folder, or the user data dir)."""
    from aitrail.sdk.journal import default_path

    return Path(os.environ.get(environment.AITRAIL_OUTBOX) or default_path().parent / "outbox")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


@dataclass(frozen=True)
class State:
    """What waits in the outbox, and what was dropped since the last report."""

    batches: int
    spans: int
    bytes: int
    dropped: int


class Outbox:
    """One directory of OTLP trace request bodies; safe for several processes at once (atomic renames)."""

    def __init__(self, directory: Path | None = None, max_bytes: int = MAX_BYTES) -> None:
        self.directory = Path(directory) if directory else default_dir()
        self.max_bytes = max_bytes

    # writing

    def hold(self, body: bytes, spans: int) -> Path | None:
        """Keep ``body`` as held by this process (about to be exported); None when the disk refuses."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{random.getrandbits(32):08x}-{spans}{SUFFIX}"
        held = self.directory / f"{name}.{os.getpid()}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(held, "wb") as handle:
                handle.write(body)
        except OSError:
            log.debug("aitrail: cannot keep a batch in the outbox %s", self.directory, exc_info=True)
            return None
        return held

    def done(self, held: Path | None) -> None:
        """The collector took it."""
        if held is not None:
            held.unlink(missing_ok=True)

    def keep(self, held: Path | None) -> None:
        """The collector did not take it: waiting for a later run; the oldest dropped past the bound."""
        if held is None:
            return
        try:
            os.replace(held, held.with_name(held.name.rsplit(".", 1)[0]))
        except OSError:
            return
        self._trim()

    # reading and sending

    def _files(self, own: bool = False) -> list[Path]:
        """Waiting files, oldest first, adopting those held by processes that are gone (and, with ``own``,
        listing those this process holds: they wait too once it ends)."""
        try:
            entries = sorted(self.directory.iterdir())
        except OSError:
            return []
        waiting = []
        for path in entries:
            if path.name.endswith(SUFFIX):
                waiting.append(path)
            elif SUFFIX + "." in path.name:
                owner = path.name.rsplit(".", 1)[1]
                if own and owner == str(os.getpid()):
                    waiting.append(path)
                elif owner.isdigit() and int(owner) != os.getpid() and not _alive(int(owner)):
                    target = path.with_name(path.name.rsplit(".", 1)[0])
                    try:
                        os.replace(path, target)
                        waiting.append(target)
                    except OSError:
                        continue
        return sorted(waiting, key=lambda p: p.name)

    @staticmethod
    def _spans(path: Path) -> int:
        try:
            return int(path.name.split(SUFFIX, 1)[0].rsplit("-", 1)[1])
        except (IndexError, ValueError):
            return 0

    def state(self) -> State:
        files = self._files(own=True)
        sizes = []
        for path in files:
            try:
                sizes.append(path.stat().st_size)
            except OSError:
                sizes.append(0)
        return State(len(files), sum(map(self._spans, files)), sum(sizes), self._dropped())

    def send(self, post: Callable[[bytes], bool], timeout: float = 10.0) -> tuple[int, int]:
        """Send what waits, oldest first, until one fails or ``timeout`` passes: (batches, spans) sent."""
        deadline = time.monotonic() + timeout
        batches = spans = 0
        for path in self._files():
            if time.monotonic() > deadline:
                break
            held = path.with_name(f"{path.name}.{os.getpid()}")
            try:
                os.replace(path, held)  # claimed: no other process sends it meanwhile
                body = held.read_bytes()
            except OSError:
                continue  # another process took it
            try:
                sent = post(body)
            except Exception:  # noqa: BLE001 - an unreachable collector is the expected case
                log.debug("aitrail: sending from the outbox failed", exc_info=True)
                sent = False
            if not sent:
                self.keep(held)
                break
            self.done(held)
            batches, spans = batches + 1, spans + self._spans(path)
        return batches, spans

    # the bound

    def _locked(self, change: Callable[[int], int]) -> int:
        """Read and change the dropped counter under a lock; its new value."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(self.directory / DROPPED, "a+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.seek(0)
                try:
                    count = int(json.loads(handle.read() or "{}").get("spans", 0))
                except (ValueError, AttributeError):
                    count = 0
                new = change(count)
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps({"spans": new}))
                return new
        except OSError:
            return 0

    def _dropped(self) -> int:
        if not (self.directory / DROPPED).exists():
            return 0
        return self._locked(lambda n: n)

    def take_dropped(self) -> int:
        """Spans dropped since the last call (the caller reports them)."""
        taken: list[int] = []
        if (self.directory / DROPPED).exists():
            self._locked(lambda n: taken.append(n) or 0)
        return taken[0] if taken else 0

    def _trim(self) -> None:
        files = self._files()
        sizes = {}
        for path in files:
            try:
                sizes[path] = path.stat().st_size
            except OSError:
                continue
        total, lost = sum(sizes.values()), 0
        for path in files:
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= sizes.get(path, 0)
            lost += self._spans(path)
        if lost:
            self._locked(lambda n: n + lost)
            log.warning("aitrail: the outbox %s is full: dropped the %d oldest spans", self.directory, lost)


def report(outbox: Outbox) -> str:
    """For people, after a run could not send everything: what is kept, how it will go, what was dropped."""
    state, dropped = outbox.state(), outbox.take_dropped()
    text = (f"kept on disk in {outbox.directory} ({state.spans} span(s) waiting); "
            "`aitrail flush` sends them, and so does the next run")
    if dropped:
        text += f"; {dropped} older span(s) were dropped, the outbox being full ({outbox.max_bytes >> 20} MiB)"
    return text
