"""An expired token is refused like an unknown one (401 / UNAUTHENTICATED) at every door, saying when it expired."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from security_support import A, export, running, sql, traces
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.collector.tokens import TokenEntry, hash_secret, write_tokens_file

EXPIRED_AT = "2026-01-02T03:04:05Z"
EXPIRED = "aitrail_expired-in-the-past"
VALID = "aitrail_expires-in-a-day"


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A collector whose tokens file has one token that expired in the past and one that expires tomorrow."""
    folder = tmp_path_factory.mktemp("expiry")
    tokens_file = folder / "tokens.json"
    scopes = ("ingest", "query")
    write_tokens_file(tokens_file, [
        TokenEntry("tok_expired", hash_secret(EXPIRED), A, scopes=scopes,
                   expires=datetime.fromisoformat(EXPIRED_AT)),
        TokenEntry("tok_valid", hash_secret(VALID), A, scopes=scopes,
                   expires=datetime.now(timezone.utc) + timedelta(days=1)),
    ])
    with running(folder, tokens_file=tokens_file) as collector:
        yield collector


WHY = f"token tok_expired expired at {EXPIRED_AT}"


def test_http_refuses_an_expired_token_with_401_saying_when(collector):
    answer = export(collector.http_url, "traces", traces({"service.name": "expiry"}, {}), EXPIRED)
    assert answer.status == 401
    assert WHY in status_pb2.Status.FromString(answer.body).message
    assert export(collector.http_url, "traces", traces({"service.name": "expiry"}, {}), VALID).status == 200


def test_grpc_refuses_an_expired_token_as_unauthenticated(collector):
    request = trace_service_pb2.ExportTraceServiceRequest.FromString(traces({"service.name": "expiry"}, {}))
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Export(request, metadata=(("authorization", f"Bearer {EXPIRED}"),), timeout=30)
        stub.Export(request, metadata=(("authorization", f"Bearer {VALID}"),), timeout=30)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED and WHY in refused.value.details()


def test_the_sql_endpoint_refuses_an_expired_token_with_401(collector):
    answer = sql(collector.sql_url, "SELECT 1", EXPIRED)
    assert answer.status == 401 and answer.headers["X-ClickHouse-Exception-Code"] == "516" and WHY in answer.text
    assert sql(collector.sql_url, "SELECT 1", VALID).status == 200


def test_aitrail_sql_says_the_token_expired(collector):
    result = CliRunner().invoke(app, ["sql", "SELECT 1", "--sql-url", collector.sql_url, "--token", EXPIRED])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert f"refused the token: {WHY}" in text and "aitrail token create" in text
