"""git-ai authorship notes in: a repository's ``refs/notes/ai`` read into commits and generations.

git-ai (github.com/git-ai-project/git-ai) attaches one note per commit under ``refs/notes/ai``, in the
format of its standard ``authorship/3.0.0`` (``specs/git_ai_standard_v3.0.0.md``)::

    src/main.rs
      s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10,15-20     <- AI session s_..., one checkpoint t_...
      h_31dce776f88375 42-50                             <- a known human
    "src/my file.rs"
      abcd1234abcd1234 1-50                              <- legacy AI prompt (git-ai < 1.4)
    ---
    {"schema_version": "authorship/3.0.0", "base_commit_sha": "...", "prompts": {...},
     "sessions": {"s_c9883b05a2487d": {"agent_id": {"tool": "cursor", "id": "...", "model": "..."},
                                       "human_author": "dev@example.com"}},
     "humans": {"h_31dce776f88375": {"author": "Developer <dev@example.com>"}}}

Line numbers are those of the file at the noted commit. Each AI attestation (a session checkpoint or a
legacy prompt) of a file becomes one generation: its lines, their fingerprints (from ``git cat-file`` of
the file at the commit), the tool as assistant, the model, the conversation id as session, the directing
human as user; committed, so ``accepted``. Each noted commit becomes a commit span, as the post-commit
hook would have sent it: its fingerprinted added lines, how many of them the note attributes to AI, per
file, linked to its generations. Known-human lines and lines without attestation are human.

Every note is read and checked before anything is sent; one malformed note refuses the whole import,
naming the commit and the note's line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from aitrail.errors import ConfigError, InvalidImport
from aitrail.interop.lines import GitFailed, Repository, git, merge_ranges, range_fingerprints, range_lines
from aitrail.interop.spans import Destination, ImportedGeneration, ImportSummary, send_new, stable_id
from aitrail.sdk import vocabulary as v
from aitrail.sdk.edits import edits_from_diff
from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.records import Record

SOURCE = "git-ai"
NOTES_REF = "refs/notes/ai"
SCHEMA_VERSION = "authorship/3.0.0"

ASSISTANTS = {"claude": "claude-code", "gemini": "gemini-cli"}
"""git-ai's tool names that aitrail spells otherwise (the rest are kept: cursor, codex, copilot, windsurf...)."""

_SESSION_KEY = re.compile(r"^(s_[0-9a-fA-F]+)::t_[0-9a-fA-F]+$")
_HUMAN_KEY = re.compile(r"^h_[0-9a-fA-F]+$")
_LEGACY_KEY = re.compile(r"^[0-9a-fA-F]{7,64}$")
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")
_LOG_FORMAT = "%H%x00%P%x00%ae%x00%an%x00%ce%x00%at%x00%ct%x00%(trailers:only,unfold)%x1e"


@dataclass(frozen=True)
class Author:
    """Who wrote an attestation's lines: an AI session (tool, conversation, model, directing human) or a human."""

    human: bool
    tool: str = ""
    conversation: str = ""
    model: str = ""
    email: str = ""
    name: str = ""
    team: str = ""
    conversation_url: str = ""


@dataclass(frozen=True)
class Attestation:
    """One entry of the attestation section: a file, a key and its line ranges."""

    path: str
    key: str
    ranges: tuple[tuple[int, int], ...]
    line: int
    """The entry's line in the note (1-based), for error messages."""


@dataclass(frozen=True)
class Note:
    """A parsed authorship log."""

    commit: str
    attestations: tuple[Attestation, ...]
    authors: Mapping[str, Author]
    """Attestation key -> its author."""


def _fail(where: str, message: str) -> InvalidImport:
    return InvalidImport(f"{where}: {message}")


def _ranges(text: str, where: str) -> tuple[tuple[int, int], ...]:
    found = []
    for part in text.split(","):
        matched = _RANGE.match(part)
        if matched is None:
            raise _fail(where, f"{part!r} is no line range (write 7, 19-222 or 1,2,19-222)")
        first, last = int(matched.group(1)), int(matched.group(2) or matched.group(1))
        if first < 1 or last < first:
            raise _fail(where, f"line range {part} is empty or starts before line 1")
        found.append((first, last))
    return tuple(found)


def _string(value: Any, where: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _fail(where, "must be a string" + ("" if required else " or null"))
    return value


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be a JSON object")
    return value


def _author(record: Any, where: str, legacy: bool) -> Author:
    record = _object(record, where)
    agent = _object(record.get("agent_id"), f"{where}.agent_id")
    tool, conversation, model = (_string(agent.get(k), f"{where}.agent_id.{k}") for k in ("tool", "id", "model"))
    name, email = parseaddr(_string(record.get("human_author"), f"{where}.human_author", required=False))
    if "@" not in email:
        name, email = name or email, ""
    custom = record.get("custom_attributes") or {}
    team = _string(_object(custom, f"{where}.custom_attributes").get("team"), f"{where}.custom_attributes.team",
                   required=False)
    url = _string(record.get("messages_url"), f"{where}.messages_url", required=False) if legacy else ""
    return Author(False, tool, conversation, model, email, name, team, url)


def parse_note(text: str, commit: str) -> Note:
    """Parse and check one note (``authorship/3.0.0``); :class:`InvalidImport` names the commit and line."""
    where = f"{NOTES_REF} note of commit {commit}"
    lines = text.split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if "---" not in lines:
        raise _fail(where, "no '---' line between the attestations and the JSON metadata")
    divider = lines.index("---")
    try:
        metadata = json.loads("\n".join(lines[divider + 1 :]))
    except json.JSONDecodeError as exc:
        raise _fail(where, f"line {divider + 2 + exc.lineno - 1}: the metadata is not JSON: {exc.msg}") from None
    meta = _object(metadata, f"{where}: metadata")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise _fail(where, f"metadata.schema_version is {meta.get('schema_version')!r}; aitrail reads {SCHEMA_VERSION}")
    _string(meta.get("base_commit_sha"), f"{where}: metadata.base_commit_sha")
    maps = {
        "prompts": _object(meta.get("prompts"), f"{where}: metadata.prompts"),
        "sessions": _object(meta.get("sessions") or {}, f"{where}: metadata.sessions"),
        "humans": _object(meta.get("humans") or {}, f"{where}: metadata.humans"),
    }

    attestations: list[Attestation] = []
    positions: dict[tuple[str, str], int] = {}
    authors: dict[str, Author] = {}
    path: str | None = None
    for number, line in enumerate(lines[:divider], 1):
        here = f"{where}: line {number}"
        if not line.strip():
            continue
        if not line.startswith(" "):
            path = line[1:-1] if len(line) > 1 and line.startswith('"') and line.endswith('"') else line
            continue
        if not line.startswith("  ") or line[2:3].isspace() or " " not in line[2:]:
            raise _fail(here, "an attestation is two spaces, a key, one space and line ranges")
        if path is None:
            raise _fail(here, "an attestation before any file path")
        key, ranges = line[2:].rstrip().split(" ", 1)
        if key not in authors:
            authors[key] = _resolve(key, maps, here)
        found = _ranges(ranges, here)
        if (path, key) in positions:  # the same key twice under one file: one attestation of both lines
            earlier = attestations[positions[path, key]]
            attestations[positions[path, key]] = Attestation(path, key, earlier.ranges + found, earlier.line)
        else:
            positions[path, key] = len(attestations)
            attestations.append(Attestation(path, key, found, number))
    return Note(commit, tuple(attestations), authors)


def _resolve(key: str, maps: Mapping[str, Mapping[str, Any]], where: str) -> Author:
    """The author of an attestation key, by its prefix (section 1.2.3.1 of the standard)."""
    if (session := _SESSION_KEY.match(key)) is not None:
        if session.group(1) not in maps["sessions"]:
            raise _fail(where, f"session {session.group(1)} is not in metadata.sessions")
        return _author(maps["sessions"][session.group(1)], f"{where}: metadata.sessions.{session.group(1)}",
                       legacy=False)
    if _HUMAN_KEY.match(key):
        if key not in maps["humans"]:
            raise _fail(where, f"human {key} is not in metadata.humans")
        record = _object(maps["humans"][key], f"{where}: metadata.humans.{key}")
        name, email = parseaddr(_string(record.get("author"), f"{where}: metadata.humans.{key}.author"))
        return Author(True, email=email, name=name)
    if _LEGACY_KEY.match(key):
        if key not in maps["prompts"]:
            raise _fail(where, f"prompt {key} is not in metadata.prompts")
        return _author(maps["prompts"][key], f"{where}: metadata.prompts.{key}", legacy=True)
    raise _fail(where, f"{key!r} is no attestation key (s_<hex>::t_<hex>, h_<hex> or a 16-hex legacy key)")


# --- reading a repository ----------------------------------------------------------------------


@dataclass(frozen=True)
class CommitFacts:
    sha: str
    parents: tuple[str, ...]
    author_email: str
    author_name: str
    committer_email: str
    authored_ns: int
    committed_ns: int
    trailers: tuple[str, ...]


def noted_commits(repo: Repository, rev_range: str | None = None) -> list[tuple[str, str]]:
    """(commit, note blob) of every commit with a note under ``refs/notes/ai`` that is in ``rev_range`` (git
    rev-list syntax), or by default reachable from HEAD, a branch, a tag or a remote branch; oldest first."""
    try:
        git(repo.root, "rev-parse", "--verify", "--quiet", NOTES_REF)
    except GitFailed:
        return []  # no notes at all
    listing = git(repo.root, "notes", f"--ref={NOTES_REF}", "list").decode().split()
    notes = {commit: blob for blob, commit in zip(listing[0::2], listing[1::2])}
    if not notes:
        return []
    # By default what the repository's history holds: HEAD (a detached CI checkout), branches, tags, remote
    # branches. A note left behind on a commit a rebase or amend replaced is not imported twice that way.
    try:
        order = git(repo.root, "rev-list", "--reverse", *([rev_range] if rev_range else
                                                         ["HEAD", "--branches", "--tags", "--remotes"]))
    except GitFailed as exc:
        raise ConfigError(f"{rev_range or 'HEAD'} is not a revision range of {repo.root} ({exc})") from None
    return [(c, notes[c]) for c in order.decode().split() if c in notes]


def commit_facts(repo: Repository, shas: Sequence[str]) -> dict[str, CommitFacts]:
    """Parents, author, committer, times and trailers of ``shas``, with one ``git log``."""
    if not shas:
        return {}
    out = git(repo.root, "log", "--no-walk=unsorted", "--stdin", f"--format={_LOG_FORMAT}",
              stdin=("\n".join(shas) + "\n").encode()).decode("utf-8", "replace")
    facts = {}
    for entry in out.split("\x1e"):
        fields = entry.strip("\n").split("\x00")
        if len(fields) != 8:
            continue
        sha, parents, ae, an, ce, at, ct, trailers = fields
        facts[sha] = CommitFacts(sha, tuple(parents.split()), ae, an, ce, int(at) * 10**9, int(ct) * 10**9,
                                 tuple(t.strip() for t in trailers.splitlines() if t.strip()))
    return facts


def added_lines(repo: Repository, facts: Sequence[CommitFacts]) -> dict[str, dict[str, dict[int, str]]]:
    """Per commit and file, the line numbers (in the commit's version) and texts of the lines it adds, as the
    post-commit hook counts them (against the first parent, renames detected); one ``git diff-tree`` for all."""
    from aitrail.sdk.hooks import _DIFF_OPTIONS

    if not facts:
        return {}
    pairs = "".join(f"{f.sha} {f.parents[0]}\n" if f.parents else f"{f.sha}\n" for f in facts)
    out = git(repo.root, "-c", "core.quotepath=false", "diff-tree", "--stdin", "-r", "--root", "--always",
              *_DIFF_OPTIONS, stdin=pairs.encode()).decode("utf-8", "surrogateescape")
    wanted = {f.sha for f in facts}
    diffs: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.split("\n"):
        if line in wanted:  # diff-tree starts each commit's diff with its id on a line of its own
            current = diffs.setdefault(line, [])
        else:
            current.append(line)
    found: dict[str, dict[str, dict[int, str]]] = {}
    for sha, lines in diffs.items():
        per_file = found.setdefault(sha, {})
        for edit in edits_from_diff("\n".join(lines)):
            numbers = [n for first, last in edit.ranges for n in range(first, last + 1)]
            per_file[edit.path] = dict(zip(numbers, edit.added))
    return found


def read_repository(repo: Repository, rev_range: str | None = None) -> tuple[list[Record], ImportSummary]:
    """Every noted commit of ``repo`` as spans (a commit and its generations), checked before anything is sent."""
    summary = ImportSummary(SOURCE)
    noted = noted_commits(repo, rev_range)
    texts = repo.blobs([blob for _, blob in noted])
    notes = [parse_note((text or b"").decode("utf-8", "replace"), commit) for (commit, _), text in zip(noted, texts)]
    summary.records = len(notes)
    repo.load((n.commit, a.path) for n in notes for a in n.attestations if not n.authors[a.key].human)
    facts = commit_facts(repo, [n.commit for n in notes])
    added = added_lines(repo, list(facts.values()))
    spans: list[Record] = []
    for note in notes:
        spans.extend(_note_spans(repo, note, facts[note.commit], added.get(note.commit, {}), summary))
    return spans, summary


def _note_spans(repo: Repository, note: Note, facts: CommitFacts, added: Mapping[str, Mapping[int, str]],
                summary: ImportSummary) -> list[Record]:
    where = f"{NOTES_REF} note of commit {note.commit}"
    trace_id = stable_id(SOURCE, note.commit, hex_digits=32)
    generations: list[ImportedGeneration] = []
    ai_numbers: dict[str, set[int]] = {}
    for attestation in note.attestations:
        author = note.authors[attestation.key]
        count = sum(last - first + 1 for first, last in attestation.ranges)
        if author.human:
            summary.human_lines += count
            continue
        lines = repo.lines(note.commit, attestation.path)
        if lines is None:
            raise _fail(where, f"line {attestation.line}: {attestation.path} is not a file of the commit")
        texts = range_lines(lines, attestation.ranges)
        if texts is None:
            raise _fail(where, f"line {attestation.line}: {attestation.path} has {len(lines)} lines at the commit, "
                               "fewer than the attestation names")
        ai_numbers.setdefault(attestation.path, set()).update(
            n for first, last in attestation.ranges for n in range(first, last + 1))
        generations.append(ImportedGeneration(
            source=SOURCE, record=f"{note.commit}:{attestation.path}:{attestation.key}", trace_id=trace_id,
            span_id=stable_id(SOURCE, note.commit, attestation.path, attestation.key, hex_digits=16),
            time_ns=facts.authored_ns, path=attestation.path, ranges=tuple(merge_ranges(
                n for first, last in attestation.ranges for n in range(first, last + 1))),
            fingerprints=tuple(range_fingerprints(texts)), repository=repo.url, revision=note.commit,
            model=author.model, assistant=ASSISTANTS.get(author.tool, author.tool), session_id=author.conversation,
            user_email=author.email, user_name=author.name, team=author.team, conversation_url=author.conversation_url,
            decision=v.DECISION_ACCEPTED,
        ))
    summary.generations += len(generations)
    summary.commits += 1
    return [*(g.span() for g in generations), _commit_span(repo, note, facts, added, trace_id, generations, ai_numbers)]


def _commit_span(repo: Repository, note: Note, facts: CommitFacts, added: Mapping[str, Mapping[int, str]],
                 trace_id: str, generations: Sequence[ImportedGeneration], ai_numbers: Mapping[str, set[int]]) -> Record:
    """The commit as the post-commit hook records it, its AI lines being the note's instead of the journal's."""
    files = []
    for path, lines in added.items():
        counted = [n for n, text in lines.items() if line_fingerprint(text) is not None]
        if counted:
            files.append({"path": path, "added": len(counted), "ai": sum(n in ai_numbers.get(path, ()) for n in counted)})
    attributes: dict[str, Any] = {
        v.KIND: v.KIND_COMMIT, v.VCS_REF_HEAD_REVISION: note.commit, v.COMMIT_PARENTS: json.dumps(list(facts.parents)),
        v.LINES_ADDED: sum(f["added"] for f in files), v.AI_LINES: sum(f["ai"] for f in files),
        v.COMMIT_FILES: json.dumps(files, separators=(",", ":")),
        v.COMMIT_ASSISTANTS: sorted({g.assistant for g in generations if g.assistant}),
        v.COMMIT_TRAILERS: list(facts.trailers), v.IMPORT_SOURCE: SOURCE, v.IMPORT_RECORD: note.commit,
    }
    optional = {v.VCS_REPOSITORY_URL_FULL: repo.url, v.USER_EMAIL: facts.author_email, v.USER_ID: facts.author_email,
                v.USER_NAME: facts.author_name, v.COMMITTER_EMAIL: facts.committer_email}
    attributes.update({k: val for k, val in optional.items() if val})
    teams = {g.team for g in generations if g.team}
    if len(teams) == 1:
        attributes[v.TEAM] = teams.pop()
    span_id = stable_id(SOURCE, note.commit, "commit", hex_digits=16)
    return Record(v.KIND_COMMIT, span_id, facts.committed_ns, attributes,
                  tuple((g.trace_id, g.span_id) for g in generations), ids=(trace_id, span_id),
                  name=f"commit {note.commit[:12]}")


def import_git_ai(repo_path: str, destination: Destination | None, rev_range: str | None = None) -> ImportSummary:
    """Import the git-ai notes of the repository around ``repo_path`` into ``destination``; None checks and counts
    only."""
    repo = Repository.around(repo_path)
    if repo is None:
        raise ConfigError(f"{repo_path} is not in a git repository: name one with --repo")
    try:
        spans, summary = read_repository(repo, rev_range)
    except GitFailed as exc:
        raise ConfigError(f"the repository at {repo.root} could not be read: {exc}") from None
    if destination is None:
        summary.dry_run = True
    elif spans:
        summary.sent, summary.already_stored = send_new(destination, spans)
    return summary


__all__ = ["NOTES_REF", "SCHEMA_VERSION", "Note", "import_git_ai", "parse_note", "read_repository"]
