"""OTLP/gRPC receiver: the trace, logs and metrics services on one ``grpc.aio`` server.

gRPC decompresses the request; this receiver decodes it, and only after the
call's token is checked: each ``Export`` is registered with no request
deserializer, so it gets the raw bytes, and an unauthenticated caller costs no
protobuf parsing (and cannot reach the parser at all). Failures map onto the
status codes OTLP prescribes: UNAUTHENTICATED / PERMISSION_DENIED for tokens,
INVALID_ARGUMENT for bad data (not retried), UNAVAILABLE for "try again"
(retried by every OTLP exporter), INTERNAL otherwise.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from typing import Any

import grpc

from aitrail.errors import AccessDenied
from aitrail.collector.otlp import Limits
from aitrail.collector.otlp.decode import PROTOBUF, decode, response_body
from aitrail.collector.pipeline import Pipeline
from aitrail.collector.processors import IngestContext
from aitrail.collector.receivers import classify
from aitrail.collector.telemetry import SelfMetrics

log = logging.getLogger("aitrail.collector")

_STATUS = {400: grpc.StatusCode.INVALID_ARGUMENT, 413: grpc.StatusCode.RESOURCE_EXHAUSTED,
           415: grpc.StatusCode.INVALID_ARGUMENT, 503: grpc.StatusCode.UNAVAILABLE, 500: grpc.StatusCode.INTERNAL,
           401: grpc.StatusCode.UNAUTHENTICATED, 403: grpc.StatusCode.PERMISSION_DENIED}

Authenticate = Callable[[Iterable[tuple[str, Any]]], IngestContext]
"""Turns a call's metadata into its tenant, or raises :class:`~aitrail.errors.AccessDenied`."""


SERVICES = {
    "traces": "opentelemetry.proto.collector.trace.v1.TraceService",
    "logs": "opentelemetry.proto.collector.logs.v1.LogsService",
    "metrics": "opentelemetry.proto.collector.metrics.v1.MetricsService",
}
"""The OTLP service of each signal, each with one method, ``Export``."""


class _Export:
    """One service's ``Export``, on raw bytes both ways: token first, then decoding, then the pipeline."""

    def __init__(
        self, signal: str, pipeline: Pipeline, metrics: SelfMetrics, limits: Limits,
        authenticate: Authenticate | None = None,
    ) -> None:
        self.signal, self.pipeline, self.metrics, self.limits = signal, pipeline, metrics, limits
        self.authenticate = authenticate

    async def Export(self, raw: bytes, context: grpc.aio.ServicerContext) -> bytes:  # noqa: N802 (gRPC's name)
        ingest = IngestContext()
        if self.authenticate is not None:
            try:
                ingest = self.authenticate(context.invocation_metadata() or ())
            except AccessDenied as exc:
                self.metrics.count(self.metrics.rejected, "unauthenticated" if exc.status == 401 else "forbidden")
                await context.abort(_STATUS[exc.status], str(exc))
        try:
            request, parsed = decode(self.signal, raw, PROTOBUF, None, self.limits)
            outcome = await self.pipeline.consume(self.signal, request, ingest, parsed)
        except Exception as exc:
            status, reason, text = classify(exc)
            self.metrics.count(self.metrics.rejected, reason)
            if status == 500:
                log.exception("failed to store %s", self.signal)
            await context.abort(_STATUS[status], text)
        return response_body(self.signal, False, outcome.rejected, outcome.message)

    def handler(self) -> grpc.GenericRpcHandler:
        """The service's handler, without (de)serializers: nothing is parsed before the token is checked."""
        method = grpc.unary_unary_rpc_method_handler(self.Export, request_deserializer=None, response_serializer=None)
        return grpc.method_handlers_generic_handler(SERVICES[self.signal], {"Export": method})


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
    # gRPC hands over the message decompressed (within max_receive_message_length): the limit on what
    # arrives compressed, which HTTP bodies have, does not apply to it.
    decoded = dataclasses.replace(limits, max_body_bytes=limits.max_decompressed_bytes)
    for signal in SERVICES:
        server.add_generic_rpc_handlers((_Export(signal, pipeline, metrics, decoded, authenticate).handler(),))
    return server
