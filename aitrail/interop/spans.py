"""Imported records as spans: deterministic ids, what is already stored, and the one place they are sent.

An import builds :class:`RecordSpan` values carrying the attributes a native generation or commit carries
(:mod:`aitrail.sdk.vocabulary`), so the typed tables (``ai_generations``, ``ai_commits``,
``ai_line_origins``) and everything that reads them see imported attribution like native attribution.

Re-importing adds nothing: every span's trace and span ids are a SHA-256 of what makes the record the same
(:func:`stable_id`), and :func:`send_new` sends only the spans whose ids are not in ``otel_traces`` yet. An
import cut short (the collector stopped) is finished by running it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aitrail.errors import ConfigError, StoreUnavailable
from aitrail.sdk import vocabulary as v
from aitrail.sdk.edits import language_of
from aitrail.sdk.fingerprint import to_signed

FLUSH_EVERY = 256
"""Spans handed to the SDK between two flushes: well under its queue (2048), so a large import drops nothing."""
SEND_TIMEOUT = 30.0
"""Seconds the last flush may take."""
LOOKUP_CHUNK = 150
"""Trace ids asked about in one query of :func:`stored_span_ids` (they travel in the SQL endpoint's query
string, which takes 8 KiB)."""

Reader = Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]
"""Runs one read-only statement with bound parameters and returns its rows (see :func:`store_reader`)."""


@dataclass(frozen=True)
class RecordSpan:
    """One span to send: a generation or a commit read from another format."""

    name: str
    trace_id: str
    """32 hex digits."""
    span_id: str
    """16 hex digits."""
    start_ns: int
    attributes: Mapping[str, Any]
    links: tuple[tuple[str, str], ...] = field(default=())
    """(trace id, span id) of the spans this one links to (a commit to its generations)."""


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

    def span(self) -> RecordSpan:
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
        return RecordSpan(f"generation {self.assistant or 'unknown'}", self.trace_id, self.span_id, self.time_ns,
                          attributes)


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


def store_reader(location: Any, sql_url: str | None = None, token: str | None = None) -> Reader:
    """A :data:`Reader` on the store: through the collector that owns it, or directly (as ``aitrail sql``)."""
    from aitrail.collector.query import read_only_query

    def read(statement: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        data = read_only_query(location, statement, "JSONEachRow", dict(params), sql_url=sql_url, token=token)
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    return read


def stored_span_ids(read: Reader, spans: Sequence[RecordSpan]) -> set[tuple[str, str]]:
    """The (trace id, span id) of ``spans`` already in ``otel_traces``."""
    wanted = {(s.trace_id, s.span_id) for s in spans}
    traces = sorted({s.trace_id for s in spans})
    found: set[tuple[str, str]] = set()
    statement = sql("stored_spans")
    for start in range(0, len(traces), LOOKUP_CHUNK):
        rows = read(statement, {"trace_ids": ",".join(traces[start : start + LOOKUP_CHUNK])})
        found.update((row["trace_id"], row["span_id"]) for row in rows)
    return found & wanted


def send_new(read: Reader, spans: Sequence[RecordSpan]) -> tuple[int, int]:
    """Send the spans not stored yet, each once; returns (sent, already stored or repeated in ``spans``)."""
    seen = stored_span_ids(read, spans)
    new = []
    for span in spans:  # not stored yet, and once (a file may hold the same record twice)
        if (span.trace_id, span.span_id) not in seen:
            seen.add((span.trace_id, span.span_id))
            new.append(span)
    if new:
        deliver(new)
    return len(new), len(spans) - len(new)


def deliver(spans: Sequence[RecordSpan], timeout: float = SEND_TIMEOUT) -> None:
    """Send ``spans`` through the SDK's tracer (as the post-commit hook sends a commit), all or raise.

    The one place an import sends: swap this body for the shared import delivery (a collector with an ingest
    token, else the store through the collector's in-process pipeline) and every importer follows.
    Raises :class:`StoreUnavailable` when not every span was acknowledged (running the import again sends
    only what is missing).
    """
    from opentelemetry.context import Context
    from opentelemetry.trace import Link, SpanContext, TraceFlags

    from aitrail.sdk.runtime import runtime

    rt = runtime()
    if rt.settings.is_disabled():
        raise ConfigError("AITRAIL_DISABLED is set, so nothing would be sent: unset it to import")
    dropped = rt.stats.dropped
    sampled = TraceFlags(TraceFlags.SAMPLED)
    flushed = True
    otel_log = logging.getLogger("opentelemetry")
    level = otel_log.level
    otel_log.setLevel(logging.CRITICAL)  # the exporter's retry warnings: the error below says it in one sentence
    try:
        for count, record in enumerate(spans, 1):
            rt.ids.prime(int(record.trace_id, 16), int(record.span_id, 16))
            links = [Link(SpanContext(int(t, 16), int(s, 16), is_remote=True, trace_flags=sampled))
                     for t, s in record.links]
            span = rt.tracer.start_span(record.name, context=Context(), attributes=dict(record.attributes),
                                        links=links, start_time=record.start_ns)
            span.end(end_time=record.start_ns)
            if count % FLUSH_EVERY == 0:
                flushed = rt.flush(int(timeout * 1000)) and flushed
        flushed = rt.flush(int(timeout * 1000)) and flushed
    finally:
        otel_log.setLevel(level)
    lost = rt.stats.dropped - dropped
    if not flushed or lost:
        raise StoreUnavailable(
            f"{lost or 'some'} of {len(spans)} records could not be sent to the collector "
            "(is `aitrail serve` running, and OTEL_EXPORTER_OTLP_ENDPOINT pointing at it?); "
            "run the import again: what was stored is not sent twice"
        )


__all__ = ["ImportSummary", "ImportedGeneration", "RecordSpan", "Reader", "deliver", "send_new", "stable_id",
           "store_reader", "stored_span_ids"]
