"""Sign-offs: a person reviewed or approved a commit, with the checklist's answers.

Three places say who signed off (``aitrail.signoff.source``):

``cli``
    ``aitrail signoff REV|RANGE --role reviewer|approver``: the signer is the current identity, resolved as
    for generations (``AITRAIL_USER_EMAIL``, git config, ...), with where it came from.
``trailer``
    The commit message's trailers (``Reviewed-by: Bo <bo@example.com>``); which trailer means which role
    is the policy's ``[trailers]`` table (:data:`DEFAULT_TRAILERS` without one).
``github``
    ``aitrail signoff import FILE``: the JSON GitHub's "list reviews for a pull request" API returns; each
    review covers every commit of the pull request (given as the pull request's commits API JSON, or a
    range); which review state means which role is the policy's ``[github.states]``.

Each sign-off has a deterministic id (:func:`signoff_id`: commit, role, signer, source, change), so
recording it twice is one sign-off. Recorded sign-offs go two ways: a record (:meth:`Signoff.record`,
``aitrail.kind=signoff``: the collector derives ``ai_signoffs`` from it) and a line in the local sign-off
journal (:class:`SignoffJournal`, beside the generation journal), which ``aitrail check`` reads offline. The
record of a developer's own sign-off travels through the SDK (:func:`record`, with its outbox); imported
reviews through the shared import delivery (:func:`aitrail.collector.imports.deliver`, chosen by the CLI).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aitrail.errors import UsageError
from aitrail.sdk import vocabulary as v
from aitrail.sdk.accountability.history import Commit, resolve_commits
from aitrail.sdk.journal import default_path as generation_journal_path
from aitrail.sdk.records import Record, emit as emit_records

REVIEWER = "reviewer"
APPROVER = "approver"
ROLES = (REVIEWER, APPROVER)
"""Every sign-off role."""
ANSWERS = ("yes", "no", "n/a")
"""Every checklist answer."""

SOURCE_CLI = "cli"
SOURCE_TRAILER = "trailer"
SOURCE_GITHUB = "github"

DEFAULT_TRAILERS: Mapping[str, str] = {
    "Reviewed-by": REVIEWER, "Acked-by": REVIEWER, "Signed-off-by": REVIEWER, "Approved-by": APPROVER,
}
"""Commit trailer -> role, unless the policy's ``[trailers]`` says otherwise (keys compared case-insensitively)."""
DEFAULT_GITHUB_STATES: Mapping[str, str] = {"APPROVED": APPROVER, "COMMENTED": REVIEWER}
"""GitHub review state -> role, unless the policy's ``[github.states]`` says otherwise; other states
(CHANGES_REQUESTED, DISMISSED, PENDING) are no sign-off."""

_PERSON = re.compile(r"^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$")


@dataclass(frozen=True)
class Signoff:
    """One person's sign-off of one commit in one role."""

    commit: str
    role: str
    signer_email: str
    signer_name: str
    source: str
    signer_id: str = ""
    identity_source: str = ""
    repository: str = ""
    change: str = ""
    """The change request (pull request URL or number) it was given on, "" when none."""
    checklist: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    time: float = 0.0
    team: str = ""

    @property
    def id(self) -> str:
        return signoff_id(self.commit, self.role, self.signer, self.source, self.change)

    @property
    def signer(self) -> str:
        """Who signed, as compared with other people: the e-mail address (case-folded), else the id."""
        return (self.signer_email or self.signer_id).casefold()

    def attributes(self) -> dict[str, Any]:
        """The span attributes of this sign-off (unknown values left out)."""
        values: dict[str, Any] = {
            v.KIND: v.KIND_SIGNOFF, v.SIGNOFF_ID: self.id, v.SIGNOFF_ROLE: self.role, v.SIGNOFF_SOURCE: self.source,
            v.VCS_REF_HEAD_REVISION: self.commit, v.VCS_REPOSITORY_URL_FULL: self.repository,
            v.SIGNOFF_CHANGE: self.change, v.USER_EMAIL: self.signer_email, v.USER_NAME: self.signer_name,
            v.USER_ID: self.signer_id or self.signer_email, v.IDENTITY_SOURCE: self.identity_source,
            v.SIGNOFF_CHECKLIST: json.dumps(dict(self.checklist), sort_keys=True) if self.checklist else "",
            v.SIGNOFF_NOTE: self.note, v.TEAM: self.team,
        }
        return {key: value for key, value in values.items() if value != ""}

    def record(self) -> Record:
        """This sign-off as a record (docs/design/records.md): the collector derives ``ai_signoffs`` from it."""
        return Record(v.KIND_SIGNOFF, self.id, int((self.time or time.time()) * 1e9), self.attributes(),
                      name=f"signoff {self.role} {self.commit[:12]}")


def signoff_id(commit: str, role: str, signer: str, source: str, change: str = "") -> str:
    """Hex of the first 16 bytes of SHA-256 over what makes a sign-off the same one (docs/design/records.md)."""
    key = "\0".join((commit, role, signer.casefold(), source, change))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def parse_person(text: str) -> tuple[str, str]:
    """``Bo Li <bo@example.com>`` -> (name, email); a bare address is its own e-mail; else (text, "")."""
    matched = _PERSON.match(text)
    if matched:
        return matched[1], matched[2]
    text = text.strip()
    return ("", text) if re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", text) else (text, "")


def parse_answers(answers: Iterable[str]) -> dict[str, str]:
    """``KEY=yes|no|n/a`` strings as a dictionary; anything else is a :class:`UsageError` saying what to write."""
    found: dict[str, str] = {}
    for answer in answers:
        key, sep, value = answer.partition("=")
        key, value = key.strip(), value.strip().lower()
        if not sep or not key or value not in ANSWERS:
            raise UsageError(f"checklist answer {answer!r}: write KEY=yes, KEY=no or KEY=n/a")
        found[key] = value
    return found


# --- where sign-offs come from ----------------------------------------------------------------------


def from_cli(root: Path | str, spec: str, role: str, answers: Mapping[str, str], note: str = "",
             repository: str = "", now: float | None = None) -> list[Signoff]:
    """The current identity's sign-off of every commit ``spec`` names (one revision or a range)."""
    from aitrail.sdk.identity import FIELDS, resolve_identity

    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}: use {' or '.join(ROLES)}")
    who = resolve_identity(repo_root=root)
    if not (who.email or who.user_id):
        raise UsageError("who is signing off is unknown: set AITRAIL_USER_EMAIL or git's user.email")
    sources = ",".join(f"{key}={who.sources[key]}" for key in FIELDS)
    when = time.time() if now is None else now
    return [Signoff(sha, role, who.email, who.name, SOURCE_CLI, signer_id=who.user_id, identity_source=sources,
                    repository=repository, checklist=dict(answers), note=note, time=when, team=who.team)
            for sha in resolve_commits(root, spec)]


def from_trailers(commit: Commit, trailers: Mapping[str, str] = DEFAULT_TRAILERS,
                  repository: str = "") -> list[Signoff]:
    """The sign-offs a commit's message names in its trailers (``trailers``: trailer key -> role)."""
    roles = {key.casefold(): role for key, role in trailers.items()}
    found = []
    for key, value in commit.trailers:
        role = roles.get(key.casefold())
        if role is None:
            continue
        name, email = parse_person(value)
        found.append(Signoff(commit.sha, role, email, name, SOURCE_TRAILER, signer_id=email or name,
                             identity_source=f"trailer:{key}", repository=repository))
    return found


def _timestamp(text: object) -> float:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def from_github_reviews(reviews: object, commits: Sequence[str], states: Mapping[str, str] = DEFAULT_GITHUB_STATES,
                        people: Mapping[str, str] | None = None, repository: str = "") -> list[Signoff]:
    """Sign-offs from GitHub's pull request reviews JSON: each counted review covers every one of ``commits``.

    ``people`` maps a GitHub login to the e-mail address the policy compares (the prompter is known by
    e-mail); a login it does not name is compared as ``login`` itself.
    """
    if not isinstance(reviews, list):
        raise UsageError("a review export must be the JSON array GitHub's pull request reviews API returns")
    people = {login.casefold(): email for login, email in (people or {}).items()}
    found = []
    for number, review in enumerate(reviews, 1):
        if not isinstance(review, dict) or not isinstance(review.get("state"), str):
            raise UsageError(f"review {number} of the export has no state: is this the pull request reviews API's JSON?")
        role = states.get(review["state"].upper())
        user = review.get("user") if isinstance(review.get("user"), dict) else {}
        login = str(user.get("login") or "")
        if role is None or not login:
            continue
        change = str(review.get("pull_request_url") or review.get("html_url", "")).split("#")[0]
        for sha in commits:
            found.append(Signoff(sha, role, people.get(login.casefold(), ""), login, SOURCE_GITHUB,
                                 signer_id=login, identity_source="github:login", repository=repository,
                                 change=change, note=str(review.get("body") or ""),
                                 time=_timestamp(review.get("submitted_at"))))
    return found


def pull_request_commits(root: Path | str, commits_file: Path | None, spec: str | None) -> list[str]:
    """The pull request's commits: from the PR commits API JSON (``[{"sha": ...}]``), else a range."""
    if commits_file is not None:
        data = load_json(commits_file)
        if not isinstance(data, list) or not all(isinstance(c, dict) and isinstance(c.get("sha"), str) for c in data):
            raise UsageError(f"{commits_file}: expected the JSON array GitHub's pull request commits API returns "
                             "(objects with a \"sha\")")
        return [c["sha"] for c in data]
    if spec:
        return resolve_commits(root, spec)
    raise UsageError("say which commits the pull request has: --commits FILE (the PR commits API JSON) or "
                     "--range BASE..HEAD")


def load_json(path: Path) -> object:
    """A JSON file, or a :class:`UsageError` saying why it cannot be read."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None


# --- recording ---------------------------------------------------------------------------------------


def journal_path() -> Path:
    """The local sign-off journal: ``signoffs.jsonl`` beside the generation journal (``AITRAIL_JOURNAL``)."""
    return generation_journal_path().with_name("signoffs.jsonl")


class SignoffJournal:
    """Sign-offs recorded on this machine (JSON lines, mode 0600): what ``aitrail check`` reads offline."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else journal_path()

    def append(self, signoffs: Iterable[Signoff]) -> None:
        lines = [json.dumps({**asdict(s), "checklist": dict(s.checklist)}, separators=(",", ":")) + "\n"
                 for s in signoffs]
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as handle:
            handle.writelines(lines)

    def for_commits(self, commits: Iterable[str]) -> dict[str, list[Signoff]]:
        """commit -> its sign-offs, one per id (the latest line wins); unreadable lines are skipped."""
        wanted = set(commits)
        found: dict[str, dict[str, Signoff]] = {}
        if not self.path.exists():
            return {}
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    signoff = Signoff(**json.loads(line))
                except (ValueError, TypeError):
                    continue
                if signoff.commit in wanted:
                    found.setdefault(signoff.commit, {})[signoff.id] = signoff
        return {commit: list(by_id.values()) for commit, by_id in found.items()}


def record(signoffs: Sequence[Signoff], journal: SignoffJournal | None = None) -> None:
    """Keep ``signoffs`` in the local journal and emit their spans through the SDK (not flushed: see
    :func:`aitrail.sdk.hooks.deliver`)."""
    (journal or SignoffJournal()).append(signoffs)
    emit(signoffs)


def emit_trailers(root: Path | str, sha: str, repository: str = "") -> list[Signoff]:
    """The commit hook's part: a span for each sign-off the new commit's trailers name (the policy's mapping),
    so the store holds them beside the CLI's and imported ones. Not journaled: ``aitrail check`` reads
    trailers from the repository itself."""
    from aitrail.sdk.accountability.history import read_commit
    from aitrail.sdk.accountability.policy import load_policy

    found = from_trailers(read_commit(root, sha), load_policy(root).trailers, repository)
    emit(found)
    return found


def emit(signoffs: Sequence[Signoff]) -> None:
    """The records of ``signoffs``, through the SDK's tracer (the road of a developer's machine: the outbox keeps
    them while no collector answers)."""
    emit_records([signoff.record() for signoff in signoffs])
