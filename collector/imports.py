"""Delivering imported records (findings, incidents, sign-offs) whether or not a collector is running.

One road in (ARCHITECTURE.md): an import is an OTLP request like any other. :func:`deliver` sends it

* to a running collector — the one named (``endpoint``), or the one that owns the embedded data directory (its
  lock file says where its OTLP/HTTP receiver listens) — authenticated with an ingest-scope ``token`` when the
  collector requires one; the collector stamps the tenant, exactly as for an assistant's OTLP;
* else to the store directly, through the collector's own processors (mapping, normalization, redaction) and
  statements (the engine stamps the tenant): the same rows a collector would write, never a second way of
  writing them.

The embedded store has one owner: when a collector holds it, the records go through that collector, so an
import never fails on the lock.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aitrail.collector.store import StoreLocation, open_store
from aitrail.collector.store.ownership import read_owner
from aitrail.errors import AccessDenied, InvalidPayload, StoreLocked, StoreUnavailable
from aitrail.sdk.records import Record, encode

TIMEOUT = 60.0
"""Seconds to wait for a collector's answer."""


@dataclass(frozen=True)
class Delivery:
    """Where the records went: ``via`` is ``collector`` or ``store``, ``target`` says which one (no password)."""

    records: int
    via: str
    target: str


def _otlp_url(location: StoreLocation, endpoint: str | None) -> str | None:
    if endpoint:
        return endpoint
    if location.data_dir is not None:
        owner = read_owner(location.data_dir)
        if owner is not None:
            if not owner.get("otlp_url"):
                raise StoreLocked(f"process {owner.get('pid')} owns {location.data_dir} but takes no OTLP yet; "
                                  "try again shortly")
            return str(owner["otlp_url"])
    return None


def send(endpoint: str, body: bytes, token: str | None = None) -> None:
    """POST an OTLP/HTTP protobuf traces body to the collector at ``endpoint``; errors say who refused what."""
    headers = {"Content-Type": "application/x-protobuf"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{endpoint.rstrip('/')}/v1/traces"
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        reason = exc.read().decode("utf-8", "replace").strip()[:300]
        if exc.code == 401:
            raise AccessDenied(f"the collector at {endpoint} requires a token with the ingest scope"
                               + (f" ({reason})" if reason and token else ", and none was given"), 401) from None
        if exc.code == 403:
            raise AccessDenied(f"the token may not send records to the collector at {endpoint}: {reason}", 403) from None
        if exc.code in (429, 502, 503, 504):
            raise StoreUnavailable(f"the collector at {endpoint} is busy ({exc.code}); try again shortly") from None
        raise InvalidPayload(f"the collector at {endpoint} refused the records ({exc.code}): {reason}") from None
    except OSError as exc:
        raise StoreUnavailable(f"cannot reach the collector at {endpoint}: {exc}") from exc


def write_direct(location: StoreLocation, body: bytes) -> None:
    """Run the collector's processors on ``body`` in this process and store it (the engine makes its rows), each
    part with a deduplication token made of the body's hash (the same import run twice inserts once)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from aitrail.collector.config import load
    from aitrail.collector.engine import ingest
    from aitrail.collector.pipeline import prepare
    from aitrail.collector.processors import IngestContext

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    flattened = prepare("traces", request, IngestContext(), load(None, location=location))
    digest = hashlib.sha256(body).hexdigest()[:32]
    with open_store(location) as store:
        for part, rows in flattened.tables.items():
            ingest.insert(store, part, rows, f"import:{digest}:{part}")


def deliver(
    records: Sequence[Record], location: StoreLocation, endpoint: str | None = None, token: str | None = None,
    resource_attributes: dict[str, Any] | None = None,
) -> Delivery:
    """Send ``records`` through a running collector (``endpoint``, or the data directory's owner), else write them
    to the store at ``location`` directly. All or nothing: one request, one insert per table."""
    if not records:
        return Delivery(0, "none", "")
    body = encode(records, resource_attributes)
    url = _otlp_url(location, endpoint)
    if url is None:
        try:
            write_direct(location, body)
            return Delivery(len(records), "store", location.describe())
        except StoreLocked:  # a collector took the directory since we looked: go through it
            url = _otlp_url(location, None)
            if url is None:
                raise
    send(url, body, token)
    return Delivery(len(records), "collector", url)


__all__ = ["Delivery", "deliver", "send", "write_direct"]
