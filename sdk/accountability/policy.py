"""The repository's accountability policy: ``.aitrail/policy.toml``.

What a change needs before it may ship: how many reviewers and approvers, that they are not the person
who prompted the AI nor each other, that an owner of the code (CODEOWNERS at that commit) is among them,
and which checklist questions they answer. Without the file the defaults below apply; a bad file is
refused with the key and what is wrong with it (:class:`~aitrail.errors.ConfigError`), never half-read.
The reference, with an example, is docs/accountability.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aitrail.errors import ConfigError
from aitrail.sdk.accountability.history import Base, file_at
from aitrail.sdk.accountability.signoff import DEFAULT_GITHUB_STATES, DEFAULT_TRAILERS, ROLES

POLICY_FILE = ".aitrail/policy.toml"
"""The policy, relative to the repository root."""

DEFAULT_CHECKLIST: Mapping[str, str] = {
    "tests": "Tests were added or updated for the AI-written code",
    "security": "Security-sensitive code was reviewed line by line",
    "secrets": "No secrets or credentials are in the change",
    "licences": "Licences of any copied code were checked",
    "explain": "The reviewer can explain what the AI-written code does",
}
"""The AI checklist when the policy names none: key -> question."""

CHANGES = ("ai", "all")
"""Which changes of the policy's paths need sign-off: those with AI-written lines, or every one."""
OWNER_RULES = ("where-named", "always", "never")
"""When an owner must sign off: where CODEOWNERS names one for a changed path, always (a path without an
owner is then a gap), or never."""


@dataclass(frozen=True)
class Policy:
    """A repository's policy; the defaults are the policy of a repository without the file."""

    paths: tuple[str, ...] = ("*",)
    changes: str = "ai"
    reviewers: int = 1
    approvers: int = 1
    not_prompter: bool = True
    distinct: bool = True
    owner: str = "where-named"
    checklist: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CHECKLIST))
    checklist_required: bool = False
    trailers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TRAILERS))
    github_states: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_GITHUB_STATES))
    people: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """A GitHub login (``octocat``) or owner handle (``@octocat``, ``@acme/payments``) -> e-mail addresses."""
    source: str = "defaults"
    """Where it was read from, for people: the file's path (and the commit), or ``defaults`` and why."""
    file: str = ""
    """The file read (``.aitrail/policy.toml``); "" for the defaults."""
    revision: str = ""
    """The commit it was read at; "" for the working tree, or the defaults when no commit came before."""

    def emails_of(self, handle: str) -> tuple[str, ...]:
        """The addresses the people table gives a login or handle (case-insensitive)."""
        wanted = handle.casefold()
        for key, emails in self.people.items():
            if key.casefold() in (wanted, f"@{wanted}", wanted.lstrip("@")):
                return emails
        return ()


def load_policy(root: Path | str) -> Policy:
    """The policy in the working tree of the repository at ``root``: its ``.aitrail/policy.toml``, else the
    defaults. What a change is checked against is the committed policy before it (:func:`policy_at`)."""
    path = Path(root) / POLICY_FILE
    if not path.exists():
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{POLICY_FILE}: cannot read it: {exc.strerror or exc}") from None
    return replace(parse_policy(text, POLICY_FILE), file=POLICY_FILE)


def policy_at(root: Path | str, base: Base | None) -> Policy:
    """The policy as committed at ``base``: its ``.aitrail/policy.toml`` there, else the defaults; with no
    ``base`` (nothing came before the commits checked), the defaults — the policy in force before any file.

    Reading it at the commit the checked ones are measured against, never from the working tree, means a change
    cannot weaken the policy it is checked against: an edit of the file takes effect for the commits after it
    lands, as CODEOWNERS is read as it was at each commit."""
    if base is None:
        return Policy(source="defaults: no commit before the commits checked")
    text = file_at(root, base.sha, POLICY_FILE)
    if text is None:
        return Policy(source=f"defaults: no {POLICY_FILE} at {base}", revision=base.sha)
    where = f"{POLICY_FILE} at {base}"
    return replace(parse_policy(text, where), file=POLICY_FILE, revision=base.sha)


class _Reader:
    """Takes a TOML table apart key by key, so every complaint names the key (``signoff.reviewers``)."""

    def __init__(self, where: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.where, self.table, self.prefix = where, dict(table), prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.prefix}{key}: {problem}")

    def sub(self, key: str) -> _Reader:
        value = self.table.pop(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table ([" + self.prefix + key + "])")
        return _Reader(self.where, value, f"{self.prefix}{key}.")

    def count(self, key: str, default: int) -> int:
        value = self.table.pop(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise self.fail(key, f"must be a whole number from 0 to 10, not {value!r}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.pop(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.table.pop(key, default)
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.table.pop(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(x, str) and x.strip() for x in value):
            raise self.fail(key, f"must be a non-empty list of strings, not {value!r}")
        return tuple(x.strip() for x in value)

    def mapping(self, allowed: tuple[str, ...] | None = None) -> dict[str, str]:
        out = {}
        for key in list(self.table):
            value = self.table.pop(key)
            if not isinstance(value, str) or not value.strip():
                raise self.fail(key, f"must be a non-empty string, not {value!r}")
            if allowed is not None and value not in allowed:
                raise self.fail(key, f"must be one of {', '.join(allowed)}, not {value!r}")
            out[key] = value.strip()
        return out

    def done(self) -> None:
        for key in self.table:
            raise self.fail(key, "unknown setting (see docs/accountability.md for every key)")


def parse_policy(text: str, where: str = POLICY_FILE) -> Policy:
    """A policy from its TOML text; a :class:`ConfigError` naming the key and the problem when it is bad."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    top = _Reader(where, data)
    defaults = Policy()
    signoff = top.sub("signoff")
    values: dict[str, Any] = dict(
        paths=signoff.strings("paths", defaults.paths),
        changes=signoff.choice("changes", defaults.changes, CHANGES),
        reviewers=signoff.count("reviewers", defaults.reviewers),
        approvers=signoff.count("approvers", defaults.approvers),
        not_prompter=signoff.flag("not_prompter", defaults.not_prompter),
        distinct=signoff.flag("distinct", defaults.distinct),
        owner=signoff.choice("owner", defaults.owner, OWNER_RULES),
    )
    signoff.done()
    checklist = top.sub("checklist")
    values["checklist_required"] = checklist.flag("required", defaults.checklist_required)
    questions = checklist.sub("questions")
    values["checklist"] = questions.mapping() or dict(DEFAULT_CHECKLIST)
    checklist.done()
    trailers = top.sub("trailers").mapping(ROLES)
    values["trailers"] = trailers or dict(DEFAULT_TRAILERS)
    github = top.sub("github")
    states = github.sub("states").mapping(ROLES)
    values["github_states"] = {k.upper(): r for k, r in states.items()} or dict(DEFAULT_GITHUB_STATES)
    github.done()
    people = top.sub("people")
    values["people"] = {key: people.strings(key, ()) for key in list(people.table)}
    top.done()
    return Policy(**values, source=where)
