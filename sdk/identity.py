"""Who is asking, and where that came from: never guessed silently.

Each part of an :class:`Identity` is taken from the first place that knows it,
and :attr:`Identity.sources` records which place that was:

============  =====================================================================
field         looked up in, first hit wins (the source recorded)
============  =====================================================================
``user_id``   argument (``argument``); ``AITRAIL_USER_ID`` (``environment:AITRAIL_USER_ID``);
              else the e-mail address, with the e-mail's source
``email``     argument; ``AITRAIL_USER_EMAIL``; git's ``user.email`` (``git-config``)
``name``      argument; ``AITRAIL_USER_NAME``; git's ``user.name`` (``git-config``)
``team``      argument; ``AITRAIL_TEAM``; the repository's ``.aitrail/teams``
              (``team-map:.aitrail/teams``); its CODEOWNERS (``codeowners:.github/CODEOWNERS``)
============  =====================================================================

A part nobody knows is ``""`` with the source ``none``.

The team map: ``.aitrail/teams``
--------------------------------

A small text file at the repository root saying which team owns the work,
by path or by person. One rule a line, a pattern and then the team::

    # which team owns the work (last matching rule wins)
    *                       platform             # everything, unless a later rule says otherwise
    /services/payments/     payments-team
    *.tf                    @acme/infra          # "@org/" is dropped: team "infra"
    alice@example.com       payments-team        # an e-mail: the person, wherever she works
    /services/payments/vendor/                   # no team: nobody owns the work here

* Blank lines and lines starting with ``#`` are ignored; `` #`` starts a trailing comment.
* A pattern with the shape ``local@domain`` (no ``/``) is an e-mail address:
  it matches the person asking (case-insensitive). Any other pattern is a
  path pattern with the CODEOWNERS syntax below, matched against the file
  written (relative to the repository root).
* The team is the rest of the line (spaces allowed); an owner spelled
  ``@org/team`` names the team ``team``; nothing after the pattern means "no team".
* As in CODEOWNERS, the LAST matching rule wins, path and e-mail rules
  alike: put e-mail rules below path rules when a person's team should win
  over the owner of the code, above them for the opposite.

When the team map has no matching rule, the team is taken from the owners of
the file in the first of ``.github/CODEOWNERS``, ``CODEOWNERS``,
``docs/CODEOWNERS``, ``.gitlab/CODEOWNERS``: the first owner spelled
``@org/team`` (people and e-mail owners name no team).

Path patterns (GitHub CODEOWNERS semantics)
-------------------------------------------

``*`` matches within one path segment, ``?`` one character, ``**`` any number
of segments; ``\\`` escapes the next character (``\\ `` for a space). A pattern
starting with ``/`` or containing a ``/`` in its middle is anchored at the
repository root, any other (``*.py``, ``docs``, ``apps/``) matches at any
depth. A pattern ending with ``/`` matches what is inside a directory; a
pattern naming a directory matches everything below it, except that a last
segment of a lone ``*`` (``docs/*``) matches only the files directly in it.
Negation (``!``) and character classes (``[ab]``) are not supported, as on GitHub.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from aitrail.sdk.environment import AITRAIL_TEAM, AITRAIL_USER_EMAIL, AITRAIL_USER_ID, AITRAIL_USER_NAME
from aitrail.sdk.git import git_context, relative_to_root, run_git
from aitrail.sdk.vocabulary import IDENTITY_SOURCE, TEAM, USER_EMAIL, USER_ID, USER_NAME

FIELDS = ("user_id", "email", "name", "team")
"""The parts of an identity, in the order :func:`attributes` reports their sources."""

SOURCE_ARGUMENT = "argument"
SOURCE_GIT_CONFIG = "git-config"
SOURCE_NONE = "none"

TEAM_MAP = ".aitrail/teams"
MATCH_ALL = frozenset({"*", "**", "/**", "**/*"})
"""Path patterns that match every file: the team (or owner) of work that is about no file in particular."""
"""The aitrail team map, relative to the repository root."""
CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
"""Where a CODEOWNERS file is looked for; the first one found is used (GitHub's order)."""

_ENVIRONMENT = {"user_id": AITRAIL_USER_ID, "email": AITRAIL_USER_EMAIL, "name": AITRAIL_USER_NAME, "team": AITRAIL_TEAM}
_EMAIL_PATTERN = re.compile(r"^[^@\s/]+@[^@\s/]+$")
_TEAM_OWNER = re.compile(r"^@[^/\s]+/(\S+)$")
_COMMENT = re.compile(r"(?:^|\s)#")


@dataclass(frozen=True)
class Identity:
    """Who is asking, and for each field where it came from (see the module documentation)."""

    user_id: str
    email: str
    name: str
    team: str
    sources: dict[str, str] = field(hash=False)


def resolve_identity(
    user_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    team: str | None = None,
    repo_root: Path | str | None = None,
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] = os.environ,
) -> Identity:
    """Who is asking: arguments, then ``env``, then git config, then the team map and CODEOWNERS.

    ``path`` is the file the work is about (relative to the repository root,
    or absolute); without it only e-mail rules of the team map can name a
    team. ``repo_root`` defaults to the repository around ``path`` (when
    absolute) or the current directory. Empty values count as unknown.
    Never raises for a missing or unreadable repository or file.
    """
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for key, given in (("user_id", user_id), ("email", email), ("name", name), ("team", team)):
        if value := _clean(given):
            values[key], sources[key] = value, SOURCE_ARGUMENT
        elif value := _clean(env.get(_ENVIRONMENT[key])):
            values[key], sources[key] = value, f"environment:{_ENVIRONMENT[key]}"

    root: Path | None = Path(repo_root) if repo_root is not None else None
    if root is None and not {"email", "name", "team"} <= values.keys():
        start = path if path is not None and os.path.isabs(path) else "."
        ctx = git_context(start)
        root = ctx.root if ctx is not None else None

    if not {"email", "name"} <= values.keys():
        for key, value in _git_user(root).items():
            if key not in values:
                values[key], sources[key] = value, SOURCE_GIT_CONFIG

    if "user_id" not in values and "email" in values:
        values["user_id"], sources["user_id"] = values["email"], sources["email"]

    if "team" not in values and root is not None:
        relative = _repo_relative(root, path) if path is not None else None
        found = _team_from_files(root, relative, values.get("email", ""))
        if found is not None:
            values["team"], sources["team"] = found

    return Identity(
        user_id=values.get("user_id", ""),
        email=values.get("email", ""),
        name=values.get("name", ""),
        team=values.get("team", ""),
        sources={key: sources.get(key, SOURCE_NONE) for key in FIELDS},
    )


def attributes(identity: Identity) -> dict[str, str]:
    """Vocabulary attributes: the known parts (unknown ones left out) and :data:`IDENTITY_SOURCE`."""
    attrs = {
        name: value
        for name, value in (
            (USER_ID, identity.user_id),
            (USER_EMAIL, identity.email),
            (USER_NAME, identity.name),
            (TEAM, identity.team),
        )
        if value
    }
    attrs[IDENTITY_SOURCE] = ",".join(f"{key}={identity.sources.get(key, SOURCE_NONE)}" for key in FIELDS)
    return attrs


def codeowners(repo_root: Path | str, path: str | os.PathLike[str]) -> list[str]:
    """Owners of ``path`` in the repository's CODEOWNERS file, as written there ([] when none or no file)."""
    found = _codeowners_file(Path(repo_root))
    if found is None:
        return []
    return owners_in(found[1], _repo_relative(Path(repo_root), path))


def owners_in(text: str, path: str) -> list[str]:
    """Owners of ``path`` (relative to the repository root) by the CODEOWNERS text ``text`` (the last matching rule)."""
    owners = _last_match(_parse_codeowners(text), path, email=None)
    return list(owners) if owners is not None else []


def team_of_owner(owner: str) -> str | None:
    """The team an owner names: ``@org/payments-team`` -> ``payments-team``; people and e-mails name none."""
    matched = _TEAM_OWNER.match(owner.strip())
    return matched.group(1) if matched else None


# --- internals ------------------------------------------------------------


def _clean(value: str | None) -> str:
    return value.strip() if isinstance(value, str) else ""


def _git_user(root: Path | None) -> dict[str, str]:
    """``user.email`` and ``user.name`` as git sees them in ``root`` (or the current directory)."""
    listing = run_git(root if root is not None else ".", "config", "--null", "--get-regexp", r"^user\.(email|name)$")
    found: dict[str, str] = {}
    for entry in (listing or "").split("\0"):
        key, _, value = entry.partition("\n")
        if key in ("user.email", "user.name") and value.strip():
            found["email" if key == "user.email" else "name"] = value.strip()  # the last one wins, as in git
    return found


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def _codeowners_file(root: Path) -> tuple[str, str] | None:
    """(location, text) of the first CODEOWNERS file of the repository."""
    for location in CODEOWNERS_LOCATIONS:
        candidate = root / location
        if candidate.is_file() and (text := _read(candidate)) is not None:
            return location, text
    return None


def _team_from_files(root: Path, relative: str | None, email: str) -> tuple[str, str] | None:
    """(team, source) from the team map, else CODEOWNERS; None when neither says anything."""
    text = _read(root / TEAM_MAP)
    if text is not None:
        team = _last_match(_parse_team_map(text), relative, email)
        if team is not None:
            return team, f"team-map:{TEAM_MAP}"
    found = _codeowners_file(root)
    if found is None:
        return None
    location, text = found
    owners = _last_match(_parse_codeowners(text), relative, email=None)
    for owner in owners or ():
        if (name := team_of_owner(owner)) is not None:
            return name, f"codeowners:{location}"
    return None


def _split_pattern(line: str) -> tuple[str, str]:
    """The first (backslash-escaped) word of a line, and the rest."""
    i = 0
    while i < len(line) and not line[i].isspace():
        i += 2 if line[i] == "\\" else 1
    return line[:i], line[i:]


def _rule_lines(text: str) -> Iterable[tuple[str, str]]:
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if re.match(r"^\^?\[[^\]]*\]", line):
            continue  # a GitLab section header
        yield _split_pattern(line)


def _parse_codeowners(text: str) -> list[tuple[str, object]]:
    rules: list[tuple[str, object]] = []
    for pattern, rest in _rule_lines(text):
        owners = _COMMENT.split(rest, maxsplit=1)[0].split()
        rules.append((pattern, tuple(owners)))
    return rules


def _parse_team_map(text: str) -> list[tuple[str, object]]:
    rules: list[tuple[str, object]] = []
    for pattern, rest in _rule_lines(text):
        team = _COMMENT.split(rest, maxsplit=1)[0].strip()
        owner_team = team_of_owner(team)
        rules.append((pattern, owner_team if owner_team is not None else team.lstrip("@")))
    return rules


def _last_match(rules: list[tuple[str, object]], relative: str | None, email: str | None):  # noqa: ANN202
    """The value of the last rule matching the path ``relative`` or the e-mail address; None if none does.

    ``email=None``: every pattern is a path pattern (CODEOWNERS). Work about no file (a chat answer, a
    commit as a whole) matches the rules that match every file (``*``, ``**``): the repository's default.
    """
    path = _normalize(relative) if relative is not None else None
    found = None
    for pattern, value in rules:
        if email is not None and _EMAIL_PATTERN.match(pattern):
            if email and pattern.casefold() == email.casefold():
                found = value
        elif path is not None and path_matches(pattern, path) or path is None and pattern in MATCH_ALL:
            found = value
    return found


def _repo_relative(root: Path, path: str | os.PathLike[str]) -> str:
    """A relative ``path`` is already repository-relative; an absolute one is made so."""
    given = os.fspath(path)
    return relative_to_root(root, given) if os.path.isabs(given) else _normalize(os.path.normpath(given))


def _normalize(relative: str) -> str:
    path = relative.replace("\\", "/") if os.sep == "\\" else relative
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def path_matches(pattern: str, path: str) -> bool:
    """Whether a CODEOWNERS ``pattern`` matches ``path`` (relative to the repository root, POSIX)."""
    regex = _pattern_regex(pattern)
    return regex is not None and regex.match(_normalize(path)) is not None


@lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str] | None:
    """The regular expression of a CODEOWNERS pattern (see the module documentation), None if it matches nothing."""
    if not pattern or pattern == "/" or "***" in pattern:
        return None
    segments = pattern.split("/")
    if segments[0] == "":
        segments = segments[1:]  # leading "/": anchored at the root
    elif (len(segments) == 1 or (len(segments) == 2 and segments[1] == "")) and segments[0] != "**":
        segments = ["**", *segments]  # one segment: at any depth
    if len(segments) > 1 and segments[-1] == "":
        segments[-1] = "**"  # trailing "/": everything inside
    last = len(segments) - 1
    out = [r"\A"]
    need_slash = False
    for i, segment in enumerate(segments):
        if segment == "**":
            if i == 0 and i == last:
                out.append(".+")
            elif i == 0:
                out.append("(?:.+/)?")
                need_slash = False
            elif i == last:
                out.append("/.*")
            else:
                out.append("(?:/.+)?")
                need_slash = True
            continue
        if need_slash:
            out.append("/")
        if segment == "*":
            out.append("[^/]+")  # a lone "*" is one segment: no descendants
        else:
            out.append(_segment_regex(segment))
            if i == last:
                out.append("(?:/.*)?")  # a name matches the directory's contents too
        need_slash = True
    out.append(r"\Z")
    return re.compile("".join(out))


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    escaped = False
    for ch in segment:
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    return "".join(out)
