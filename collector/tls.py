"""TLS for the collector's listeners: OTLP/HTTP and the SQL endpoint (aiohttp), and OTLP/gRPC.

One certificate chain and key (PEM files, ``tls_cert`` / ``tls_key``) serve all
three. TLS 1.2 is the floor; clients verify the server as usual (a private CA:
``OTEL_EXPORTER_OTLP_CERTIFICATE``, the exporters' ``certificate_file=``, or
clickhouse-connect's ``ca_cert=``).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from aitrail.errors import ConfigError


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the TLS {what} {path}: {exc}") from exc


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """An SSLContext for aiohttp sites serving ``cert`` (chain, PEM) with ``key`` (PEM)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(Path(cert).expanduser(), Path(key).expanduser())
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use the TLS certificate {cert} with key {key}: {exc}") from exc
    return context


def grpc_credentials(cert: Path, key: Path) -> Any:
    """``grpc.ServerCredentials`` for the same certificate and key."""
    import grpc

    server_context(cert, key)  # the same checks and messages as for HTTP, before gRPC's terse ones
    return grpc.ssl_server_credentials([(_read(key, "key"), _read(cert, "certificate"))])
