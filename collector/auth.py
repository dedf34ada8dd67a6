"""Request authentication: which token a request carries, and whether it may do what it asks.

The tokens themselves — their file, hashes, scopes, tenants and expiry — are :mod:`aitrail.collector.tokens`;
this module reads a request's credential (``Authorization: Bearer``, Basic as ClickHouse clients send it, or
``X-ClickHouse-Key``), finds its token among the loaded ones by comparing hashes in constant time, reloads the
tokens when their file changes, and answers 401 (no, unknown or expired token) or 403 (a known token without
the scope).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aitrail.errors import ConfigError, Forbidden, Unauthenticated
from aitrail.collector.tokens import (
    ADMIN, CHECK_INTERVAL, HASH_PREFIX, INGEST, QUERY, SCOPES, Principal, TokenEntry, format_time, parse_env_tokens,
    read_tokens_file,
)

log = logging.getLogger("aitrail.collector")


def credential(authorization: str | None) -> str | None:
    """The secret in an ``Authorization`` header: ``Bearer <token>``, or ``Basic`` with the token as password."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, _, password = decoded.partition(":")
        return password or None
    return None


@dataclass
class _Loaded:
    signature: tuple[int, int, int] | None = None
    entries: list[TokenEntry] = field(default_factory=list)


class Authenticator:
    """The tokens this collector accepts: the tokens file (reloaded when it changes) and ``AITRAIL_TOKENS``."""

    def __init__(
        self, path: Path | None = None, env_spec: str | None = None, check_interval: float = CHECK_INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.path = Path(path).expanduser() if path else None
        self.clock = clock  # what "now" is for expiry; tests move it instead of waiting
        self.env_entries = parse_env_tokens(env_spec)
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._file = _Loaded()
        self._checked = float("-inf")
        self._table: list[tuple[bytes, Principal]] = []
        if self.path is not None:
            self._file = _Loaded(self._signature(), read_tokens_file(self.path))  # a broken file refuses to start
            if not self._file.entries:
                log.warning("tokens file %s has no tokens yet: every request is refused until one is added", self.path)
        self._rebuild()
        self._checked = time.monotonic()

    @classmethod
    def from_config(cls, tokens_file: Path | None) -> Authenticator | None:
        """The authenticator for a collector, or None when authentication is off (no tokens file, no AITRAIL_TOKENS)."""
        from aitrail.sdk import environment

        env_spec = os.environ.get(environment.AITRAIL_TOKENS)
        if tokens_file is None and not env_spec:
            return None
        return cls(tokens_file, env_spec)

    def _signature(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _rebuild(self) -> None:
        self._table = [(bytes.fromhex(e.hash[len(HASH_PREFIX):]), e.principal) for e in [*self._file.entries, *self.env_entries]]

    def reload(self, force: bool = True) -> None:
        """Read the tokens file again if it changed (always, with ``force``); a broken file keeps the previous tokens."""
        if self.path is None:
            return
        with self._lock:
            self._checked = time.monotonic()
            signature = self._signature()
            if not force and signature == self._file.signature:
                return
            try:
                entries = read_tokens_file(self.path)
            except ConfigError as exc:
                log.error("keeping the previous tokens: %s", exc)
                return
            self._file = _Loaded(signature, entries)
            self._rebuild()
            log.info("tokens reloaded from %s: %d token(s)", self.path, len(entries))

    def _maybe_reload(self) -> None:
        if self.path is not None and time.monotonic() - self._checked >= self.check_interval:
            self.reload(force=False)

    def identify(self, secret: str | None) -> Principal:
        """Who ``secret`` is; :class:`Unauthenticated` when missing or unknown."""
        if not secret:
            raise Unauthenticated("authentication required: send the token as 'Authorization: Bearer <token>'")
        self._maybe_reload()
        digest = hashlib.sha256(secret.encode()).digest()
        found: Principal | None = None
        for known, principal in self._table:  # every hash compared, in constant time each, no early exit
            if hmac.compare_digest(known, digest):
                found = principal
        if found is None:
            raise Unauthenticated("invalid token: unknown or revoked")
        if found.expired(self.clock()):
            assert found.expires is not None
            raise Unauthenticated(
                f"token {found.token_id} expired at {format_time(found.expires)}: "
                "ask for a new one (`aitrail token create ... --expires 30d`)"
            )
        return found

    def require(self, secret: str | None, scope: str) -> Principal:
        """Who ``secret`` is, if it has ``scope``; :class:`Forbidden` when it does not."""
        principal = self.identify(secret)
        if not principal.allows(scope):
            have = ", ".join(s for s in SCOPES if s in principal.scopes)
            raise Forbidden(f"token {principal.token_id} has scope(s) {have}, not {scope!r}")
        return principal

    def tenants(self) -> set[str]:
        """Every tenant a token names (for preparing tenant views)."""
        self._maybe_reload()
        return {p.tenant for _, p in self._table}

    # -- what each listener reads --------------------------------------------------------------------------------

    def ingest_http(self, request: Any) -> Any:
        """OTLP/HTTP: the request's IngestContext, from ``Authorization: Bearer <token>`` with the ingest scope."""
        from aitrail.collector.processors import IngestContext

        principal = self.require(credential(request.headers.get("Authorization")), INGEST)
        return IngestContext(principal.tenant, principal.team)

    def ingest_grpc(self, metadata: Iterable[tuple[str, Any]]) -> Any:
        """OTLP/gRPC: the call's IngestContext, from ``authorization`` metadata with the ingest scope."""
        from aitrail.collector.processors import IngestContext

        values = [v for k, v in metadata or () if k.lower() == "authorization"]
        value = values[0] if values else None
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        principal = self.require(credential(value), INGEST)
        return IngestContext(principal.tenant, principal.team)

    def reader_http(self, request: Any) -> Principal:
        """The SQL endpoint: HTTP Basic (the token as password), Bearer, ``X-ClickHouse-Key`` or ``password=``; query scope."""
        secret = (
            request.headers.get("X-ClickHouse-Key")
            or credential(request.headers.get("Authorization"))
            or request.query.get("password")
        )
        if not secret:
            raise Unauthenticated(
                "authentication required: give the token as the password (clickhouse-connect password=..., "
                "HTTP Basic, or the X-ClickHouse-Key header)"
            )
        return self.require(secret, QUERY)

    def sql_reader(self, request: Any) -> Any:
        """The SQL endpoint's reader: the token's tenant, or every tenant's rows for an admin token."""
        from aitrail.collector.sqlendpoint.tenancy import EVERYTHING, Reader

        principal = self.reader_http(request)
        return EVERYTHING if principal.admin else Reader(principal.tenant, principal.token_id)

    def admin_http(self, request: Any) -> Principal:
        """``/metrics`` and the details of ``/healthz``: a token with the admin scope."""
        return self.require(credential(request.headers.get("Authorization")), ADMIN)
