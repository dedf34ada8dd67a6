"""OTLP/HTTP receiver: ``POST /v1/{traces,logs,metrics}``, plus ``/healthz`` and ``/metrics``.

Answers in the request's content type (protobuf or JSON), with
``partial_success`` when some items were refused, 400/413/415 with a
``google.rpc.Status`` that says what is wrong, and 503 + Retry-After when the
collector or its store cannot take the data now.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from aitrail.errors import AccessDenied
from aitrail.collector.otlp import Limits, decode, response_body, status_body, wants_json
from aitrail.collector.pipeline import Pipeline
from aitrail.collector.processors import IngestContext
from aitrail.collector.receivers import RETRY_AFTER_SECONDS, classify
from aitrail.collector.telemetry import SelfMetrics
from aitrail.errors import PayloadTooLarge

log = logging.getLogger("aitrail.collector")

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


async def read_body(request: web.Request, limit: int) -> bytes:
    """The (possibly chunked) body, refused as soon as it passes ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body of {request.content_length} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _challenge(exc: AccessDenied) -> dict[str, str] | None:
    return {"WWW-Authenticate": 'Bearer realm="aitrail"'} if exc.status == 401 else None


def build_app(
    pipeline: Pipeline,
    metrics: SelfMetrics,
    limits: Limits,
    health: Callable[[], dict[str, Any]],
    authenticate: Callable[[web.Request], IngestContext] | None = None,
    authorize_admin: Callable[[web.Request], object] | None = None,
) -> web.Application:
    """The OTLP/HTTP application; ``authenticate`` turns a request into its tenant (default tenant when None).

    Both hooks refuse by raising :class:`~aitrail.errors.AccessDenied`: ``authenticate`` answers 401 (with
    ``WWW-Authenticate``) or 403 and a ``google.rpc.Status`` saying why, before the body is read;
    ``authorize_admin`` guards ``/metrics``, and ``/healthz`` then says only ``status`` to anyone else.
    """

    async def export(request: web.Request) -> web.Response:
        signal = request.match_info["signal"]
        as_json = wants_json(request.headers.get("Content-Type"))
        content_type = JSON if as_json else PROTOBUF
        try:
            context = authenticate(request) if authenticate else IngestContext()
        except AccessDenied as exc:
            metrics.count(metrics.rejected, "unauthenticated" if exc.status == 401 else "forbidden")
            return web.Response(
                status=exc.status, body=status_body(exc.status, str(exc), as_json), content_type=content_type,
                headers=_challenge(exc),
            )
        try:
            body = await read_body(request, limits.max_body_bytes)
            message, parsed = decode(
                signal, body, request.headers.get("Content-Type"), request.headers.get("Content-Encoding"), limits
            )
            outcome = await pipeline.consume(signal, message, context, parsed)
        except Exception as exc:  # every failure becomes an OTLP answer, never a crash
            status, reason, text = classify(exc)
            metrics.count(metrics.rejected, reason)
            if status == 500:
                log.exception("failed to store %s", signal)
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
            return web.Response(
                status=status, body=status_body(status, text, as_json), content_type=content_type, headers=headers
            )
        return web.Response(
            body=response_body(signal, as_json, outcome.rejected, outcome.message), content_type=content_type
        )

    async def healthz(request: web.Request) -> web.Response:
        report = health()
        if authorize_admin is not None:
            try:
                authorize_admin(request)
            except AccessDenied:  # probes need no token; the details (store, counters) do
                report = {"status": report.get("status")}
        return web.Response(text=json.dumps(report), content_type=JSON)

    async def prometheus(request: web.Request) -> web.Response:
        if authorize_admin is not None:
            try:
                authorize_admin(request)
            except AccessDenied as exc:
                return web.Response(status=exc.status, text=f"{exc}\n", headers=_challenge(exc))
        return web.Response(text=metrics.prometheus(), content_type="text/plain")

    app = web.Application(client_max_size=limits.max_body_bytes + 1)
    app.router.add_post(r"/v1/{signal:traces|logs|metrics}", export)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    return app
