"""Receivers: OTLP over HTTP and gRPC. They decode, hand the request to the pipeline, and answer."""

from __future__ import annotations

from aitrail.errors import AitrailError, Backpressure, InvalidPayload, StoreUnavailable

RETRY_AFTER_SECONDS = 1


def classify(exc: BaseException) -> tuple[int, str, str]:
    """(HTTP status, rejection reason, message) for a failure of the pipeline.

    4xx: the client's data is wrong, retrying will not help. 503: try again
    later (the data was not stored). 500: our fault, also not acknowledged.
    """
    if isinstance(exc, InvalidPayload):
        return exc.status, {400: "malformed", 413: "too_large", 415: "unsupported_media"}[exc.status], str(exc)
    if isinstance(exc, (Backpressure, StoreUnavailable)):
        return 503, "unavailable", f"{exc}; retry after {RETRY_AFTER_SECONDS}s"
    if isinstance(exc, AitrailError) and exc.retryable:
        return 503, "unavailable", str(exc)
    return 500, "internal", f"internal error: {type(exc).__name__}: {exc}"
