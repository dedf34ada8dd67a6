"""``aitrail check``: does every commit of a range meet the repository's policy?

Offline first — everything it needs can come from the repository and this machine:

- **AI lines** of a commit: its added lines looked up in the local generation journal (as the commit hook
  does, :func:`aitrail.sdk.hooks.attribute_diff`); where the journal knows nothing (a CI machine), the
  ``AI-Assisted: <ai>/<added> lines`` trailer the hook adds (``aitrail hook install --trailer``); and,
  when a collector is reachable, the commit's row in ``ai_commits``.
- **Who prompted**: the commit's author (the journal is the author's machine), and with a collector the
  people of the generations the commit carries.
- **Sign-offs**: the commit's trailers (the policy's ``[trailers]``), the local sign-off journal
  (``aitrail signoff`` and ``aitrail signoff import`` write it), and with a collector ``ai_signoffs``.
- **Owners**: CODEOWNERS as it was at that commit.
- **The policy**: ``.aitrail/policy.toml`` as committed where the range starts (:func:`policy_in_force`), never
  the working tree, so a commit of the range cannot weaken what it is checked against.

A commit needs sign-off when it changes a path of the policy's ``paths`` (with AI-written lines there,
unless ``changes = "all"``). Each gap is one human sentence in :attr:`CommitCheck.missing`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aitrail.errors import UsageError
from aitrail.sdk.accountability.history import Commit, changed_paths, file_at, range_base, read_commit, resolve_commits
from aitrail.sdk.accountability.policy import Policy, policy_at
from aitrail.sdk.accountability.signoff import APPROVER, REVIEWER, Signoff, SignoffJournal, from_trailers
from aitrail.sdk.identity import CODEOWNERS_LOCATIONS, owners_in, path_matches

AI_TRAILER = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s+lines\b")
"""The value of the ``AI-Assisted`` trailer: ``12/20 lines (claude-code)``."""


@dataclass(frozen=True)
class Evidence:
    """What a collector knows about some commits (empty when none was asked)."""

    ai_files: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """commit -> file path -> AI lines."""
    prompters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """commit -> e-mail addresses of the people whose generations it carries."""
    signoffs: Mapping[str, tuple[Signoff, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CommitCheck:
    """One commit against the policy."""

    commit: str
    ai_lines: int
    needs_signoff: bool
    prompters: tuple[str, ...]
    signoffs: tuple[Signoff, ...]
    missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing

    def as_json(self) -> dict[str, object]:
        return {
            "commit": self.commit, "ok": self.ok, "ai_lines": self.ai_lines, "needs_signoff": self.needs_signoff,
            "prompters": list(self.prompters), "missing": list(self.missing),
            "signoffs": [{"role": s.role, "signer": s.signer_email or s.signer_id, "source": s.source,
                          "checklist": dict(s.checklist)} for s in self.signoffs],
        }


@dataclass(frozen=True)
class CheckResult:
    """Every commit of a range against the policy."""

    policy: Policy
    commits: tuple[CommitCheck, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.commits)

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "policy": self.policy.source, "policy_file": self.policy.file or None,
                "policy_revision": self.policy.revision or None, "commits": [c.as_json() for c in self.commits]}


def default_range(root: Path | str) -> str:
    """What a branch adds: ``@{upstream}..HEAD`` when it has an upstream, else ``HEAD`` alone."""
    from aitrail.sdk.git import run_git

    upstream = run_git(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    return f"{upstream}..HEAD" if upstream else "HEAD"


def policy_in_force(root: Path | str, spec: str | Sequence[str]) -> Policy:
    """The policy ``spec``'s commits are checked against: as committed where the range starts
    (:func:`~aitrail.sdk.accountability.history.range_base`), so no commit of the range can weaken it; a bad file
    there is a :class:`~aitrail.errors.ConfigError` naming the revision, the key and what is wrong."""
    return policy_at(root, range_base(root, spec) if spec else None)


def check(root: Path | str, spec: str | Sequence[str], policy: Policy, evidence: Evidence | None = None,
          journal: SignoffJournal | None = None) -> CheckResult:
    """Check the commits ``spec`` names (a revision, a range, or a list of commit ids) against ``policy``."""
    from aitrail.sdk.hooks import journal_index

    shas = resolve_commits(root, spec) if isinstance(spec, str) else list(spec)
    evidence = evidence or Evidence()
    local = (journal or SignoffJournal()).for_commits(shas)
    index = journal_index(root)
    results = [
        _check_commit(root, read_commit(root, sha), policy, index, evidence,
                      [*local.get(sha, ()), *evidence.signoffs.get(sha, ())])
        for sha in shas
    ]
    return CheckResult(policy, tuple(results))


def ai_files(root: Path | str, commit: Commit, index: Mapping[int, object], evidence: Evidence) -> dict[str, int]:
    """File -> AI lines of ``commit``: the journal's, else the collector's; ``{"*": n}`` when only the
    ``AI-Assisted`` trailer knows (every changed path is then taken as AI-written)."""
    from aitrail.sdk.hooks import attribute_diff, commit_diff

    _, diff = commit_diff(Path(root), commit.sha)
    found = {f.path: f.ai for f in attribute_diff(diff, index).files if f.ai}  # type: ignore[arg-type]
    for path, lines in evidence.ai_files.get(commit.sha, {}).items():
        found[path] = max(found.get(path, 0), lines)
    if not found:
        for key, value in commit.trailers:
            matched = AI_TRAILER.match(value) if key.casefold() == "ai-assisted" else None
            if matched and int(matched[1]):
                return {"*": int(matched[1])}
    return found


def _owners_text(root: Path | str, sha: str) -> tuple[str, str] | None:
    for location in CODEOWNERS_LOCATIONS:
        text = file_at(root, sha, location)
        if text is not None:
            return location, text
    return None


def _same_person(signoff: Signoff, people: Iterable[str]) -> bool:
    return signoff.signer in {p.casefold() for p in people if p}


def _is_owner(signoff: Signoff, owner: str, policy: Policy) -> bool:
    """Whether a signer is one of CODEOWNERS' ``owner`` (an address, ``@login``, or ``@org/team`` by the
    policy's people table)."""
    if "@" in owner and not owner.startswith("@"):
        return signoff.signer == owner.casefold()
    handle = owner.lstrip("@").casefold()
    if signoff.signer_id.casefold() == handle:
        return True
    return signoff.signer_email.casefold() in {e.casefold() for e in policy.emails_of(owner)}


def _check_commit(root: Path | str, commit: Commit, policy: Policy, index: Mapping[int, object], evidence: Evidence,
                  recorded: Sequence[Signoff]) -> CommitCheck:
    files = ai_files(root, commit, index, evidence)
    ai_lines = sum(files.values())
    changed = changed_paths(root, commit.sha)
    considered = changed if (policy.changes == "all" or "*" in files) else [p for p in changed if files.get(p)]
    needing = [p for p in considered if any(path_matches(pattern, p) for pattern in policy.paths)]
    prompters = tuple(sorted({commit.author_email, *evidence.prompters.get(commit.sha, ())} - {""}))
    by_id = {s.id: s for s in [*from_trailers(commit, policy.trailers), *recorded]}
    signoffs = tuple(by_id.values())
    if not needing:
        return CommitCheck(commit.sha, ai_lines, False, prompters, signoffs, ())

    missing: list[str] = []
    eligible = [s for s in signoffs if not (policy.not_prompter and _same_person(s, prompters))]
    counted: list[Signoff] = []
    for role, wanted in ((APPROVER, policy.approvers), (REVIEWER, policy.reviewers)):
        taken = {s.signer for s in counted} if policy.distinct else set()
        people = []
        for signoff in eligible:
            if signoff.role == role and signoff.signer not in taken and signoff.signer not in people:
                people.append(signoff.signer)
                counted.append(signoff)
        if len(people) < wanted:
            others = f" other than the prompter ({', '.join(prompters)})" if policy.not_prompter and prompters else ""
            distinct = " and the other signers" if policy.distinct and role == REVIEWER and policy.approvers else ""
            article = "an" if role == APPROVER else "a"
            missing.append(f"{role}s: {len(people)} of {wanted} ({article} {role}{others}{distinct})")
    if policy.owner != "never":
        owners_file = _owners_text(root, commit.sha)
        for path in needing:
            owners = owners_in(owners_file[1], path) if owners_file else []
            if not owners:
                if policy.owner == "always":
                    missing.append(f"owner: {path} has no owner in CODEOWNERS at {commit.sha[:12]}")
                continue
            if not any(_is_owner(s, owner, policy) for s in eligible for owner in owners):
                missing.append(f"owner: none of {', '.join(owners)} (owners of {path} in {owners_file[0]} at "
                               f"{commit.sha[:12]}) signed off")
    if policy.checklist_required:
        for key, question in policy.checklist.items():
            answers = {s.signer_email or s.signer_id: s.checklist.get(key) for s in counted}
            said_no = sorted(who for who, answer in answers.items() if answer == "no")
            if said_no:
                missing.append(f"checklist {key}: answered no by {', '.join(said_no)} ({question})")
            elif not any(answers.values()):
                missing.append(f"checklist {key}: unanswered ({question})")
    return CommitCheck(commit.sha, ai_lines, True, prompters, signoffs, tuple(missing))


CHECK_COMMITS = "check_commits"
CHECK_SIGNOFFS = "check_signoffs"
"""The collector's questions (``dashboards/sql/<name>.sql``)."""


def collector_evidence(commits: Sequence[str], sql_url: str, token: str | None = None) -> Evidence:
    """What a running collector's store knows about ``commits`` (through its read-only SQL endpoint).

    Raises :class:`~aitrail.errors.AitrailError` (``StoreUnavailable`` when it cannot be reached); the caller
    decides whether to go on offline. Needs the server extra (``pip install 'aitrail[server]'``).
    """
    import json

    from aitrail.collector.query import endpoint_query
    from aitrail.dashboards.reports import Report

    def ask(name: str) -> list[dict[str, object]]:
        report = Report(name, name)
        data = endpoint_query(sql_url, report.tenant_sql if token else report.sql, "JSONEachRow",
                              {"commits": ",".join(commits)}, token)
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    ai_files: dict[str, dict[str, int]] = {}
    prompters: dict[str, tuple[str, ...]] = {}
    for row in ask(CHECK_COMMITS):
        sha = str(row["commit"])
        try:
            files = json.loads(str(row["files"]) or "[]")
        except ValueError:
            files = []
        ai_files[sha] = {f["path"]: int(f.get("ai", 0)) for f in files if isinstance(f, dict) and f.get("ai")}
        prompters[sha] = tuple(row["prompters"])  # type: ignore[arg-type]
    signoffs: dict[str, list[Signoff]] = {}
    for row in ask(CHECK_SIGNOFFS):
        signoffs.setdefault(str(row["commit"]), []).append(Signoff(**{k: row[k] for k in (
            "commit", "role", "signer_email", "signer_name", "signer_id", "identity_source", "source", "change",
            "checklist", "note", "team", "time")}))  # type: ignore[arg-type]
    return Evidence(ai_files, prompters, {k: tuple(v) for k, v in signoffs.items()})


def describe(result: CheckResult) -> list[str]:
    """The result for people, a line per commit and an indented line per gap, and a summary line."""
    lines = []
    for c in result.commits:
        mark = "ok  " if c.ok else "FAIL"
        who = f", prompted by {', '.join(c.prompters)}" if c.prompters and c.needs_signoff else ""
        what = f"{c.ai_lines} AI lines{who}" if c.needs_signoff else f"{c.ai_lines} AI lines: no sign-off needed"
        signed = ", ".join(f"{s.role} {s.signer_email or s.signer_id} ({s.source})" for s in c.signoffs)
        lines.append(f"{mark} {c.commit[:12]}  {what}" + (f"; signed: {signed}" if signed and c.needs_signoff else ""))
        lines.extend(f"       missing {gap}" for gap in c.missing)
    failing = sum(not c.ok for c in result.commits)
    lines.append(f"{len(result.commits) - failing} of {len(result.commits)} commits meet the policy; "
                 f"policy: {result.policy.source}")
    return lines


def pushed_commits(root: Path | str, refs: str) -> list[str]:
    """The commits a push sends, from the lines git gives a pre-push hook on its standard input
    (``<local ref> <local sha> <remote ref> <remote sha>``): new to the remote, oldest first."""
    from aitrail.sdk.accountability.history import git

    found: list[str] = []
    for line in refs.splitlines():
        parts = line.split()
        if len(parts) != 4 or set(parts[1]) == {"0"}:
            continue  # a blank line, or a deleted ref
        local, remote = parts[1], parts[3]
        new = [local, "--not", "--remotes"]
        try:  # the remote's tip may be unknown here (someone else pushed): then what no remote branch has
            listed = git(root, "rev-list", "--reverse", *(new if set(remote) == {"0"} else [f"{remote}..{local}"]), "--")
        except UsageError:
            listed = git(root, "rev-list", "--reverse", *new, "--")
        for sha in listed.splitlines():
            if sha and sha not in found:
                found.append(sha)
    return found
