"""Records: findings, incidents (and sign-offs, commits) as spans with ``aitrail.kind``, built the same way by
every importer (docs/design/records.md).

A record is what an importer knows (its kind, time, attributes, the generations it is about); :func:`to_spans`
makes OpenTelemetry spans of them and :func:`encode` the OTLP request a collector receives. Ids are
deterministic — the record id is SHA-256 over the fields that make it the same record (:func:`record_id`), and
the span's trace and span ids derive from it — so importing the same file twice sends the same spans, and the
typed tables (ReplacingMergeTree on the record id) show one row.

Delivery (to a running collector, or to the store through the collector's own pipeline) is
:func:`aitrail.collector.imports.deliver`: the SDK stays free of the engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import to_signed

SEVERITIES = ("critical", "high", "medium", "low", "info")
"""Every severity a finding or an incident may have, most severe first."""


def record_id(*parts: object) -> str:
    """Hex of the first 16 bytes of SHA-256 over ``parts`` (joined by a separator no field contains)."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Record:
    """One record to send: ``kind`` (a ``KIND_*``), its id, its time, its attributes and linked generations."""

    kind: str
    id: str
    time_ns: int
    attributes: Mapping[str, Any]
    links: tuple[tuple[str, str], ...] = field(default=())
    """(trace id, span id) hex of the generation spans the record is about."""
    ids: tuple[str, str] | None = None
    """(trace id, span id) hex when the record's format dictates them (an imported generation and its commit share
    a trace); None: derived from ``kind`` and ``id``."""
    name: str = ""
    """The span's name; "" for ``<kind> <id prefix>``."""

    def span_attributes(self) -> dict[str, Any]:
        """The span's attributes: the record's, minus empty values (an absent attribute reads as '' anyway)."""
        out = {v.KIND: self.kind}
        for key, value in self.attributes.items():
            if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
                continue
            out[key] = value
        return out

    @property
    def trace_id(self) -> int:
        return int(self.ids[0] if self.ids else record_id("trace", self.kind, self.id), 16)

    @property
    def span_id(self) -> int:
        return int(self.ids[1] if self.ids else record_id("span", self.kind, self.id)[:16], 16) or 1

    @property
    def span_name(self) -> str:
        return self.name or f"{self.kind} {self.id[:12]}"


def fingerprints_json(fingerprints: Iterable[int]) -> str:
    """Line fingerprints as the JSON array of signed 64-bit integers that generations carry too."""
    return json.dumps([to_signed(fp) for fp in fingerprints], separators=(",", ":"))


def finding_record(
    *, source: str, rule: str, severity: str, message: str, repository: str, commit: str, file_path: str,
    line_start: int, line_end: int, fingerprints: Sequence[int], line_text: str, resolved: bool, time_ns: int,
    cwe: Sequence[str] = (), caught_at: str = "scan", status: str = "open", team: str = "",
    generation: tuple[str, str] | None = None, extra_identity: str = "",
    introduced: tuple[str, int, str] | None = None,
) -> Record:
    """A finding; its id is SHA-256 over tool, rule, repository, file, line range, the first line's fingerprint and
    commit (plus ``extra_identity`` — e.g. the SARIF message — for results that differ in nothing else).
    ``introduced`` is (commit, committer time in Unix seconds, author e-mail) of the commit that introduced the
    first line, when ``git blame`` could tell."""
    first = fingerprints[0] if fingerprints else ""
    fid = record_id(source, rule, repository, file_path, line_start, line_end, first, commit, extra_identity)
    attributes = {
        v.FINDING_ID: fid, v.FINDING_SOURCE: source, v.FINDING_RULE: rule, v.FINDING_CWE: list(cwe),
        v.SEVERITY: severity, v.FINDING_MESSAGE: message, v.VCS_REPOSITORY_URL_FULL: repository,
        v.VCS_REF_HEAD_REVISION: commit, v.CODE_FILE_PATH: file_path, v.LINE_START: line_start, v.LINE_END: line_end,
        v.LINE_FINGERPRINTS: fingerprints_json(fingerprints), v.FINDING_LINE_TEXT: line_text,
        v.FINDING_RESOLVED: "true" if resolved else "false", v.FINDING_CAUGHT_AT: caught_at, v.STATUS: status,
        v.TEAM: team,
    }
    if generation is not None:
        attributes[v.GENERATION_TRACE_ID], attributes[v.GENERATION_SPAN_ID] = generation
    if introduced is not None:
        (attributes[v.FINDING_INTRODUCED_COMMIT], attributes[v.FINDING_INTRODUCED_TIME],
         attributes[v.FINDING_INTRODUCED_AUTHOR]) = introduced
    return Record(v.KIND_FINDING, fid, time_ns, attributes, (generation,) if generation else ())


@dataclass(frozen=True)
class Location:
    """A line an incident points at: its file (relative to the repository root), line and the line's fingerprints."""

    path: str
    line: int
    fingerprints: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "fingerprints": [str(fp) for fp in self.fingerprints]}


def incident_record(
    *, title: str, severity: str, time_ns: int, cost_usd: float = 0.0, status: str = "open",
    locations: Sequence[Location] = (), commits: Sequence[str] = (), finding_ids: Sequence[str] = (),
    repository: str = "", team: str = "", incident_id: str | None = None,
) -> Record:
    """An incident; its id is the ticket's when given, else SHA-256 over title, detection time and repository.
    Location fingerprints travel as decimal strings of the unsigned value (JSON numbers lose 64-bit precision)."""
    iid = incident_id or record_id("incident", title, time_ns, repository)
    attributes = {
        v.INCIDENT_ID: iid, v.INCIDENT_TITLE: title, v.SEVERITY: severity, v.STATUS: status, v.COST_USD: float(cost_usd),
        v.INCIDENT_LOCATIONS: json.dumps([loc.as_json() for loc in locations], separators=(",", ":")),
        v.INCIDENT_COMMITS: list(commits), v.INCIDENT_FINDINGS: list(finding_ids),
        v.VCS_REPOSITORY_URL_FULL: repository, v.TEAM: team,
    }
    return Record(v.KIND_INCIDENT, iid, time_ns, attributes)


def _record_ids() -> Any:
    """An id generator that hands out the ids of the record being turned into a span."""
    from opentelemetry.sdk.trace.id_generator import IdGenerator

    class RecordIds(IdGenerator):
        def __init__(self) -> None:
            self.trace_id = self.span_id = 0

        def generate_trace_id(self) -> int:
            return self.trace_id

        def generate_span_id(self) -> int:
            return self.span_id

        def is_trace_id_random(self) -> bool:
            return False

    return RecordIds()


def _links(record: Record) -> list[Any]:
    from opentelemetry.trace import Link, SpanContext, TraceFlags

    sampled = TraceFlags(TraceFlags.SAMPLED)
    return [Link(SpanContext(int(t, 16), int(s, 16), is_remote=True, trace_flags=sampled)) for t, s in record.links]


def emit(records: Iterable[Record]) -> None:
    """Hand ``records`` to the SDK's tracer, ids and all: a developer's machine's road (the SDK's exporter, and its
    outbox while no collector answers), as for generations and commits. Not flushed (see
    :func:`aitrail.sdk.hooks.deliver`). Imports of files take :func:`aitrail.collector.imports.deliver` instead."""
    from opentelemetry.context import Context

    from aitrail.sdk.runtime import runtime

    rt = runtime()
    for record in records:
        rt.ids.prime(record.trace_id, record.span_id)
        span = rt.tracer.start_span(record.span_name, context=Context(), attributes=record.span_attributes(),
                                    links=_links(record), start_time=record.time_ns)
        span.end(end_time=record.time_ns)


def to_spans(records: Iterable[Record], resource_attributes: Mapping[str, Any] | None = None) -> list[Any]:
    """Finished OpenTelemetry spans of ``records`` (deterministic ids, start = end = the record's time)."""
    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    ids = _record_ids()
    resource = Resource.create({v.SERVICE_NAME: "aitrail-import", **(resource_attributes or {})})
    provider = TracerProvider(resource=resource, id_generator=ids)
    tracer = provider.get_tracer("aitrail.records")
    spans = []
    for record in records:
        ids.trace_id, ids.span_id = record.trace_id, record.span_id
        span = tracer.start_span(record.span_name, attributes=record.span_attributes(), links=_links(record),
                                 start_time=record.time_ns, context=Context())
        span.end(end_time=record.time_ns)
        spans.append(span)
    return spans


def encode(records: Iterable[Record], resource_attributes: Mapping[str, Any] | None = None) -> bytes:
    """The OTLP/HTTP protobuf body (``ExportTraceServiceRequest``) carrying ``records``, by the exporters' encoder."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return encode_spans(to_spans(records, resource_attributes)).SerializeToString()


__all__ = ["Location", "Record", "SEVERITIES", "emit", "encode", "finding_record", "fingerprints_json", "incident_record",
           "record_id", "to_spans"]
