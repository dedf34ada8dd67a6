"""Tokens: the file (JSON and TOML, hashes only), the environment, scopes, reloading, and the CLI that manages them."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aitrail.collector import auth, tokens
from aitrail.collector.auth import Authenticator, credential
from aitrail.collector.tokens import Principal, create_token, hash_secret, parse_env_tokens, read_tokens_file, revoke_token
from aitrail.errors import Forbidden, Unauthenticated
from aitrail.errors import ConfigError


def test_hash_is_sha256_of_the_secret():
    assert hash_secret("abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    secret = tokens.new_secret()
    assert secret.startswith("aitrail_") and len(secret) > 40 and secret != tokens.new_secret()


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_create_list_revoke_round_trip(tmp_path, suffix):
    path = tmp_path / f"tokens{suffix}"
    secret, entry = create_token(path, "acme", "payments", ["query", "ingest"], note="CI for \"payments\"")
    other, _ = create_token(path, "globex")
    entries = read_tokens_file(path)
    assert [(e.id, e.tenant, e.team, e.scopes, e.note) for e in entries] == [
        (entry.id, "acme", "payments", ("ingest", "query"), 'CI for "payments"'),
        (entries[1].id, "globex", None, ("ingest",), ""),
    ]
    text = path.read_text()
    assert secret not in text and other not in text and hash_secret(secret) in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    revoke_token(path, entry.id)
    assert [e.tenant for e in read_tokens_file(path)] == ["globex"]
    with pytest.raises(ConfigError, match="no token"):
        revoke_token(path, entry.id)


def test_missing_file_has_no_tokens(tmp_path):
    assert read_tokens_file(tmp_path / "none.json") == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "t", "secret": "x", "tenant": "a"}, "only hashes"),
        ({"id": "t", "hash": "sha256:abc", "tenant": "a"}, "64 lower-case hex"),
        ({"id": "t", "hash": "md5:" + "0" * 32, "tenant": "a"}, "hash must be"),
        ({"id": "t", "hash": "sha256:" + "0" * 64, "tenant": "a b"}, "tenant 'a b' is not valid"),
        ({"id": "t", "hash": "sha256:" + "0" * 64, "tenant": "a", "scopes": ["root"]}, "scopes must be among"),
        ({"id": "t", "hash": "sha256:" + "0" * 64, "tenant": "a", "scopes": []}, "scopes must be among"),
        ({"id": "t", "hash": "sha256:" + "0" * 64, "tenant": "a", "role": "x"}, "unknown key"),
        ({"id": "bad id!", "hash": "sha256:" + "0" * 64, "tenant": "a"}, "id 'bad id!'"),
        ("just a string", "each token must be"),
    ],
)
def test_bad_entries_are_refused_with_the_reason(tmp_path, entry, message):
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"tokens": [entry]}))
    with pytest.raises(ConfigError, match=message):
        read_tokens_file(path)


def test_duplicate_ids_and_bad_documents_are_refused(tmp_path):
    path = tmp_path / "tokens.json"
    same = {"id": "t", "hash": "sha256:" + "0" * 64, "tenant": "a"}
    path.write_text(json.dumps({"tokens": [same, same]}))
    with pytest.raises(ConfigError, match="unique"):
        read_tokens_file(path)
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="list named tokens"):
        read_tokens_file(path)
    toml = tmp_path / "tokens.toml"
    toml.write_text("[[tokens]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_tokens_file(toml)


def test_identify_require_and_scopes(tmp_path):
    path = tmp_path / "tokens.json"
    ingest, _ = create_token(path, "acme", "payments", ["ingest"])
    admin, _ = create_token(path, "ops", None, ["admin"])
    authenticator = Authenticator(path)
    who = authenticator.require(ingest, "ingest")
    assert (who.tenant, who.team, who.admin) == ("acme", "payments", False)
    with pytest.raises(Forbidden, match="not 'query'"):
        authenticator.require(ingest, "query")
    assert authenticator.require(admin, "query").admin and authenticator.require(admin, "ingest").tenant == "ops"
    for bad in (None, "", "aitrail_nope", ingest + "x", ingest[:-1]):
        with pytest.raises(Unauthenticated):
            authenticator.identify(bad)
    assert authenticator.tenants() == {"acme", "ops"}


def test_every_known_hash_is_compared_in_constant_time(tmp_path, monkeypatch):
    path = tmp_path / "tokens.json"
    first, _ = create_token(path, "a")
    for _ in range(4):
        create_token(path, "b")
    authenticator = Authenticator(path)
    calls = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda x, y: calls.append(1) or real(x, y))
    authenticator.identify(first)  # found first: still compared with all five
    assert len(calls) == 5


def test_file_changes_are_picked_up_and_broken_files_keep_the_old_tokens(tmp_path):
    path = tmp_path / "tokens.toml"
    first, first_entry = create_token(path, "a")
    authenticator = Authenticator(path, check_interval=0.0)
    second, _ = create_token(path, "b")
    assert authenticator.identify(second).tenant == "b"
    revoke_token(path, first_entry.id)
    with pytest.raises(Unauthenticated):
        authenticator.identify(first)
    path.write_text("this is = = not toml")
    assert authenticator.identify(second).tenant == "b"  # kept, and logged
    path.unlink()
    with pytest.raises(Unauthenticated):  # a removed file revokes everything in it
        authenticator.identify(second)


def test_checks_for_changes_are_rate_limited(tmp_path):
    path = tmp_path / "tokens.json"
    create_token(path, "a")
    authenticator = Authenticator(path, check_interval=60.0)
    late, _ = create_token(path, "b")
    with pytest.raises(Unauthenticated):
        authenticator.identify(late)
    authenticator.reload()  # SIGHUP does this
    assert authenticator.identify(late).tenant == "b"


def test_a_broken_file_refuses_to_start(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Authenticator(path)


def test_environment_tokens():
    entries = parse_env_tokens(f"acme/payments:ingest,query=s1 ; globex=s2\nops:admin={hash_secret('s3')}")
    principals = [e.principal for e in entries]
    assert principals == [
        Principal("env_1", "acme", "payments", frozenset({"ingest", "query"})),
        Principal("env_2", "globex", None, frozenset({"ingest"})),
        Principal("env_3", "ops", None, frozenset({"admin"})),
    ]
    authenticator = Authenticator(None, "acme=s1")
    assert authenticator.identify("s1").tenant == "acme"
    for bad in ("acme", "acme=", "bad tenant=s", "acme:root=s"):
        with pytest.raises(ConfigError):
            parse_env_tokens(bad)


def test_from_config_is_off_without_tokens(monkeypatch, tmp_path):
    monkeypatch.delenv("AITRAIL_TOKENS", raising=False)
    assert Authenticator.from_config(None) is None
    assert Authenticator.from_config(tmp_path / "tokens.json") is not None
    monkeypatch.setenv("AITRAIL_TOKENS", "acme=s1")
    assert Authenticator.from_config(None) is not None


@pytest.mark.parametrize(
    ("header", "secret"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("Basic " + base64.b64encode(b"user:abc").decode(), "abc"),
        ("Basic " + base64.b64encode(b":abc:def").decode(), "abc:def"),
        ("Basic " + base64.b64encode(b"user:").decode(), None),
        ("Basic !!!", None),
        ("Bearer", None),
        ("Token abc", None),
        (None, None),
    ],
)
def test_credential_forms(header, secret):
    assert credential(header) == secret


def test_grpc_metadata(tmp_path):
    path = tmp_path / "tokens.json"
    secret, _ = create_token(path, "acme", "payments")
    authenticator = Authenticator(path)
    context = authenticator.ingest_grpc((("user-agent", "x"), ("authorization", f"Bearer {secret}")))
    assert (context.tenant, context.team) == ("acme", "payments")
    with pytest.raises(Unauthenticated):
        authenticator.ingest_grpc(())


def test_config_paths_from_toml(tmp_path, monkeypatch):
    from aitrail.collector.config import load

    monkeypatch.delenv("AITRAIL_TOKENS", raising=False)
    (tmp_path / "c.toml").write_text(
        '[collector]\nhost = "0.0.0.0"\ntokens_file = "~/tokens.json"\ntls_cert = "/c.pem"\ntls_key = "/k.pem"\n'
    )
    cfg = load(tmp_path / "c.toml")
    assert cfg.tokens_file == Path("~/tokens.json").expanduser() and cfg.tls_cert == Path("/c.pem")
    assert cfg.auth_enabled and cfg.tls_enabled


# -- the command line -------------------------------------------------------------------------------------------


def test_cli_token_create_list_revoke(tmp_path):
    from aitrail.cli import app

    runner = CliRunner()
    path = tmp_path / "tokens.json"
    made = runner.invoke(app, ["token", "create", "--tenant", "acme", "--team", "payments", "--scope", "ingest,query",
                               "--tokens-file", str(path)])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[0]
    assert secret.startswith("aitrail_") and secret not in path.read_text()
    assert Authenticator(path).require(secret, "query").team == "payments"

    listed = runner.invoke(app, ["token", "list", "--tokens-file", str(path), "--json"])
    assert listed.exit_code == 0 and secret not in listed.stdout
    rows = json.loads(listed.stdout)
    assert [(r["tenant"], r["team"], r["scopes"]) for r in rows] == [("acme", "payments", "ingest,query")]

    revoked = runner.invoke(app, ["token", "revoke", rows[0]["id"], "--tokens-file", str(path)])
    assert revoked.exit_code == 0 and read_tokens_file(path) == []


def test_cli_token_needs_a_file_and_valid_values(tmp_path, monkeypatch):
    from aitrail.cli import app

    monkeypatch.delenv("AITRAIL_TOKENS_FILE", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["token", "list"]).exit_code != 0
    bad = runner.invoke(app, ["token", "create", "--tenant", "no spaces", "--tokens-file", str(tmp_path / "t.json")])
    assert bad.exit_code != 0 and "not valid" in bad.output
    monkeypatch.setenv("AITRAIL_TOKENS_FILE", str(tmp_path / "env.json"))
    assert runner.invoke(app, ["token", "create", "--tenant", "acme", "--scope", "admin"]).exit_code == 0
    assert [e.scopes for e in read_tokens_file(tmp_path / "env.json")] == [("admin",)]
    assert not os.path.exists(tmp_path / "t.json")


# -- expiry ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("12h", 43_200), ("30d", 2_592_000), (" 2D ", 172_800)])
def test_durations(text, seconds):
    assert tokens.parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-1d", "1w", "1.5h", "30 days"])
def test_bad_durations_are_refused_with_the_forms_accepted(text):
    with pytest.raises(ConfigError, match="s, m, h or d"):
        tokens.parse_duration(text)


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_expiry_is_stored_and_read_back(tmp_path, suffix):
    path = tmp_path / f"tokens{suffix}"
    _, entry = create_token(path, "acme", lifetime=tokens.parse_duration("30d"))
    _, forever = create_token(path, "acme")
    created = datetime.fromisoformat(entry.created)
    assert entry.expires == created + timedelta(days=30)
    assert [e.expires for e in read_tokens_file(path)] == [entry.expires, None]
    assert "expires" in path.read_text() and forever.as_dict().keys() == {"id", "hash", "tenant", "scopes", "created"}


def test_an_expired_token_is_refused_saying_when(tmp_path):
    path = tmp_path / "tokens.json"
    secret, entry = create_token(path, "acme", scopes=["ingest", "query"], lifetime=timedelta(hours=1))
    now = [datetime.now(timezone.utc)]
    authenticator = Authenticator(path, clock=lambda: now[0])
    assert authenticator.require(secret, "query").tenant == "acme"
    now[0] = entry.expires
    with pytest.raises(Unauthenticated, match=rf"token {entry.id} expired at {tokens.format_time(entry.expires)}"):
        authenticator.require(secret, "query")


@pytest.mark.parametrize("value", ["next week", "2025-13-01T00:00:00Z", 5])
def test_a_bad_expiry_in_the_file_is_refused(tmp_path, value):
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"tokens": [{"id": "t", "hash": "sha256:" + "0" * 64, "tenant": "a", "expires": value}]}))
    with pytest.raises(ConfigError, match="expires"):
        read_tokens_file(path)


def test_a_time_without_a_zone_is_utc_and_toml_datetimes_are_read(tmp_path):
    path = tmp_path / "tokens.toml"
    path.write_text('[[tokens]]\nid = "t"\nhash = "sha256:' + "0" * 64 + '"\ntenant = "a"\nexpires = 2030-01-02T03:04:05Z\n')
    assert read_tokens_file(path)[0].expires == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    path.write_text('[[tokens]]\nid = "t"\nhash = "sha256:' + "0" * 64 + '"\ntenant = "a"\nexpires = "2030-01-02T03:04:05"\n')
    assert read_tokens_file(path)[0].expires == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_cli_token_expires_and_list_shows_it(tmp_path):
    from aitrail.cli import app

    runner = CliRunner()
    path = tmp_path / "tokens.json"
    made = runner.invoke(app, ["token", "create", "--tenant", "acme", "--expires", "30d", "--tokens-file", str(path)])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["token", "create", "--tenant", "acme", "--tokens-file", str(path)]).exit_code == 0
    entries = read_tokens_file(path)
    entries[1] = dataclasses.replace(entries[1], expires=datetime(2020, 1, 1, tzinfo=timezone.utc))  # already expired
    tokens.write_tokens_file(path, entries)
    rows = json.loads(runner.invoke(app, ["token", "list", "--json", "--tokens-file", str(path)]).stdout)
    assert [(r["expires"], r["expired"]) for r in rows] == [(tokens.format_time(entries[0].expires), False), ("2020-01-01T00:00:00Z", True)]
    table = runner.invoke(app, ["token", "list", "--tokens-file", str(path)])
    assert "expires" in table.stdout and "(expired)" in " ".join(table.stdout.split())
    bad = runner.invoke(app, ["token", "create", "--tenant", "acme", "--expires", "soon", "--tokens-file", str(path)])
    assert bad.exit_code == 1 and "s, m, h or d" in bad.output and len(read_tokens_file(path)) == 2
