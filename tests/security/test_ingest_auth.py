"""Tokens at the doors: who may send (and as whom), who may read, and what a wrong or missing token gets."""

from __future__ import annotations

import base64
import json
import urllib.parse

import grpc
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from security_support import A, B, basic, bearer, export, http, sql, traces

G = "ai_generations"


def _admin(secured, query: str) -> str:
    answer = sql(secured.sql, query, secured.tokens["admin"], fmt="TSV")
    assert answer.status == 200, answer.text
    return answer.text


# -- writing: the token decides the tenant (and the team, when it fixes one) ------------------------------------


def test_a_token_of_a_cannot_write_rows_for_b(secured):
    """A's payloads claimed tenant B and team forged-team, on the resource and on the span: stored as A, team-a."""
    assert _admin(secured, f"SELECT tenant, team, count() FROM aitrail.{G} WHERE service_name = 'svc-tenant-a' GROUP BY ALL") == f"{A}\tteam-a\t2\n"
    for table in ("otel_traces", "otel_logs", "otel_metrics_sum"):
        rows = _admin(secured, f"SELECT DISTINCT ResourceAttributes['aitrail.tenant.id'], ResourceAttributes['aitrail.team'], "
                               f"ResourceAttributes['team'] FROM aitrail.{table} WHERE ResourceAttributes['service.name'] = 'svc-tenant-a'")
        assert rows == f"{A}\tteam-a\t\n", table
    spans = _admin(secured, "SELECT DISTINCT SpanAttributes['aitrail.team'], SpanAttributes['aitrail.tenant.id'] FROM aitrail.otel_traces "
                            "WHERE ServiceName = 'svc-tenant-a'")
    assert spans == "\t\n"  # the span-level claims are gone too
    assert _admin(secured, f"SELECT count() FROM aitrail.{G} WHERE tenant = '{B}'") == "3\n"  # B's own rows only


def test_a_token_without_a_team_keeps_the_payloads_team(secured):
    assert _admin(secured, f"SELECT DISTINCT tenant, team FROM aitrail.{G} WHERE service_name = 'svc-tenant-b'") == f"{B}\tteam-b-secret\n"


# -- OTLP/HTTP -------------------------------------------------------------------------------------------------------------


def test_missing_token_is_401_with_a_challenge_and_an_otlp_status(secured):
    answer = export(secured.http, "traces", traces({"service.name": "x"}, {}), None)
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    status = status_pb2.Status.FromString(answer.body)
    assert status.code == 16 and "Authorization: Bearer" in status.message  # UNAUTHENTICATED, saying what to send


def test_wrong_token_is_401_in_json_too(secured):
    answer = http(f"{secured.http}/v1/traces", b"{}", {"Content-Type": "application/json", **bearer("aitrail_not-a-token")})
    assert answer.status == 401
    assert json.loads(answer.body) == {"code": 16, "message": "invalid token: unknown or revoked"}


@pytest.mark.parametrize("header", ["Bearer", "Basic", "bearer-lowercase", "malformed"])
def test_authorization_header_forms(secured, header):
    token = secured.tokens["a_ingest"]
    value = {
        "Bearer": f"Bearer {token}",
        "Basic": "Basic " + base64.b64encode(f"any:{token}".encode()).decode(),
        "bearer-lowercase": f"bearer {token}",
        "malformed": f"Token {token}",
    }[header]
    answer = http(f"{secured.http}/v1/traces", traces({"service.name": "forms"}, {}),
                  {"Content-Type": "application/x-protobuf", "Authorization": value})
    assert answer.status == (401 if header == "malformed" else 200), answer.text


def test_query_only_token_cannot_ingest(secured):
    answer = export(secured.http, "traces", traces({"service.name": "x"}, {}), secured.tokens["a_query"])
    assert answer.status == 403
    status = status_pb2.Status.FromString(answer.body)
    assert status.code == 7 and "not 'ingest'" in status.message  # PERMISSION_DENIED


def test_refused_requests_are_counted(secured):
    export(secured.http, "logs", b"", "wrong")
    metrics = http(f"{secured.http}/metrics", headers=bearer(secured.tokens["admin"]))
    assert metrics.status == 200 and 'reason="unauthenticated"' in metrics.text


def test_metrics_need_admin_and_healthz_says_only_status_without_it(secured):
    assert http(f"{secured.http}/metrics").status == 401
    assert http(f"{secured.http}/metrics", headers=bearer(secured.tokens["a"])).status == 403
    assert json.loads(http(f"{secured.http}/healthz").body) == {"status": "ok"}
    full = json.loads(http(f"{secured.http}/healthz", headers=bearer(secured.tokens["admin"])).body)
    assert full["status"] == "ok" and "metrics" in full


# -- OTLP/gRPC -------------------------------------------------------------------------------------------------------------


def _grpc_export(secured, metadata):
    request = trace_service_pb2.ExportTraceServiceRequest.FromString(
        traces({"service.name": "grpc-claims", "aitrail.tenant.id": B}, {"aitrail.kind": "generation", "gen_ai.request.model": "m"})
    )
    with grpc.insecure_channel(secured.collector.grpc_endpoint) as channel:
        return trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, metadata=metadata, timeout=30)


@pytest.mark.parametrize(("metadata", "code"), [
    ((), grpc.StatusCode.UNAUTHENTICATED),
    ((("authorization", "Bearer wrong"),), grpc.StatusCode.UNAUTHENTICATED),
    ((("authorization", "Basic !!"),), grpc.StatusCode.UNAUTHENTICATED),
])
def test_grpc_without_a_valid_token_is_unauthenticated(secured, metadata, code):
    with pytest.raises(grpc.RpcError) as refused:
        _grpc_export(secured, metadata)
    assert refused.value.code() == code and refused.value.details()


def test_grpc_query_only_token_is_permission_denied(secured):
    with pytest.raises(grpc.RpcError) as refused:
        _grpc_export(secured, (("authorization", f"Bearer {secured.tokens['a_query']}"),))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_grpc_token_decides_the_tenant(secured):
    _grpc_export(secured, (("authorization", f"Bearer {secured.tokens['a']}"),))
    assert _admin(secured, f"SELECT tenant, team FROM aitrail.{G} WHERE service_name = 'grpc-claims'") == f"{A}\tteam-a\n"


# -- the SQL endpoint ----------------------------------------------------------------------------------------------------


def test_sql_without_credentials_is_401(secured):
    answer = sql(secured.sql, "SELECT 1", None)
    assert answer.status == 401 and answer.headers["X-ClickHouse-Exception-Code"] == "516"
    assert answer.headers["WWW-Authenticate"].startswith("Basic") and "AUTHENTICATION_FAILED" in answer.text


def test_sql_with_a_wrong_token_is_401(secured):
    assert sql(secured.sql, "SELECT 1", "aitrail_wrong").status == 401
    assert sql(secured.sql, "SELECT 1", "").status == 401


def test_ingest_only_token_cannot_query(secured):
    answer = sql(secured.sql, f"SELECT count() FROM {G}", secured.tokens["a_ingest"])
    assert answer.status == 403 and answer.headers["X-ClickHouse-Exception-Code"] == "497"
    assert "not 'query'" in answer.text


@pytest.mark.parametrize("how", ["basic", "bearer", "x-clickhouse-key", "password-parameter"])
def test_sql_credential_forms(secured, how):
    token = secured.tokens["a_query"]
    headers, fields = {}, {}
    if how == "basic":
        headers = basic(token)
    elif how == "bearer":
        headers = bearer(token)
    elif how == "x-clickhouse-key":
        headers = {"X-ClickHouse-User": "reader", "X-ClickHouse-Key": token}
    else:
        fields = {"user": "reader", "password": token}
    query = urllib.parse.urlencode({"query": f"SELECT DISTINCT tenant FROM {G}", **fields})
    answer = http(f"{secured.sql}/?{query}", headers=headers)
    assert answer.status == 200 and answer.text == f"{A}\n", answer.text


def test_ping_needs_no_token(secured):
    assert http(f"{secured.sql}/ping").text == "Ok.\n"


def _raw_export(secured, body: bytes, metadata):
    """An Export call with a body of the caller's choosing, sent as is (no serializer on either side)."""
    with grpc.insecure_channel(secured.collector.grpc_endpoint) as channel:
        call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        return call(body, metadata=metadata, timeout=30)


UNDECODABLE = b"\x0a\xff\xff\xff\xff\x0f"  # field 1, a length past the end of the message


@pytest.mark.parametrize("metadata", [(), (("authorization", "Bearer wrong"),)])
def test_grpc_checks_the_token_before_decoding_the_body(secured, metadata):
    """An unauthenticated caller never reaches the protobuf parser: an undecodable body is UNAUTHENTICATED."""
    with pytest.raises(grpc.RpcError) as refused:
        _raw_export(secured, UNDECODABLE, metadata)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED and "token" in refused.value.details()


def test_grpc_undecodable_body_with_a_valid_token_is_invalid_argument(secured):
    with pytest.raises(grpc.RpcError) as refused:
        _raw_export(secured, UNDECODABLE, (("authorization", f"Bearer {secured.tokens['a_ingest']}"),))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid protobuf traces request" in refused.value.details()


def test_grpc_raw_export_with_a_valid_token_answers_a_response(secured):
    reply = _raw_export(secured, traces({"service.name": "grpc-raw"}, {}), (("authorization", f"Bearer {secured.tokens['a']}"),))
    assert not trace_service_pb2.ExportTraceServiceResponse.FromString(reply).HasField("partial_success")
