"""OTLP/gRPC receiver: the trace, logs and metrics services on one ``grpc.aio`` server.

gRPC decodes (and decompresses) the request itself; failures map onto the
status codes OTLP prescribes: INVALID_ARGUMENT for bad data (not retried),
UNAVAILABLE for "try again" (retried by every OTLP exporter), INTERNAL otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from aitrail.collector.auth import AuthError
from aitrail.collector.otlp import Limits
from aitrail.collector.pipeline import Pipeline
from aitrail.collector.processors import IngestContext
from aitrail.collector.receivers import classify
from aitrail.collector.telemetry import SelfMetrics

log = logging.getLogger("aitrail.collector")

_STATUS = {400: grpc.StatusCode.INVALID_ARGUMENT, 413: grpc.StatusCode.RESOURCE_EXHAUSTED,
           415: grpc.StatusCode.INVALID_ARGUMENT, 503: grpc.StatusCode.UNAVAILABLE, 500: grpc.StatusCode.INTERNAL,
           401: grpc.StatusCode.UNAUTHENTICATED, 403: grpc.StatusCode.PERMISSION_DENIED}

Authenticate = Callable[[Iterable[tuple[str, Any]]], IngestContext]
"""Turns a call's metadata into its tenant, or raises :class:`~aitrail.collector.auth.AuthError`."""


class _Export:
    """One ``Export`` method, shared by the three services."""

    def __init__(
        self, signal: str, response: Any, partial: str, pipeline: Pipeline, metrics: SelfMetrics,
        authenticate: Authenticate | None = None,
    ) -> None:
        self.signal, self.response, self.partial = signal, response, partial
        self.pipeline, self.metrics = pipeline, metrics
        self.authenticate = authenticate

    async def Export(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802 (gRPC's name)
        ingest = IngestContext()
        if self.authenticate is not None:
            try:
                ingest = self.authenticate(context.invocation_metadata() or ())
            except AuthError as exc:
                self.metrics.count(self.metrics.rejected, "unauthenticated" if exc.status == 401 else "forbidden")
                await context.abort(_STATUS[exc.status], str(exc))
        try:
            outcome = await self.pipeline.consume(self.signal, request, ingest)
        except Exception as exc:
            status, reason, text = classify(exc)
            self.metrics.count(self.metrics.rejected, reason)
            if status == 500:
                log.exception("failed to store %s", self.signal)
            await context.abort(_STATUS[status], text)
        reply = self.response()
        if outcome.rejected or outcome.message:
            partial = reply.partial_success
            setattr(partial, self.partial, outcome.rejected)
            partial.error_message = outcome.message
        return reply


def build_server(
    pipeline: Pipeline, metrics: SelfMetrics, limits: Limits, authenticate: Authenticate | None = None
) -> grpc.aio.Server:
    """A gRPC server with the three OTLP services; the caller adds a port and starts it.

    With ``authenticate``, every call needs ``authorization: Bearer <token>`` metadata (UNAUTHENTICATED
    without a known token, PERMISSION_DENIED without the ingest scope).
    """
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", limits.max_decompressed_bytes),
            ("grpc.so_reuseport", 0),
        ]
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
        _Export("traces", trace_service_pb2.ExportTraceServiceResponse, "rejected_spans", pipeline, metrics, authenticate),
        server,
    )
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(
        _Export("logs", logs_service_pb2.ExportLogsServiceResponse, "rejected_log_records", pipeline, metrics, authenticate),
        server,
    )
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
        _Export(
            "metrics", metrics_service_pb2.ExportMetricsServiceResponse, "rejected_data_points", pipeline, metrics,
            authenticate,
        ),
        server,
    )
    return server
