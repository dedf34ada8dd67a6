"""Agent Trace records in and out (the open specification at github.com/cursor/agent-trace, v0.1.0).

A trace record names a VCS revision, and per file the conversations that wrote line ranges of it, each with a
contributor (``ai``, ``mixed``, ``human`` or ``unknown``, and a ``provider/model`` id)::

    {"version": "0.1.0", "id": "<uuid>", "timestamp": "2026-01-23T14:30:00Z",
     "vcs": {"type": "git", "revision": "<sha>"}, "tool": {"name": "cursor"},
     "files": [{"path": "src/parser.ts", "conversations": [
         {"contributor": {"type": "ai", "model_id": "anthropic/claude-opus-4-5"},
          "ranges": [{"start_line": 42, "end_line": 67}]}]}]}

**In** (:func:`import_agent_trace`): each (file, conversation, contributor) of ``ai`` or ``mixed`` lines
becomes one generation, its lines' fingerprints read from the repository at the record's revision
(``git cat-file``) when it has them. Human and unknown lines become nothing (every line without a
generation is human to aitrail), and are counted. A file, a JSON array of records, or JSON Lines (the
reference implementation's ``.agent-trace/traces.jsonl``); a directory is read for every ``*.json`` and
``*.jsonl`` below it. Everything is checked first; one malformed record refuses the whole import, named by
file (and line) and JSON path.

**Out** (:func:`export_records`): one record per generation row that wrote lines (one file, one
conversation), as Agent Trace's reference implementation writes one per file edit. What Agent Trace has no
field for (repository, aitrail's span ids, session, user, team, line fingerprints) goes under
``metadata["dev.aitrail"]``, which the import reads back, so aitrail → Agent Trace → aitrail keeps all of it.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aitrail.errors import ConfigError, InvalidImport
from aitrail.interop.lines import Repository, range_fingerprints, range_lines
from aitrail.interop.spans import Destination, ImportedGeneration, ImportSummary, Reader, send_new, sql, stable_id

SOURCE = "agent-trace"
VERSION = "0.1.0"
"""The specification version aitrail writes (and reads: any 0.x or 1.x record of the same shape)."""
CONTRIBUTOR_TYPES = ("human", "ai", "mixed", "unknown")
VCS_TYPES = ("git", "jj", "hg", "svn")
VENDOR_KEY = "dev.aitrail"
"""aitrail's key under a record's ``metadata`` (reverse-domain notation, as the specification asks)."""
AI_TYPES = ("ai", "mixed")
"""Contributor types whose lines become generations."""

_VERSION = re.compile(r"^[01]\.\d+(\.\d+)?$")
_HEX = re.compile(r"^[0-9a-f]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_ABSOLUTE = re.compile(r"^(/|[A-Za-z]:[\\/])")


# --- the record, checked ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Contributor:
    type: str
    model_id: str = ""


@dataclass(frozen=True)
class Conversation:
    url: str
    contributor: Contributor | None
    ranges: tuple[tuple[int, int, Contributor | None], ...]


@dataclass(frozen=True)
class TraceRecord:
    """One checked Agent Trace record."""

    where: str
    id: str
    time_ns: int
    vcs_type: str
    revision: str
    tool: str
    files: tuple[tuple[str, tuple[Conversation, ...]], ...]
    metadata: Mapping[str, Any]


class _Checker:
    """Refuses a value with its location: ``file: $.files[0].path: must be a string``."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, message: str) -> InvalidImport:
        return InvalidImport(f"{self.where}: {path}: {message}")

    def object(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "must be a JSON object")
        return value

    def array(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, "must be an array")
        return value

    def string(self, value: Any, path: str, optional: bool = False) -> str:
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            raise self.fail(path, "must be a string")
        return value

    def line(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(path, "must be a line number (an integer, 1 or more)")
        return value

    def contributor(self, value: Any, path: str) -> Contributor | None:
        if value is None:
            return None
        found = self.object(value, path)
        kind = found.get("type")
        if kind not in CONTRIBUTOR_TYPES:
            raise self.fail(f"{path}.type", f"must be one of {', '.join(CONTRIBUTOR_TYPES)}")
        model = self.string(found.get("model_id"), f"{path}.model_id", optional=True)
        if len(model) > 250:
            raise self.fail(f"{path}.model_id", "is longer than 250 characters")
        return Contributor(kind, model)


def parse_record(value: Any, where: str) -> TraceRecord:
    """Check one record against the specification's schema (and what aitrail needs of it)."""
    check = _Checker(where)
    record = check.object(value, "$")
    version = check.string(record.get("version"), "$.version")
    if not _VERSION.match(version):
        raise check.fail("$.version", f"{version!r} is not an Agent Trace version aitrail reads (0.x.y or 1.x.y)")
    record_id = check.string(record.get("id"), "$.id")
    if not record_id:
        raise check.fail("$.id", "must not be empty")
    stamp = check.string(record.get("timestamp"), "$.timestamp")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise check.fail("$.timestamp", f"{stamp!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise check.fail("$.timestamp", f"{stamp!r} has no time zone (RFC 3339 needs Z or an offset)")
    vcs_type = revision = ""
    if record.get("vcs") is not None:
        vcs = check.object(record["vcs"], "$.vcs")
        vcs_type = vcs.get("type")
        if vcs_type not in VCS_TYPES:
            raise check.fail("$.vcs.type", f"must be one of {', '.join(VCS_TYPES)}")
        revision = check.string(vcs.get("revision"), "$.vcs.revision")
    tool = ""
    if record.get("tool") is not None:
        tool = check.string(check.object(record["tool"], "$.tool").get("name"), "$.tool.name", optional=True)
    files = []
    for fi, entry in enumerate(check.array(record.get("files"), "$.files")):
        at = f"$.files[{fi}]"
        entry = check.object(entry, at)
        path = check.string(entry.get("path"), f"{at}.path")
        if not path or _ABSOLUTE.match(path):
            raise check.fail(f"{at}.path", f"{path!r} is not a path relative to the repository root")
        conversations = []
        for ci, conversation in enumerate(check.array(entry.get("conversations"), f"{at}.conversations")):
            cat = f"{at}.conversations[{ci}]"
            conversation = check.object(conversation, cat)
            url = check.string(conversation.get("url"), f"{cat}.url", optional=True)
            contributor = check.contributor(conversation.get("contributor"), f"{cat}.contributor")
            ranges = []
            for ri, item in enumerate(check.array(conversation.get("ranges"), f"{cat}.ranges")):
                rat = f"{cat}.ranges[{ri}]"
                item = check.object(item, rat)
                first = check.line(item.get("start_line"), f"{rat}.start_line")
                last = check.line(item.get("end_line"), f"{rat}.end_line")
                if last < first:
                    raise check.fail(f"{rat}.end_line", f"{last} is before start_line {first}")
                check.string(item.get("content_hash"), f"{rat}.content_hash", optional=True)
                ranges.append((first, last, check.contributor(item.get("contributor"), f"{rat}.contributor")))
            conversations.append(Conversation(url, contributor, tuple(ranges)))
        files.append((path, tuple(conversations)))
    metadata = check.object(record.get("metadata") or {}, "$.metadata")
    ours = metadata.get(VENDOR_KEY)
    if ours is not None:
        _check_ours(check, ours)
    return TraceRecord(where, record_id, int(moment.timestamp()) * 10**9 + moment.microsecond * 1000, vcs_type,
                       revision, tool, tuple(files), metadata)


def _check_ours(check: _Checker, value: Any) -> None:
    """aitrail's own metadata: strings where strings go, hex ids and fingerprints."""
    path = f"$.metadata['{VENDOR_KEY}']"
    ours = check.object(value, path)
    for key, digits in (("trace_id", 32), ("span_id", 16)):
        found = check.string(ours.get(key), f"{path}.{key}", optional=True)
        if found and (len(found) != digits or not _HEX.match(found)):
            raise check.fail(f"{path}.{key}", f"must be {digits} lower-case hex digits")
    for key in ("repository", "session_id", "user_email", "user_name", "team"):
        check.string(ours.get(key), f"{path}.{key}", optional=True)
    for i, fp in enumerate(check.array(ours.get("fingerprints", []), f"{path}.fingerprints")):
        if not isinstance(fp, str) or len(fp) != 16 or not _HEX.match(fp):
            raise check.fail(f"{path}.fingerprints[{i}]", "must be 16 lower-case hex digits")


# --- reading files ---------------------------------------------------------------------------------


def _files(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(p for p in source.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file())
    if not source.is_file():
        raise ConfigError(f"{source} is neither a file nor a directory")
    return [source]


def read_records(source: Path) -> list[TraceRecord]:
    """Every record of a file (one record, an array of them, or JSON Lines) or of a directory's files, checked."""
    records = []
    for file in _files(source):
        text = file.read_text(encoding="utf-8", errors="replace")
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidImport(f"{file}: line {number}: not JSON: {exc.msg} (column {exc.colno})") from None
                records.append(parse_record(value, f"{file}: line {number}"))
            continue
        if isinstance(whole, list):
            records.extend(parse_record(value, f"{file}: [{i}]") for i, value in enumerate(whole))
        else:
            records.append(parse_record(whole, str(file)))
    return records


# --- in ------------------------------------------------------------------------------------------------


def split_model_id(model_id: str) -> tuple[str, str]:
    """``anthropic/claude-opus-4-5`` -> (``anthropic``, ``claude-opus-4-5``); a bare model has no provider."""
    provider, slash, model = model_id.partition("/")
    return (provider, model) if slash and provider and model else ("", model_id)


def record_generations(record: TraceRecord, repo: Repository | None, summary: ImportSummary,
                       repository: str | None = None) -> list[ImportedGeneration]:
    """The generations of one record: one per (file, conversation, contributor) of ``ai`` or ``mixed`` lines.

    The repository URL is ``repository`` when given, else aitrail's own metadata's, else ``repo``'s.
    """
    ours: Mapping[str, Any] = record.metadata.get(VENDOR_KEY) or {}
    groups: list[tuple[int, str, int, Conversation, Contributor, list[tuple[int, int]]]] = []
    for fi, (path, conversations) in enumerate(record.files):
        for ci, conversation in enumerate(conversations):
            by_contributor: dict[Contributor, list[tuple[int, int]]] = {}
            for first, last, own in conversation.ranges:
                who = own or conversation.contributor or Contributor("unknown")
                by_contributor.setdefault(who, []).append((first, last))
            for who, ranges in by_contributor.items():
                lines = sum(last - first + 1 for first, last in ranges)
                if who.type == "human":
                    summary.human_lines += lines
                elif who.type == "unknown":
                    summary.unknown_lines += lines
                else:
                    groups.append((fi, path, ci, conversation, who, ranges))
    keep_ids = len(groups) == 1 and ours.get("trace_id") and ours.get("span_id")
    generations = []
    for fi, path, ci, conversation, who, ranges in groups:
        fingerprints = _fingerprints(record, repo, path, ranges, ours if len(groups) == 1 else {})
        provider, model = split_model_id(who.model_id)
        generation = ImportedGeneration(
            source=SOURCE, record=record.id,
            trace_id=ours["trace_id"] if keep_ids else stable_id(SOURCE, record.id, hex_digits=32),
            span_id=ours["span_id"] if keep_ids else stable_id(SOURCE, record.id, str(fi), path, str(ci), who.type,
                                                                who.model_id, hex_digits=16),
            time_ns=record.time_ns, path=path, ranges=tuple(sorted(ranges)), fingerprints=fingerprints,
            contributor=who.type, repository=_repository(repository, ours, repo),
            revision=record.revision, model=model, provider=provider, assistant=record.tool,
            session_id=ours.get("session_id") or _conversation_id(record), user_email=ours.get("user_email", ""),
            user_name=ours.get("user_name", ""), team=ours.get("team", ""), conversation_url=conversation.url,
        )
        if fingerprints is None:
            summary.lines_without_fingerprints += generation.lines
        generations.append(generation)
    return generations


def _repository(given: str | None, ours: Mapping[str, Any], repo: Repository | None) -> str:
    if given is not None:
        return given
    return ours.get("repository") or (repo.url if repo is not None else "")


def _conversation_id(record: TraceRecord) -> str:
    """The reference implementation's ``metadata.conversation_id``, when a string."""
    found = record.metadata.get("conversation_id")
    return found if isinstance(found, str) else ""


def _fingerprints(record: TraceRecord, repo: Repository | None, path: str, ranges: Sequence[tuple[int, int]],
                  ours: Mapping[str, Any]) -> tuple[int, ...] | None:
    """aitrail's own (from its export), else from the lines at the record's git revision; None when unknown."""
    if ours.get("fingerprints"):
        return tuple(int(fp, 16) for fp in ours["fingerprints"])
    if repo is None or record.vcs_type != "git" or not record.revision:
        return None
    lines = repo.lines(record.revision, path)
    texts = range_lines(lines, sorted(ranges)) if lines is not None else None
    return tuple(range_fingerprints(texts)) if texts is not None else None


def import_agent_trace(source: Path, destination: Destination | None, repo_path: Path | None = None) -> ImportSummary:
    """Import the records of ``source`` (file or directory) into ``destination``; None checks and counts only.

    The repository (for the lines at each revision, and its URL) is ``repo_path``'s, else the one around
    ``source``; without one, fingerprints come only from aitrail's own exports.
    """
    summary = ImportSummary(SOURCE)
    records = read_records(source)
    summary.records = len(records)
    repo = Repository.around(repo_path if repo_path is not None else source)
    if repo_path is not None and repo is None:
        raise ConfigError(f"--repo {repo_path} is not in a git repository")
    if repo is not None:
        repo.load((r.revision, path) for r in records if r.vcs_type == "git" and r.revision for path, _ in r.files)
    given = repo.url if repo_path is not None and repo is not None else None
    generations = [g for r in records for g in record_generations(r, repo, summary, given)]
    generations = list({(g.trace_id, g.span_id): g for g in generations}.values())  # a record given twice: once
    summary.generations = len(generations)
    if destination is None:
        summary.dry_run = True
    elif generations:
        summary.sent, summary.already_stored = send_new(destination, [g.span() for g in generations])
    return summary


# --- out --------------------------------------------------------------------------------------------


def model_id(provider: str, model: str) -> str:
    """Agent Trace's ``provider/model`` (models.dev convention) when the provider is known."""
    return f"{provider}/{model}" if provider and model and "/" not in model else model


def _rfc3339(time_ns: int) -> str:
    moment = datetime.fromtimestamp(time_ns // 10**9, tz=timezone.utc).replace(microsecond=time_ns % 10**9 // 1000)
    return moment.isoformat().replace("+00:00", "Z")


def record_id(trace_id: str, span_id: str) -> str:
    """A UUID (version 4 layout) derived from the generation's span: the same generation, the same record id."""
    return str(uuid.UUID(bytes=bytes.fromhex(stable_id(trace_id, span_id, hex_digits=32)), version=4))


def to_record(row: Mapping[str, Any], revision: str) -> dict[str, Any]:
    """One generation row (``sql/agent_trace_export.sql``) as an Agent Trace record."""
    ranges = json.loads(row["ranges"]) if row["ranges"] else [[row["line_start"], row["line_end"]]]
    contributor: dict[str, Any] = {"type": row["contributor"] if row["contributor"] in AI_TYPES else "ai"}
    if row["model"] and len(model_id(row["provider"], row["model"])) <= 250:  # the schema's limit
        contributor["model_id"] = model_id(row["provider"], row["model"])
    conversation: dict[str, Any] = {"contributor": contributor,
                                    "ranges": [{"start_line": first, "end_line": last} for first, last in ranges]}
    if _URI.match(row["conversation_url"]):  # the schema wants a URI
        conversation["url"] = row["conversation_url"]
    ours = {
        "repository": row["repository"], "trace_id": row["trace_id"], "span_id": row["span_id"],
        "session_id": row["session_id"], "user_email": row["user_email"], "user_name": row["user_name"],
        "team": row["team"],
        "fingerprints": [format(int(fp), "016x") for fp in row["fingerprints"]],
    }
    record: dict[str, Any] = {
        "version": VERSION, "id": record_id(row["trace_id"], row["span_id"]), "timestamp": _rfc3339(int(row["time_ns"])),
    }
    if revision:
        record["vcs"] = {"type": "git", "revision": revision}
    if row["assistant"]:
        record["tool"] = {"name": row["assistant"]}
    record["files"] = [{"path": row["file_path"], "conversations": [conversation]}]
    record["metadata"] = {VENDOR_KEY: {k: val for k, val in ours.items() if val}}
    return record


def export_records(read: Reader, since_ns: int = 0, repository: str = "") -> list[dict[str, Any]]:
    """aitrail's generations since ``since_ns`` (of ``repository``, or all) as Agent Trace records.

    The revision is the commit that carried the generation's lines when aitrail knows it (the post-commit
    hook, or git-ai, linked them; a generation's other files share its commit), else the commit the work
    started from; without either, the record has no ``vcs``. A file outside any repository (an absolute
    path) has no place in Agent Trace and is left out.
    """
    rows = read(sql("agent_trace_export"), {"since_ns": since_ns, "repository": repository})
    carried = {(r["trace_id"], r["repository"]): r["committed_in"] for r in rows if r["committed_in"]}
    return [to_record(r, r["committed_in"] or carried.get((r["trace_id"], r["repository"])) or r["commit"])
            for r in rows if not _ABSOLUTE.match(r["file_path"])]


def write_records(records: Iterable[Mapping[str, Any]], out: Path | None) -> list[str]:
    """Write ``records``: one ``<id>.json`` per record when ``out`` is a directory (an existing one, or a new
    path without a suffix), else to ``out`` as JSON Lines (``.jsonl``, ``.json``...); without ``out``, the
    JSON Lines are returned for standard output."""
    records = list(records)
    lines = [json.dumps(r, separators=(",", ":")) for r in records]
    if out is None:
        return lines
    if out.is_dir() or not out.suffix:
        out.mkdir(parents=True, exist_ok=True)
        for record in records:
            (out / f"{record['id']}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return []


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float | None = None) -> int:
    """``7d``, ``12h``, ``30m``, ``2w`` before now, or an ISO date / date-time (UTC unless it says otherwise),
    as nanoseconds since the epoch."""
    now = time.time() if now is None else now
    text = text.strip()
    if (matched := _DURATION.match(text)) is not None:
        return int((now - float(matched.group(1)) * _UNITS[matched.group(2)]) * 10**9)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r}: write a duration (7d, 12h, 30m, 2w) or a date (2026-01-31)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 10**9)


__all__ = ["TraceRecord", "export_records", "import_agent_trace", "model_id", "parse_record", "parse_since",
           "read_records", "record_id", "split_model_id", "to_record", "write_records"]
