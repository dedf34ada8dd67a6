"""One exception tree for all of aitrail.

    AitrailError
    ├── ConfigError          bad option, file or environment; fix the setting and retry
    ├── StoreError           the ClickHouse store failed
    │   ├── StoreUnavailable     retryable: the store is down or busy
    │   ├── SchemaError          the schema is newer than this code, or a migration failed
    │   ├── StoreLocked          another process owns the embedded data directory
    │   └── StoreNotFound        a read names a data directory where nothing was ever stored
    ├── UsageError           a command's argument is wrong (unknown revision, unreadable export file)
    ├── QueryRefused         a read-only SQL endpoint refused a statement (not a read)
    ├── AccessDenied         a collector refused the credentials (``status``: the HTTP status)
    │   ├── Unauthenticated      no token, or one unknown, revoked or expired (HTTP 401)
    │   └── Forbidden            a known token without the scope (HTTP 403)
    ├── GitFailed            a git command failed (the message is git's own)
    ├── HookError            a git hook could not be installed or removed as asked
    │   └── NotInRepository      the path given is not inside a git working tree
    ├── AssistantExited      a wrapped assistant exited non-zero (the status its generations end with)
    ├── InvalidImport        a file or record to import (SARIF, incidents, Agent Trace, git-ai note) is malformed;
    │                        the message names where (file, JSON path, note and line) and nothing is imported
    ├── GrafanaError         Grafana refused a dashboard push (401, 403, 404) or could not be reached
    └── InvalidPayload       an OTLP request that cannot be decoded (HTTP 400)
        ├── PayloadTooLarge      over the size limit, after decompression (HTTP 413)
        └── UnsupportedMedia     unknown content type or encoding (HTTP 415)

Whether an error is worth retrying is a property of the error (``retryable``),
not the caller's guess.
"""

from __future__ import annotations


class AitrailError(Exception):
    """Root of every error aitrail raises on purpose.

    ``hint`` says what to do about this one error, when the message alone does not (the command line prints
    it under the message); None leaves it to the command line's hint for the kind of error.
    """

    retryable: bool = False
    hint: str | None = None

    def __init__(self, message: str = "", hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


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


class StoreNotFound(StoreError):
    """Reading a store that does not exist: a typo in the path, or nothing sent yet. Reads never create one."""
class UsageError(AitrailError):
    """A command's argument is wrong (an unknown revision, an export file that is not what it should be)."""


class QueryRefused(AitrailError):
    """The SQL endpoint only runs reads; this statement is something else."""


class AccessDenied(AitrailError):
    """A collector refused the token: ``status`` 401 when there is none or it is unknown, revoked or expired,
    403 when it lacks the scope. Two different fixes (send a token, or get one that may do this), so callers
    tell them apart by ``status``. The collector raises the subclasses; a client that only sees the HTTP
    answer raises this one with the status it got."""

    status: int = 401

    def __init__(self, message: str, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        if status is not None:
            self.status = status


class Unauthenticated(AccessDenied):
    """No token, or one this collector does not know (HTTP 401, gRPC UNAUTHENTICATED)."""

    status = 401


class Forbidden(AccessDenied):
    """A known token without the scope this request needs (HTTP 403, gRPC PERMISSION_DENIED)."""

    status = 403


class GitFailed(AitrailError):
    """A git command failed; the message is git's own."""


class HookError(AitrailError):
    """A hook could not be installed or removed as asked (the message says why and what to do)."""


class NotInRepository(HookError):
    """The path is not inside a git working tree: there is no hooks directory to work on."""


class AssistantExited(AitrailError):
    """The status a generation of a wrapped run ends with when the assistant exits non-zero."""


class InvalidImport(AitrailError):
    """A file or record to import is refused as a whole, so nothing is ever half-imported.

    ``path`` is where the offending element sits (a JSON path such as ``$.runs[0].results[3]``), put
    before the message; a caller that names the place in its own words (file and line, commit and note)
    leaves it None. Exit status 2 on the command line: the input, not the system, is wrong.
    """

    hint = "fix that element of the input and import it again: nothing was imported"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path is not None else message)
        self.path = path


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
