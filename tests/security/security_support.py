"""Helpers of the security tests: OTLP requests with claims, raw HTTP with tokens, a self-signed certificate."""

from __future__ import annotations

import base64
import contextlib
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from aitrail.collector.sqlendpoint.tenancy import tenant_database

A, B = "tenant-a", "tenant-b"
B_MARKERS = ("SECRET-B-PROMPT", "SECRET-B-LOG", "secret_b_metric", "svc-tenant-b", "team-b-secret", B, tenant_database(B))
"""Every string of tenant B's data: none of them may ever reach tenant A's reader."""


def _attrs(target, values: dict[str, str]) -> None:
    for key, value in values.items():
        target.add(key=key).value.string_value = value


def traces(resource: dict[str, str], span: dict[str, str], name: str = "chat", n: int = 1) -> bytes:
    request = trace_service_pb2.ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    _attrs(rs.resource.attributes, resource)
    ss = rs.scope_spans.add()
    for i in range(n):
        s = ss.spans.add(name=name, trace_id=bytes([7] * 15 + [i + 1]), span_id=bytes([9] * 7 + [i + 1]))
        s.start_time_unix_nano = 1_700_000_000_000_000_000 + i
        s.end_time_unix_nano = s.start_time_unix_nano + 1000
        _attrs(s.attributes, span)
    return request.SerializeToString()


def logs(resource: dict[str, str], body: str, attributes: dict[str, str] | None = None) -> bytes:
    request = logs_service_pb2.ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    _attrs(rl.resource.attributes, resource)
    record = rl.scope_logs.add().log_records.add(time_unix_nano=1_700_000_000_000_000_000)
    record.body.string_value = body
    _attrs(record.attributes, attributes or {})
    return request.SerializeToString()


def metrics(resource: dict[str, str], name: str, attributes: dict[str, str] | None = None) -> bytes:
    request = metrics_service_pb2.ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    _attrs(rm.resource.attributes, resource)
    metric = rm.scope_metrics.add().metrics.add(name=name)
    point = metric.sum.data_points.add(time_unix_nano=1_700_000_000_000_000_000, as_int=42)
    metric.sum.aggregation_temporality = 2
    metric.sum.is_monotonic = True
    _attrs(point.attributes, attributes or {})
    return request.SerializeToString()


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


def http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None,
         context=None) -> Answer:  # noqa: ANN001
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method or ("POST" if data is not None else "GET"))
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as response:
            return Answer(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read(), dict(exc.headers))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(token: str, user: str = "reader") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def export(base_url: str, signal: str, body: bytes, token: str | None) -> Answer:
    headers = {"Content-Type": "application/x-protobuf", **(bearer(token) if token else {})}
    return http(f"{base_url}/v1/{signal}", body, headers)


def sql(base_url: str, query: str, token: str | None, params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None, fmt: str = "TabSeparatedWithNames") -> Answer:
    fields = {"default_format": fmt, **{f"param_{k}": v for k, v in (params or {}).items()}}
    auth = basic(token) if token else {}
    return http(f"{base_url}/?{urllib.parse.urlencode(fields)}", query.encode(), {**auth, **(headers or {})})


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (its own CA), made with the openssl command line."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )
    return cert, key


def config(folder: Path, **overrides: object):  # noqa: ANN201
    """A collector on ephemeral loopback ports, reads after writes, no derivation (not needed here)."""
    from aitrail.collector.config import CollectorConfig
    from aitrail.collector.store import StoreLocation

    values: dict[str, object] = dict(
        location=StoreLocation(data_dir=folder / "store"), http_port=0, grpc_port=0, sql_port=0, flush_interval=0.02,
        read_after_write=True, derive_interval=0,
    )
    values.update(overrides)
    return CollectorConfig(**values)  # type: ignore[arg-type]


@contextlib.contextmanager
def running(folder: Path, **overrides: object):  # noqa: ANN201
    from aitrail.collector.server import BackgroundCollector

    with BackgroundCollector(config(folder, **overrides)) as collector:
        yield collector
