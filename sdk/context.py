"""Where and for whom a generation happened: git context and identity, looked up once per directory.

Looked up on the finisher thread, never on the caller's, and cached for a
short while: a burst of generations in one repository costs one ``git`` call.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitrail.sdk import git, identity

CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Context:
    """Attributes of the place (repository, branch, commit) and the person (user, team)."""

    repo_root: str
    attributes: dict[str, Any] = field(default_factory=dict)
    git: git.GitContext | None = None

    def relative(self, path: str) -> str:
        """A path as the repository knows it (relative to its root), else as given."""
        if self.git is None:
            return Path(path).as_posix()
        return git.relative_path(self.git, path)


_cache: dict[tuple[str, Any], tuple[float, Context]] = {}
_lock = threading.Lock()


def context_attributes(settings: Any, cwd: str, path: str | None = None) -> Context:
    """The context of ``cwd`` for these settings, the team owning ``path`` if any (cached for ``CACHE_SECONDS``)."""
    key = (os.path.abspath(cwd), path, (settings.user_id, settings.user_email, settings.user_name, settings.team))
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    ctx = git.git_context(cwd)
    who = identity.resolve_identity(
        user_id=settings.user_id, email=settings.user_email, name=settings.user_name, team=settings.team,
        repo_root=ctx.root if ctx else None, path=path,
    )
    attributes = {**(git.attributes(ctx) if ctx else {}), **identity.attributes(who)}
    found = Context(repo_root=str(ctx.root) if ctx else "", attributes=attributes, git=ctx)
    with _lock:
        _cache[key] = (now, found)
    return found
