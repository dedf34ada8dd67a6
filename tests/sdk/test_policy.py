"""Capture policies: what of a prompt and of code leaves the machine, and that no policy lets a secret out."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aitrail.errors import ConfigError
from aitrail.sdk import vocabulary as v
from aitrail.sdk.policy import (
    SettingWarning,
    code_attributes,
    prompt_attributes,
    prompt_hash,
    resolve_policy,
    resolve_salt,
)

TOKEN = "gh" + "p_" + "Zk3pQ9xW2mN7vB4cR8tY1uL6aS5dF0gH2jK4"
PROMPT = f"Use {TOKEN} to push, and mail the result to jane.doe@acme.com"


def test_with_nothing_set_the_policies_in_force_are_the_private_ones(monkeypatch):
    monkeypatch.delenv("AITRAIL_PROMPT_POLICY", raising=False)
    monkeypatch.delenv("AITRAIL_CODE_POLICY", raising=False)
    assert resolve_policy(None, "prompt") == "redacted" and resolve_policy(None, "code") == "none"


def test_the_argument_beats_the_environment(monkeypatch):
    monkeypatch.setenv("AITRAIL_PROMPT_POLICY", "hash")
    assert resolve_policy(None, "prompt") == "hash"
    assert resolve_policy("full", "prompt") == "full"


def test_an_unknown_policy_setting_warns_once_and_sends_nothing(monkeypatch):
    monkeypatch.setenv("AITRAIL_PROMPT_POLICY", "bogus-for-policy-test")
    with pytest.warns(SettingWarning, match="AITRAIL_PROMPT_POLICY=bogus-for-policy-test.*full, redacted, hash, none"):
        assert resolve_policy(None, "prompt") == "none"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_policy(None, "prompt") == "none"  # the second time: no warning


def test_full_keeps_the_text_but_never_a_secret():
    attrs = prompt_attributes(PROMPT, "full", "pepper")
    assert attrs[v.PROMPT_POLICY] == "full" and attrs[v.PROMPT_LENGTH] == len(PROMPT)
    assert attrs[v.PROMPT_TEXT] == "Use [REDACTED:github_token] to push, and mail the result to jane.doe@acme.com"
    assert attrs[v.REDACTION_COUNT] == 1 and attrs[v.REDACTION_KINDS] == ["github_token"]
    assert attrs[v.PROMPT_HASH] == prompt_hash(PROMPT, "pepper")


def test_redacted_removes_personal_data_too():
    attrs = prompt_attributes(PROMPT, "redacted", "pepper")
    assert attrs[v.PROMPT_TEXT] == "Use [REDACTED:github_token] to push, and mail the result to [REDACTED:email]"
    assert attrs[v.REDACTION_COUNT] == 2 and attrs[v.REDACTION_KINDS] == ["email", "github_token"]


def test_a_clean_prompt_reports_zero_redactions_and_no_kinds():
    attrs = prompt_attributes("write add()", "full", "pepper")
    assert attrs[v.PROMPT_TEXT] == "write add()" and attrs[v.REDACTION_COUNT] == 0
    assert v.REDACTION_KINDS not in attrs


def test_hash_sends_only_the_salted_hash_and_the_length():
    attrs = prompt_attributes(PROMPT, "hash", "pepper")
    assert set(attrs) == {v.PROMPT_POLICY, v.PROMPT_HASH, v.PROMPT_LENGTH}
    assert len(attrs[v.PROMPT_HASH]) == 64 and int(attrs[v.PROMPT_HASH], 16) >= 0
    assert TOKEN not in str(attrs) and "jane" not in str(attrs)


def test_the_same_prompt_and_salt_give_the_same_hash_under_every_policy():
    hashes = {prompt_attributes(PROMPT, policy, "pepper")[v.PROMPT_HASH] for policy in ("full", "redacted", "hash")}
    assert len(hashes) == 1
    assert hashes == {hmac.new(b"pepper", PROMPT.encode(), hashlib.sha256).hexdigest()}


def test_another_salt_or_another_prompt_gives_another_hash():
    base = prompt_attributes(PROMPT, "hash", "pepper")[v.PROMPT_HASH]
    assert prompt_attributes(PROMPT, "hash", "salt")[v.PROMPT_HASH] != base
    assert prompt_attributes(PROMPT + " ", "hash", "pepper")[v.PROMPT_HASH] != base
    assert prompt_hash("ab", "c") != prompt_hash("b", "ca")  # salt and prompt cannot be shifted into each other


def test_none_sends_nothing_but_the_policy():
    assert prompt_attributes(PROMPT, "none", "pepper") == {v.PROMPT_POLICY: "none"}


def test_no_prompt_sends_only_the_policy():
    for policy in v.PROMPT_POLICIES:
        assert prompt_attributes(None, policy, "pepper") == {v.PROMPT_POLICY: policy}


def test_an_unknown_policy_is_a_config_error_naming_the_valid_ones():
    with pytest.raises(ConfigError, match="full, redacted, hash, none"):
        prompt_attributes(PROMPT, "everything", "pepper")
    with pytest.raises(ConfigError, match="full, redacted, none"):
        code_attributes("x = 1", "hash")


def test_code_text_goes_only_when_allowed_and_never_with_secrets():
    code = f'GITHUB_TOKEN = "{TOKEN}"\nAUTHOR = "jane.doe@acme.com"\n'
    assert code_attributes(code, "none") == {v.CODE_POLICY: "none"}
    full = code_attributes(code, "full")
    assert full[v.CODE_TEXT] == 'GITHUB_TOKEN = "[REDACTED:github_token]"\nAUTHOR = "jane.doe@acme.com"\n'
    redacted = code_attributes(code, "redacted")
    assert redacted[v.CODE_TEXT] == 'GITHUB_TOKEN = "[REDACTED:github_token]"\nAUTHOR = "[REDACTED:email]"\n'
    assert code_attributes(None, "full") == {v.CODE_POLICY: "full"}


def test_the_salt_is_the_argument_else_the_environment_else_the_default(monkeypatch):
    monkeypatch.delenv("AITRAIL_PROMPT_SALT", raising=False)
    unset = resolve_salt()
    monkeypatch.setenv("AITRAIL_PROMPT_SALT", "acme-2024")
    assert resolve_salt() == "acme-2024" != unset
    assert resolve_salt("pepper") == "pepper"


def test_the_attributes_are_valid_opentelemetry_attributes():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    attrs = {**prompt_attributes(PROMPT, "redacted", "pepper"), **code_attributes("x = 1", "full")}
    with provider.get_tracer("test").start_as_current_span("generation") as span:
        span.set_attributes(attrs)
    stored = dict(exporter.get_finished_spans()[0].attributes)
    assert stored == {k: tuple(val) if isinstance(val, list) else val for k, val in attrs.items()}
