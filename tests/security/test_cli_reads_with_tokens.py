"""`aitrail sql` and `aitrail usage` against a collector that requires tokens: the token decides what they read,
and a missing or wrong one gets an error that says what to do."""

from __future__ import annotations

import json

import pytest
from security_support import A, B, B_MARKERS
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.collector.query import read_only_query
from aitrail.errors import AccessDenied

G = "ai_generations"


def aitrail(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    """Run the command line as a user does; ``AITRAIL_TOKEN`` unset unless ``env`` sets it."""
    return CliRunner().invoke(app, list(args), env={"AITRAIL_TOKEN": None, "AITRAIL_SQL_URL": None, **(env or {})})


def said(result) -> str:  # noqa: ANN001
    """What the command printed, on one line (rich wraps long messages at the terminal's width)."""
    return " ".join(result.output.split())


def test_sql_without_a_token_says_how_to_get_one(secured):
    result = aitrail("sql", f"SELECT count() FROM {G}", "--sql-url", secured.sql)
    assert result.exit_code == 1
    text = said(result)
    assert f"SQL endpoint at {secured.sql} requires a token, and none was given" in text
    assert "--token" in text and "AITRAIL_TOKEN" in text and "aitrail token create --tenant T --scope query" in text


def test_sql_with_an_ingest_only_token_is_refused_with_the_scope_it_needs(secured):
    result = aitrail("sql", f"SELECT count() FROM {G}", "--sql-url", secured.sql, "--token", secured.tokens["a_ingest"])
    assert result.exit_code == 1
    text = said(result)
    assert "the token may not read" in text and "not 'query'" in text
    assert "use a token with the query scope" in text


def test_sql_with_an_unknown_token_says_it_is_unknown(secured):
    result = aitrail("sql", "SELECT 1", "--sql-url", secured.sql, "--token", "aitrail_not-a-token")
    assert result.exit_code == 1
    assert "refused the token: invalid token: unknown or revoked" in said(result)


def test_sql_with_a_query_token_reads_only_its_tenant(secured):
    result = aitrail("sql", f"SELECT tenant, count() AS n FROM {G} GROUP BY tenant", "--sql-url", secured.sql,
                     "--token", secured.tokens["a_query"], "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"tenant": A, "n": 2}]
    assert not any(marker in result.output for marker in B_MARKERS)


@pytest.mark.parametrize(("query", "reason"), [
    ("SELECT count() FROM aitrail.ai_generations", "this token reads its tenant's tables only"),
    ("SELECT * FROM file('/etc/passwd')", "table function file() is refused"),
])
def test_a_tenants_refused_read_says_why_not_that_only_reads_run(secured, query, reason):
    result = aitrail("sql", query, "--sql-url", secured.sql, "--token", secured.tokens["a_query"])
    assert result.exit_code == 1
    assert reason in said(result) and "only runs reads" not in said(result) and "read-only:" not in said(result)


def test_the_token_can_come_from_the_environment_and_the_endpoint_from_the_lock_file(secured):
    data_dir = str(secured.collector.config.location.data_dir)
    result = aitrail("sql", "SELECT DISTINCT ServiceName AS s FROM otel_traces ORDER BY s", "--data-dir", data_dir,
                     "--format", "csv", env={"AITRAIL_TOKEN": secured.tokens["b"]})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ['"s"', '"svc-tenant-b"']


def test_usage_with_a_tenant_token_is_that_tenants_usage(secured):
    mine = aitrail("usage", "--days", "3650", "--json", "--sql-url", secured.sql, "--token", secured.tokens["a_query"])
    assert mine.exit_code == 0, mine.output
    summary = json.loads(mine.output)
    assert [(r["team"], r["generations"]) for r in summary["usage_by_team"]] == [("team-a", 2)]
    assert [(r["model"], r["generations"]) for r in summary["usage_by_assistant"]] == [("m-a", 2)]


def test_usage_with_an_admin_token_is_every_tenants(secured):
    everyone = aitrail("usage", "--days", "3650", "--json", "--sql-url", secured.sql, "--token", secured.tokens["admin"])
    assert everyone.exit_code == 0, everyone.output
    teams = {r["team"]: r["generations"] for r in json.loads(everyone.output)["usage_by_team"]}
    assert teams["team-a"] == 2 and teams["team-b-secret"] == 3


def test_usage_without_a_token_fails_the_same_way(secured):
    result = aitrail("usage", "--sql-url", secured.sql)
    assert result.exit_code == 1 and "requires a token" in said(result) and "--token" in said(result)


def test_the_library_raises_access_denied_with_the_status(secured):
    location = secured.collector.config.location
    with pytest.raises(AccessDenied) as missing:
        read_only_query(location, "SELECT 1", sql_url=secured.sql)
    assert missing.value.status == 401
    with pytest.raises(AccessDenied) as scope:
        read_only_query(location, "SELECT 1", sql_url=secured.sql, token=secured.tokens["a_ingest"])
    assert scope.value.status == 403
    rows = read_only_query(location, f"SELECT DISTINCT tenant FROM {G}", sql_url=secured.sql, token=secured.tokens["b"])
    assert json.loads(rows) == {"tenant": B}

