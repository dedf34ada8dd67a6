"""Configuration and export: where the SDK's spans go, and the promise that they never hurt the host.

``configure()`` (or nothing at all) gives a private TracerProvider — the
host's own OpenTelemetry setup is left alone — with a BatchSpanProcessor, so
the caller's thread only enqueues; a missing or slow collector costs the host
nothing but the dropped spans, which are counted. The standard ``OTEL_*``
variables (endpoint, headers, protocol, resource attributes, service name)
work as everywhere in OpenTelemetry; arguments to ``configure`` win over them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import Tracer

from aitrail.sdk import environment
from aitrail.sdk import vocabulary as v
from aitrail.sdk.outbox import Outbox
from aitrail.sdk.policy import resolve_policy, resolve_salt, warn_once

log = logging.getLogger("aitrail.sdk")

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
"""A local collector (``aitrail serve``), when nothing else is configured."""


@dataclass
class ExportStats:
    """What happened to the spans this process produced."""

    exported: int = 0
    dropped: int = 0
    kept: int = 0  # not sent, but kept in the outbox for a later run (also counted in ``dropped``)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, exported: int = 0, dropped: int = 0, kept: int = 0) -> None:
        with self.lock:
            self.exported += exported
            self.dropped += dropped
            self.kept += kept


class CountingExporter(SpanExporter):
    """Counts exported and dropped spans; an exporter's exception becomes a counted drop, never a crash.

    With an ``outbox``, each batch is kept on disk before it is exported and removed once the collector took
    it, so a batch the collector refused, or one the process ended in the middle of, is sent by a later run.
    """

    def __init__(self, inner: SpanExporter, stats: ExportStats, outbox: Outbox | None = None) -> None:
        self.inner, self.stats, self.outbox = inner, stats, outbox

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        held = None
        if self.outbox is not None:
            try:
                held = self.outbox.hold(encode_spans(spans).SerializeToString(), len(spans))
            except Exception:  # noqa: BLE001 - an unencodable batch is exported (or dropped) as before
                log.debug("could not keep a batch in the outbox", exc_info=True)
        try:
            result = self.inner.export(spans)
        except Exception:  # noqa: BLE001 - telemetry must never hurt its host
            log.debug("span export failed", exc_info=True)
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self.stats.add(exported=len(spans))
            if self.outbox is not None:
                self.outbox.done(held)
        else:
            self.stats.add(dropped=len(spans), kept=len(spans) if held is not None else 0)
            if self.outbox is not None:
                self.outbox.keep(held)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class PrimedIdGenerator(RandomIdGenerator):
    """Random ids, unless the finishing thread primed the next ones.

    ``track`` hands out a span's ids on the caller's thread (cheap) and creates
    the real span later on the finisher thread; priming makes that span carry
    the ids the caller's nested work already used as its parent.
    """

    def __init__(self) -> None:
        self._next = threading.local()

    def prime(self, trace_id: int | None, span_id: int) -> None:
        self._next.trace_id, self._next.span_id = trace_id, span_id

    def generate_span_id(self) -> int:
        span_id = getattr(self._next, "span_id", None)
        if span_id is None:
            return super().generate_span_id()
        self._next.span_id = None
        return span_id

    def generate_trace_id(self) -> int:
        trace_id = getattr(self._next, "trace_id", None)
        if trace_id is None:
            return super().generate_trace_id()
        self._next.trace_id = None
        return trace_id


@dataclass(frozen=True)
class Settings:
    """Everything ``configure`` accepts; None means "from the environment, else the default"."""

    endpoint: str | None = None
    protocol: str | None = None
    headers: Mapping[str, str] | None = None
    service_name: str | None = None
    prompt_policy: str | None = None
    code_policy: str | None = None
    salt: str | None = None
    user_id: str | None = None
    user_email: str | None = None
    user_name: str | None = None
    team: str | None = None
    resource_attributes: Mapping[str, Any] | None = None
    journal: bool = True
    exporter: SpanExporter | None = None
    disabled: bool | None = None
    scan: bool | None = None
    """Scan AI-written code as it is recorded (default: yes, unless ``AITRAIL_SCAN=0``)."""

    def scans(self) -> bool:
        """Whether generations are scanned when recorded (:mod:`aitrail.sdk.accountability.scan`)."""
        if self.scan is not None:
            return self.scan
        return os.environ.get(environment.AITRAIL_SCAN, "1").lower() not in ("0", "false", "no", "off")

    def is_disabled(self) -> bool:
        if self.disabled is not None:
            return self.disabled
        return os.environ.get(environment.AITRAIL_DISABLED, "").lower() in ("1", "true", "yes")


def _protocol(settings: Settings) -> str:
    protocol = settings.protocol or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol not in ("http/protobuf", "http/json", "grpc"):
        warn_once(f"aitrail: unknown OTLP protocol {protocol!r}: use http/protobuf or grpc; sending with http/protobuf")
        return "http/protobuf"
    return protocol


def _poster(settings: Settings) -> Callable[[bytes], bool]:
    """Sends one stored OTLP trace request body where the exporter would send it (for the outbox)."""
    from opentelemetry.util.re import parse_env_headers

    env_headers = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or os.environ.get("OTEL_EXPORTER_OTLP_HEADERS", "")
    headers = dict(settings.headers) if settings.headers else parse_env_headers(env_headers, liberal=True)
    if _protocol(settings) == "grpc":
        import grpc
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

        endpoint = settings.endpoint or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_ENDPOINT.replace("4318", "4317")
        address = endpoint.split("://", 1)[-1].rstrip("/")
        secure = endpoint.startswith("https://")

        def post_grpc(body: bytes) -> bool:
            with (grpc.secure_channel(address, grpc.ssl_channel_credentials()) if secure
                  else grpc.insecure_channel(address)) as channel:
                TraceServiceStub(channel).Export(ExportTraceServiceRequest.FromString(body),
                                                 metadata=list(headers.items()), timeout=10)
            return True

        return post_grpc
    import requests

    if settings.endpoint:
        url = f"{settings.endpoint.rstrip('/')}/v1/traces"
    else:
        base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", DEFAULT_ENDPOINT)
        url = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or f"{base.rstrip('/')}/v1/traces"

    def post_http(body: bytes) -> bool:
        answer = requests.post(url, data=body, timeout=10,
                               headers={**headers, "Content-Type": "application/x-protobuf"})
        return answer.status_code < 300

    return post_http


def _exporter(settings: Settings) -> SpanExporter:
    if settings.exporter is not None:
        return settings.exporter
    protocol = _protocol(settings)
    env_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    headers = dict(settings.headers) if settings.headers else None
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        endpoint = settings.endpoint or (None if env_endpoint else DEFAULT_ENDPOINT.replace("4318", "4317"))
        insecure = (endpoint or env_endpoint or "").startswith("http://")
        return GrpcExporter(endpoint=endpoint, headers=headers, insecure=insecure or None)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    if settings.endpoint:
        return HttpExporter(endpoint=f"{settings.endpoint.rstrip('/')}/v1/traces", headers=headers)
    if env_endpoint:
        return HttpExporter(headers=headers)  # the exporter reads the OTEL_* variables itself
    return HttpExporter(endpoint=f"{DEFAULT_ENDPOINT}/v1/traces", headers=headers)


class Runtime:
    """The configured SDK: settings, a private tracer provider, export stats."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prompt_policy = resolve_policy(settings.prompt_policy, "prompt")
        self.code_policy = resolve_policy(settings.code_policy, "code")
        self.salt = resolve_salt(settings.salt)
        self.stats = ExportStats()
        attributes = {v.SERVICE_NAME: settings.service_name} if settings.service_name else {}
        attributes.update(settings.resource_attributes or {})
        if "service.name" not in attributes and not os.environ.get("OTEL_SERVICE_NAME"):
            attributes["service.name"] = "aitrail-sdk"
        self.ids = PrimedIdGenerator()
        self.provider = TracerProvider(resource=Resource.create(attributes), id_generator=self.ids)
        # Spans this SDK sends itself go through the outbox; an exporter given by the caller is the caller's.
        self.outbox = Outbox() if settings.exporter is None and not settings.is_disabled() else None
        if not settings.is_disabled():
            exporter = CountingExporter(_exporter(settings), self.stats, self.outbox)
            self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer: Tracer = self.provider.get_tracer("aitrail.sdk")
        if self.outbox is not None:  # what earlier runs could not send: in the background, never in the host's way
            threading.Thread(target=self.send_outbox, name="aitrail-outbox", daemon=True).start()

    def send_outbox(self, timeout: float = 30.0) -> tuple[int, int]:
        """Send what earlier runs (or this one) kept in the outbox: (batches, spans) sent; never raises."""
        return send_outbox(self.outbox, self.settings, timeout) if self.outbox is not None else (0, 0)

    def flush(self, timeout_millis: int = 5000) -> bool:
        """Export what is queued, waiting at most ``timeout_millis`` (the exporter's own retries may take
        longer against an unreachable collector; the wait is bounded here, the export goes on in the background)."""
        outcome: list[bool] = []
        worker = threading.Thread(
            target=lambda: outcome.append(self.provider.force_flush(timeout_millis)), name="aitrail-flush", daemon=True
        )
        worker.start()
        worker.join(timeout_millis / 1000)
        return bool(outcome and outcome[0])

    def shutdown(self) -> None:
        self.provider.shutdown()


def send_outbox(outbox: Outbox, settings: Settings, timeout: float = 30.0) -> tuple[int, int]:
    """Send what waits in ``outbox`` where ``settings`` send spans: (batches, spans) sent; never raises."""
    try:
        return outbox.send(_poster(settings), timeout)
    except Exception:  # noqa: BLE001 - telemetry must never hurt its host
        log.debug("could not send the outbox", exc_info=True)
        return 0, 0


_lock = threading.Lock()
_runtime: Runtime | None = None


def configure(**settings: Any) -> Runtime:
    """Set up (or replace) the SDK: ``aitrail.configure(endpoint="http://collector:4318", team="payments")``."""
    global _runtime
    new = Runtime(Settings(**settings))
    with _lock:
        old, _runtime = _runtime, new
    if old is not None:
        _retire(old)
    return new


def _retire(old: Runtime, timeout: float = 5.0) -> None:
    """Finish what was tracked under ``old`` (generations still queued on the finisher thread are emitted through
    its provider), then flush and stop it: replacing or shutting down the SDK never loses a record."""
    from aitrail.sdk.track import finisher

    finisher().flush(timeout)
    old.shutdown()


def runtime() -> Runtime:
    """The configured runtime, or one with defaults (and the environment) on first use."""
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = Runtime(Settings())
    return _runtime


def shutdown() -> None:
    """Flush and stop exporting (also registered at interpreter exit by OpenTelemetry)."""
    global _runtime
    with _lock:
        current, _runtime = _runtime, None
    if current is not None:
        _retire(current)
