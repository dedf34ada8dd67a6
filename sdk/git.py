"""Where the work happens: the git repository, branch and commit around a path.

Everything comes from the ``git`` command line (no library, no parsing of
``.git`` internals), each call under a short timeout. :func:`git_context`
never raises: outside a repository, without ``git`` installed, or when git is
slow or refuses (e.g. "dubious ownership"), it answers ``None``.

Repository URLs leave this module with their credentials stripped
(:func:`strip_credentials`): a token in a remote URL must never reach
telemetry.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aitrail.errors import GitFailed
from aitrail.sdk.vocabulary import VCS_REF_HEAD_NAME, VCS_REF_HEAD_REVISION, VCS_REPOSITORY_URL_FULL

GIT_TIMEOUT = 3.0
"""Seconds one ``git`` call may take before it is abandoned (the answer is then "unknown")."""

# Variables that would point git at another repository than the one around the
# path asked about (they are set, relative, inside git hooks).
_REPOSITORY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)

_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
_URL_WITH_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class GitContext:
    """A working tree: its root, remote URL (credentials stripped), branch and HEAD commit.

    ``repository`` is "" without a remote, ``branch`` is "" on a detached HEAD,
    ``commit`` is "" in a repository with no commits yet.
    """

    root: Path
    repository: str
    branch: str
    commit: str


def git(cwd: Path | str, *args: str, stdin: bytes | None = None, timeout: float = GIT_TIMEOUT, index: bool = False,
        check: bool = True) -> bytes:
    """stdout of ``git <args>`` in ``cwd``: the one way aitrail runs git. The repository is always the one around
    ``cwd``: variables git sets inside hooks are dropped so they cannot point elsewhere, except — with ``index`` —
    ``GIT_INDEX_FILE``, made absolute (during ``git commit -a`` the staged content is in a temporary index only
    that variable names). Raises :class:`GitFailed` with git's message; with ``check`` False a failed command's
    output is returned as it is."""
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_ENV}
    if index and os.environ.get("GIT_INDEX_FILE"):
        env["GIT_INDEX_FILE"] = os.path.abspath(os.environ["GIT_INDEX_FILE"])
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise GitFailed(f"git {' '.join(args[:2])}: {exc}") from exc
    if check and done.returncode != 0:
        raise GitFailed(f"git {' '.join(args[:3])} failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def run_git(cwd: Path | str, *args: str, timeout: float = GIT_TIMEOUT) -> str | None:
    """stdout of ``git <args>`` run in ``cwd`` (trailing newline removed), or None if it failed in any way: for
    questions whose answer may be "unknown" (the context of a generation must never fail its caller)."""
    try:
        return git(cwd, *args, timeout=timeout).decode("utf-8", "surrogateescape").rstrip("\r\n")
    except GitFailed:
        return None


def _existing_dir(path: Path) -> Path | None:
    """``path`` if it is a directory, else its nearest existing ancestor directory."""
    try:
        path = Path(os.path.abspath(path))
        for candidate in (path, *path.parents):
            if candidate.is_dir():
                return candidate
    except (OSError, ValueError):
        pass
    return None


def git_context(path: Path | str = ".") -> GitContext | None:
    """The repository around ``path`` (a file or directory, existing or not), or None outside one. Never raises."""
    try:
        start = _existing_dir(Path(path))
    except (TypeError, ValueError):
        return None
    if start is None:
        return None
    toplevel = run_git(start, "rev-parse", "--show-toplevel")
    if not toplevel:
        return None
    root = Path(toplevel)
    branch = run_git(root, "symbolic-ref", "--quiet", "--short", "HEAD") or ""
    commit = run_git(root, "rev-parse", "--quiet", "--verify", "HEAD^{commit}") or ""
    return GitContext(root=root, repository=_remote_url(root), branch=branch, commit=commit)


def _remote_url(root: Path) -> str:
    """URL of ``origin``, else of the first remote configured, credentials stripped; "" without remotes."""
    listing = run_git(root, "config", "--null", "--get-regexp", r"^remote\..*\.url$")
    if not listing:
        return ""
    urls: dict[str, str] = {}
    for entry in listing.split("\0"):
        key, _, url = entry.partition("\n")
        if key.startswith("remote.") and key.endswith(".url") and url.strip():
            urls.setdefault(key[len("remote.") : -len(".url")], url.strip())
    if not urls:
        return ""
    return strip_credentials(urls.get("origin") or next(iter(urls.values())))


def strip_credentials(url: str) -> str:
    """``url`` without user name and password: ``https://user:token@host/x`` -> ``https://host/x``.

    An ssh URL that names only a user (``ssh://git@host/x``, or scp-like
    ``git@host:org/repo.git``) carries no secret and is kept as is; a
    password in any URL is removed together with its user name.
    """
    url = url.strip()
    if not _URL_WITH_SCHEME.match(url):
        return url  # scp-like ssh (user@host:path) or a local path: no password syntax
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and parts.netloc:
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if not at:
            return url
        if parts.scheme.lower() in _SSH_SCHEMES and ":" not in userinfo:
            return url
        return urlunsplit(parts._replace(netloc=hostport))
    # Unparseable (e.g. a broken IPv6 literal): drop anything that looks like userinfo.
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1", url)


def relative_path(ctx: GitContext, path: Path | str) -> str:
    """``path`` relative to the repository root, in POSIX form; a path outside the repository stays as given, normalized.

    A relative ``path`` is taken relative to the current directory when that
    lands inside the repository, and as repository-relative otherwise.
    """
    return relative_to_root(ctx.root, path)


def relative_to_root(root: Path | str, path: Path | str) -> str:
    """:func:`relative_path` for a bare repository root."""
    given = os.fspath(path)
    candidates = [given] if os.path.isabs(given) else []
    if not candidates:
        try:
            candidates.append(os.path.join(os.getcwd(), given))
        except OSError:
            pass
    root_s = os.fspath(root)
    for absolute in candidates:
        for base, target in ((root_s, absolute), (os.path.realpath(root_s), os.path.realpath(absolute))):
            inside = _inside(os.path.normpath(base), os.path.normpath(target))
            if inside is not None:
                return inside
    return _posix(os.path.normpath(given)) if given else ""


def _inside(root: str, target: str) -> str | None:
    """``target`` relative to ``root`` in POSIX form, or None when it is not inside."""
    try:
        rel = os.path.relpath(target, root)
    except ValueError:  # another drive on Windows
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return _posix(rel)


def _posix(path: str) -> str:
    posix = path.replace(os.sep, "/") if os.sep != "/" else path
    return posixpath.normpath(posix) if posix else posix


def attributes(ctx: GitContext | None) -> dict[str, str]:
    """The vocabulary attributes of a repository context; unknown values ("") are left out."""
    if ctx is None:
        return {}
    values: Mapping[str, str] = {
        VCS_REPOSITORY_URL_FULL: ctx.repository,
        VCS_REF_HEAD_NAME: ctx.branch,
        VCS_REF_HEAD_REVISION: ctx.commit,
    }
    return {name: value for name, value in values.items() if value}
