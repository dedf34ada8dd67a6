"""Imported records: deterministic ids, what is already stored, and where they are sent.

An import builds :class:`~aitrail.sdk.records.Record` values (with the trace and span ids its format dictates)
carrying the attributes a native generation or commit carries
(:mod:`aitrail.sdk.vocabulary`), so the typed tables (``ai_generations``, ``ai_commits``,
``ai_line_origins``) and everything that reads them see imported attribution like native attribution.

Re-importing adds nothing: every span's trace and span ids are a SHA-256 of what makes the record the same
(:func:`stable_id`), and :func:`send_new` sends only the spans whose ids are not in ``otel_traces`` yet. An
import cut short (the collector stopped) is finished by running it again.

Sending is the shared import delivery (:func:`aitrail.collector.imports.deliver`), as for findings and
incidents: through a running collector (the one named, or the one owning the data directory; an ingest token,
the tenant stamped by the collector), else into the store directly. No SDK, so no collector needs to run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aitrail.errors import StoreNotFound
from aitrail.sdk import vocabulary as v
from aitrail.sdk.edits import language_of
from aitrail.sdk.fingerprint import to_signed
from aitrail.sdk.records import Record

LOOKUP_CHUNK = 150
"""Trace ids asked about in one query of :func:`stored_span_ids` (they travel in the SQL endpoint's query
string, which takes 8 KiB)."""

Reader = Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]
"""Runs one read-only statement with bound parameters and returns its rows (see :meth:`Destination.read`)."""


@dataclass(frozen=True)
class Destination:
    """The store an import reads (what is stored already) and sends to: its ``location``, the collector's SQL
    endpoint and OTLP/HTTP ``endpoint`` when named (found by themselves for a local data directory owned by a
    running collector), and a ``token`` with the query and ingest scopes for a collector that requires one."""

    location: Any
    """A :class:`aitrail.collector.store.StoreLocation`."""
    sql_url: str | None = None
    token: str | None = None
    endpoint: str | None = None

    def read(self, statement: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A :data:`Reader`: through the collector that owns the store, or directly (as ``aitrail sql``)."""
        from aitrail.collector.query import read_only_query

        data = read_only_query(self.location, statement, "JSONEachRow", dict(params), sql_url=self.sql_url,
                               token=self.token)
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    def send(self, records: Sequence[Record]) -> Any:
        """The shared import delivery; returns its :class:`aitrail.collector.imports.Delivery`."""
        from aitrail.collector.imports import deliver

        return deliver(records, self.location, self.endpoint, self.token)


@dataclass(frozen=True)
class ImportedGeneration:
    """AI-written lines of one file, as another format recorded them. What the format does not carry stays
    empty (unknown): no prompt (policy ``none``), no tokens or cost (0 in ``ai_generations``)."""

    source: str
    """``agent-trace`` or ``git-ai``."""
    record: str
    """Where in the source: the record id, or the note's commit and attestation key."""
    trace_id: str
    span_id: str
    time_ns: int
    path: str
    ranges: tuple[tuple[int, int], ...]
    """1-based inclusive line ranges at ``revision``."""
    fingerprints: tuple[int, ...] | None
    """Unsigned fingerprints of the lines, None when the lines were not available (unknown)."""
    contributor: str = "ai"
    repository: str = ""
    revision: str = ""
    model: str = ""
    provider: str = ""
    assistant: str = ""
    session_id: str = ""
    user_email: str = ""
    user_name: str = ""
    team: str = ""
    conversation_url: str = ""
    decision: str = ""

    @property
    def lines(self) -> int:
        return sum(last - first + 1 for first, last in self.ranges)

    def span(self) -> Record:
        """The generation span, with the attributes a native generation carries (only the known ones)."""
        attributes: dict[str, Any] = {
            v.KIND: v.KIND_GENERATION, v.ASSISTANT: self.assistant or "unknown", v.PROMPT_POLICY: "none",
            v.CODE_FILE_PATH: self.path, v.LINES_ADDED: self.lines, v.CONTRIBUTOR_TYPE: self.contributor,
            v.IMPORT_SOURCE: self.source, v.IMPORT_RECORD: self.record,
        }
        if self.ranges:
            attributes[v.LINE_START] = self.ranges[0][0]
            attributes[v.LINE_END] = max(last for _, last in self.ranges)
        if len(self.ranges) > 1:
            attributes[v.LINE_RANGES] = json.dumps([list(r) for r in self.ranges], separators=(",", ":"))
        if self.fingerprints:
            attributes[v.LINE_FINGERPRINTS] = [to_signed(fp) for fp in self.fingerprints]
        optional = {
            v.VCS_REPOSITORY_URL_FULL: self.repository, v.VCS_REF_HEAD_REVISION: self.revision,
            v.GEN_AI_REQUEST_MODEL: self.model, v.GEN_AI_PROVIDER_NAME: self.provider, v.SESSION_ID: self.session_id,
            v.USER_EMAIL: self.user_email, v.USER_ID: self.user_email, v.USER_NAME: self.user_name, v.TEAM: self.team,
            v.CONVERSATION_URL: self.conversation_url, v.DECISION: self.decision, v.LANGUAGE: language_of(self.path),
        }
        attributes.update({k: val for k, val in optional.items() if val})
        return Record(v.KIND_GENERATION, self.span_id, self.time_ns, attributes, ids=(self.trace_id, self.span_id),
                      name=f"generation {self.assistant or 'unknown'}")


@dataclass
class ImportSummary:
    """What an import read, sent and left out, for the command's report."""

    source: str
    records: int = 0
    """Agent Trace records, or git-ai notes, read."""
    generations: int = 0
    commits: int = 0
    sent: int = 0
    already_stored: int = 0
    """Spans found in the store already (a re-import), or repeated in the input: not sent again."""
    lines_without_fingerprints: int = 0
    """AI lines whose text was not available (no repository, revision or file): linkage and blame cannot see them."""
    human_lines: int = 0
    """Lines the source says a person wrote: no generation (every line without one is human to aitrail)."""
    unknown_lines: int = 0
    """Lines of contributor ``unknown`` (or none given): no generation."""
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def stable_id(*parts: str, hex_digits: int) -> str:
    """Hex of the first ``hex_digits`` of SHA-256 over ``parts``: the same record always gets the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:hex_digits]
    return digest if int(digest, 16) else "0" * (hex_digits - 1) + "1"  # an all-zero id is invalid in OTLP


def sql(name: str) -> str:
    """The text of ``sql/<name>.sql`` beside this module."""
    return resources.files("aitrail.interop").joinpath("sql", f"{name}.sql").read_text()


def hex_ids(record: Record) -> tuple[str, str]:
    """The record's (trace id, span id) as ``otel_traces`` spells them (lower-case hex, 32 and 16 digits)."""
    return f"{record.trace_id:032x}", f"{record.span_id:016x}"


def stored_span_ids(read: Reader, records: Sequence[Record]) -> set[tuple[str, str]]:
    """The (trace id, span id) of ``records`` already in ``otel_traces``."""
    wanted = {hex_ids(r) for r in records}
    traces = sorted({trace for trace, _ in wanted})
    found: set[tuple[str, str]] = set()
    statement = sql("stored_spans")
    for start in range(0, len(traces), LOOKUP_CHUNK):
        rows = read(statement, {"trace_ids": ",".join(traces[start : start + LOOKUP_CHUNK])})
        found.update((row["trace_id"], row["span_id"]) for row in rows)
    return found & wanted


def send_new(destination: Destination, records: Sequence[Record]) -> tuple[int, int]:
    """Send the records not stored yet, each once, in one delivery (all or nothing); returns (sent, already stored
    or repeated in ``records``)."""
    try:
        seen = stored_span_ids(destination.read, records)
    except StoreNotFound:  # no store there yet holds nothing: the delivery makes it
        seen = set()
    new = []
    for record in records:  # not stored yet, and once (a file may hold the same record twice)
        if hex_ids(record) not in seen:
            seen.add(hex_ids(record))
            new.append(record)
    if new:
        destination.send(new)
    return len(new), len(records) - len(new)


__all__ = ["Destination", "ImportSummary", "ImportedGeneration", "Reader", "hex_ids", "send_new", "stable_id",
           "stored_span_ids"]
