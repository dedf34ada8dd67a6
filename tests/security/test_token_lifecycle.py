"""Tokens change without a restart: a new one works, a revoked one is refused, within a second or two."""

from __future__ import annotations

import json
import time

import pytest
from security_support import A, config, export, running, sql, traces

from aitrail.collector.tokens import create_token, hash_secret, read_tokens_file, revoke_token
from aitrail.errors import ConfigError


def _eventually(check, seconds: float = 3.0) -> float:  # noqa: ANN001
    """Seconds until ``check()`` is true (fails after ``seconds``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            pytest.fail(f"not true after {seconds}s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_new_token_works_and_revoked_token_is_refused_without_restart(tmp_path, caplog):
    tokens_file = tmp_path / "tokens.json"
    first, _ = create_token(tokens_file, A, None, ["ingest", "query"])
    with running(tmp_path, tokens_file=tokens_file) as collector:
        body = traces({"service.name": "reload"}, {})
        assert export(collector.http_url, "traces", body, first).status == 200

        second, entry = create_token(tokens_file, A, None, ["ingest", "query"])
        assert export(collector.http_url, "traces", body, second).status in (200, 401)  # picked up now or shortly
        took = _eventually(lambda: export(collector.http_url, "traces", body, second).status == 200)
        assert took < 2.0
        assert sql(collector.sql_url, "SELECT count() FROM otel_traces", second).status == 200

        revoke_token(tokens_file, entry.id)
        took = _eventually(lambda: export(collector.http_url, "traces", body, second).status == 401)
        assert took < 2.0
        assert sql(collector.sql_url, "SELECT 1", second).status == 401
        assert export(collector.http_url, "traces", body, first).status == 200  # the others stay valid

        tokens_file.write_text("{ not json")  # a broken edit keeps the tokens in force (and is logged)
        _eventually(lambda: export(collector.http_url, "traces", body, first).status == 200
                    and "keeping the previous tokens" in caplog.text)

        tokens_file.write_text(json.dumps({"tokens": []}))  # an empty file refuses everyone
        _eventually(lambda: export(collector.http_url, "traces", body, first).status == 401)


def test_the_tokens_file_holds_no_secret(tmp_path):
    tokens_file = tmp_path / "tokens.json"
    secrets = [create_token(tokens_file, A, "team", ["ingest"])[0] for _ in range(3)]
    text = tokens_file.read_text()
    for secret in secrets:
        assert secret not in text and secret[len("aitrail_"):] not in text
        assert hash_secret(secret) in text
    assert oct(tokens_file.stat().st_mode & 0o777) == "0o600"
    assert all(e.hash.startswith("sha256:") for e in read_tokens_file(tokens_file))


def test_a_tokens_file_with_a_plaintext_secret_is_refused(tmp_path):
    tokens_file = tmp_path / "tokens.json"
    tokens_file.write_text(json.dumps({"tokens": [{"id": "t1", "token": "s3cret", "tenant": A}]}))
    with pytest.raises(ConfigError, match="only hashes"):
        read_tokens_file(tokens_file)
    from aitrail.collector.server import BackgroundCollector

    with pytest.raises(ConfigError):
        with BackgroundCollector(config(tmp_path, tokens_file=tokens_file)):
            pass


def test_environment_tokens(tmp_path, monkeypatch):
    monkeypatch.setenv("AITRAIL_TOKENS", f"{A}/env-team:ingest,query=env-secret-1; other=env-secret-2")
    with running(tmp_path) as collector:
        assert collector.auth is not None
        assert export(collector.http_url, "traces", traces({"service.name": "env"}, {"aitrail.kind": "generation"}), "env-secret-1").status == 200
        assert export(collector.http_url, "traces", traces({"service.name": "env"}, {}), None).status == 401
        answer = sql(collector.sql_url, "SELECT tenant, team FROM ai_generations", "env-secret-1", fmt="TSV")
        assert answer.text == f"{A}\tenv-team\n"
        assert sql(collector.sql_url, "SELECT 1", "env-secret-2").status == 403  # ingest only, by default


def test_tokens_allow_listening_beyond_loopback():
    from aitrail.collector.config import CollectorConfig

    with pytest.raises(ConfigError, match="tokens-file"):
        CollectorConfig(host="0.0.0.0").check()
    CollectorConfig(host="0.0.0.0", tokens_file="tokens.json").check()  # type: ignore[arg-type]
    CollectorConfig(host="0.0.0.0", allow_insecure_listen=True).check()
    with pytest.raises(ConfigError, match="--tls-key"):
        CollectorConfig(tls_cert="cert.pem").check()  # type: ignore[arg-type]
