"""One exception tree for all of aitrail.

    AitrailError
    ├── ConfigError          bad option, file or environment; fix the setting and retry
    ├── StoreError           the ClickHouse store failed
    │   ├── StoreUnavailable     retryable: the store is down or busy
    │   ├── SchemaError          the schema is newer than this code, or a migration failed
    │   └── StoreLocked          another process owns the embedded data directory
    ├── QueryRefused         a read-only SQL endpoint refused a statement (not a read)
    ├── AccessDenied         a collector refused the credentials (HTTP 401: none, unknown or expired; 403: scope)
    ├── GrafanaError         Grafana refused a dashboard push (401, 403, 404) or could not be reached
    └── InvalidPayload       an OTLP request that cannot be decoded (HTTP 400)
        ├── PayloadTooLarge      over the size limit, after decompression (HTTP 413)
        └── UnsupportedMedia     unknown content type or encoding (HTTP 415)

Whether an error is worth retrying is a property of the error (``retryable``),
not the caller's guess.
"""

from __future__ import annotations


class AitrailError(Exception):
    """Root of every error aitrail raises on purpose."""

    retryable: bool = False


class ConfigError(AitrailError):
    """A setting is wrong; the message says which and how to fix it."""


class StoreError(AitrailError):
    """The store failed to do what was asked."""


class StoreUnavailable(StoreError):
    """The store is down, refusing, or overloaded: try again later."""

    retryable = True


class SchemaError(StoreError):
    """The store's schema and this code do not agree."""


class StoreLocked(StoreError):
    """Another process owns the embedded data directory."""


class QueryRefused(AitrailError):
    """The SQL endpoint only runs reads; this statement is something else."""


class AccessDenied(AitrailError):
    """A collector refused the token: ``status`` 401 when there is none or it is unknown, revoked or expired,
    403 when it lacks the scope. Two different fixes (send a token, or get one that may do this), so callers
    tell them apart by ``status``."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class InvalidPayload(AitrailError):
    """An OTLP request body that cannot be decoded."""

    status = 400


class PayloadTooLarge(InvalidPayload):
    """The body is over the limit (checked after decompression too)."""

    status = 413


class UnsupportedMedia(InvalidPayload):
    """Content type or content encoding that OTLP does not define."""

    status = 415


class Backpressure(AitrailError):
    """The collector is full: the client should retry after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GrafanaError(AitrailError):
    """Grafana refused or could not be reached while pushing dashboards; ``status`` is its HTTP status (0: unreachable)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status
