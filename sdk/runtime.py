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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Tracer

from aitrail.errors import ConfigError
from aitrail.sdk import environment
from aitrail.sdk import vocabulary as v

log = logging.getLogger("aitrail.sdk")

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
"""A local collector (``aitrail serve``), when nothing else is configured."""


@dataclass
class ExportStats:
    """What happened to the spans this process produced."""

    exported: int = 0
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, exported: int = 0, dropped: int = 0) -> None:
        with self.lock:
            self.exported += exported
            self.dropped += dropped


class CountingExporter(SpanExporter):
    """Counts exported and dropped spans; an exporter's exception becomes a counted drop, never a crash."""

    def __init__(self, inner: SpanExporter, stats: ExportStats) -> None:
        self.inner, self.stats = inner, stats

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception:  # noqa: BLE001 - telemetry must never hurt its host
            log.debug("span export failed", exc_info=True)
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self.stats.add(exported=len(spans))
        else:
            self.stats.add(dropped=len(spans))
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

    def resolved_prompt_policy(self) -> str:
        return _policy(self.prompt_policy or os.environ.get(environment.AITRAIL_PROMPT_POLICY) or "redacted", v.PROMPT_POLICIES)

    def resolved_code_policy(self) -> str:
        return _policy(self.code_policy or os.environ.get(environment.AITRAIL_CODE_POLICY) or "none", ("full", "redacted", "none"))

    def resolved_salt(self) -> str:
        return self.salt or os.environ.get(environment.AITRAIL_PROMPT_SALT) or "aitrail"

    def scans(self) -> bool:
        """Whether generations are scanned when recorded (:mod:`aitrail.sdk.accountability.scan`)."""
        if self.scan is not None:
            return self.scan
        return os.environ.get(environment.AITRAIL_SCAN, "1").lower() not in ("0", "false", "no", "off")

    def is_disabled(self) -> bool:
        if self.disabled is not None:
            return self.disabled
        return os.environ.get(environment.AITRAIL_DISABLED, "").lower() in ("1", "true", "yes")


def _policy(value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ConfigError(f"unknown policy {value!r}: use one of {', '.join(allowed)}")
    return value


def _exporter(settings: Settings) -> SpanExporter:
    if settings.exporter is not None:
        return settings.exporter
    protocol = settings.protocol or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    env_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    headers = dict(settings.headers) if settings.headers else None
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        endpoint = settings.endpoint or (None if env_endpoint else DEFAULT_ENDPOINT.replace("4318", "4317"))
        insecure = (endpoint or env_endpoint or "").startswith("http://")
        return GrpcExporter(endpoint=endpoint, headers=headers, insecure=insecure or None)
    if protocol not in ("http/protobuf", "http/json"):
        raise ConfigError(f"unknown OTLP protocol {protocol!r}: use http/protobuf or grpc")
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
        self.prompt_policy = settings.resolved_prompt_policy()
        self.code_policy = settings.resolved_code_policy()
        self.salt = settings.resolved_salt()
        self.stats = ExportStats()
        attributes = {v.SERVICE_NAME: settings.service_name} if settings.service_name else {}
        attributes.update(settings.resource_attributes or {})
        if "service.name" not in attributes and not os.environ.get("OTEL_SERVICE_NAME"):
            attributes["service.name"] = "aitrail-sdk"
        self.ids = PrimedIdGenerator()
        self.provider = TracerProvider(resource=Resource.create(attributes), id_generator=self.ids)
        if not settings.is_disabled():
            self.provider.add_span_processor(BatchSpanProcessor(CountingExporter(_exporter(settings), self.stats)))
        self.tracer: Tracer = self.provider.get_tracer("aitrail.sdk")

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


_lock = threading.Lock()
_runtime: Runtime | None = None


def configure(**settings: Any) -> Runtime:
    """Set up (or replace) the SDK: ``aitrail.configure(endpoint="http://collector:4318", team="payments")``."""
    global _runtime
    new = Runtime(Settings(**settings))
    with _lock:
        old, _runtime = _runtime, new
    if old is not None:
        old.shutdown()
    return new


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
        current.shutdown()
