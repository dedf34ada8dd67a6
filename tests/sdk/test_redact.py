"""Secrets never leave: every format of the corpus is redacted, in prompts and in code, and ordinary text is not."""

from __future__ import annotations

import importlib
import inspect
import json
import time
from pathlib import Path

import pytest

from aitrail.sdk.redact import KINDS, Redaction, find, looks_random, maybe_secret, redact

import secret_corpus as CORPUS  # tests/fixtures, on the path by tests/conftest.py

SECRETS = CORPUS.corpus()


def _assert_gone(result: Redaction, values) -> None:  # noqa: ANN001
    for value in values:
        assert value not in result.text, value


def test_the_corpus_has_at_least_25_kinds_and_every_kind_is_known():
    kinds = {kind for secret in SECRETS for kind in secret.kinds}
    assert len(kinds) >= 25, sorted(kinds)
    assert kinds <= KINDS


@pytest.mark.parametrize("secret", SECRETS, ids=lambda s: s.name)
def test_a_secret_in_a_prompt_is_replaced_and_counted(secret):
    prompt = f"I get a 401 with this setup, what is wrong?\n\n{secret.line}\n\nThanks!"
    result = redact(prompt)
    _assert_gone(result, secret.values)
    assert result.kinds == secret.kinds and result.count == secret.count
    for kind in secret.kinds:
        assert f"[REDACTED:{kind}]" in result.text
    assert result.text.startswith("I get a 401 with this setup") and result.text.endswith("Thanks!")


@pytest.mark.parametrize("secret", SECRETS, ids=lambda s: s.name)
def test_a_secret_in_code_is_replaced_and_the_code_around_it_kept(secret):
    code = f"{CORPUS.ORDINARY_CODE}\n\ndef connect():\n    '''Set up.'''\n{secret.line}\n\n{CORPUS.ORDINARY_CODE}"
    result = redact(code)
    _assert_gone(result, secret.values)
    assert result.kinds == secret.kinds and result.count == secret.count
    assert result.text.count("def login(user: str, password: str) -> bool:") == 2


def test_all_of_them_at_once():
    text = "\n".join(f"{i}. {secret.line}" for i, secret in enumerate(SECRETS))
    result = redact(text)
    for secret in SECRETS:
        _assert_gone(result, secret.values)
    assert result.count == sum(secret.count for secret in SECRETS)


def test_secrets_inside_a_json_string_are_gone_too():
    """A prompt often arrives JSON-encoded (a hook's payload): newlines become \\n, quotes \\"."""
    text = json.dumps({"prompt": "\n".join(secret.line for secret in SECRETS)})
    result = redact(text)
    for secret in SECRETS:
        for value in secret.values:
            assert json.dumps(value)[1:-1] not in result.text, secret.name


def test_redacting_twice_changes_nothing_and_counts_nothing():
    text = "\n".join(secret.line for secret in SECRETS)
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text and twice.count == 0 and twice.kinds == {}


def test_a_url_keeps_scheme_user_and_host():
    result = redact("postgres://app:hunter2hunter2@db.internal:5432/app?sslmode=require")
    assert result.text == "postgres://app:[REDACTED:url_password]@db.internal:5432/app?sslmode=require"


def test_a_private_key_block_goes_whole_even_cut_short():
    lines = [CORPUS.body(CORPUS.BASE64, 64, f"cut{i}") for i in range(4)]
    text = "key:\n-----BEGIN EC PRIVATE " + "KEY-----\n" + "\n".join(lines) + "\n(the rest got cut)"
    result = redact(text)
    _assert_gone(result, lines)
    assert result.kinds == {"private_key": 1} and result.text.endswith("(the rest got cut)")


def test_ordinary_code_and_text_are_left_alone():
    for text in (CORPUS.ORDINARY_CODE, CORPUS.ORDINARY_TEXT):
        result = redact(text)
        assert result.count == 0 and result.text == text, find(text)


@pytest.mark.parametrize("text", CORPUS.NOT_SECRETS)
def test_things_that_only_look_like_secrets_are_kept(text):
    assert redact(text).count == 0, find(text)


@pytest.mark.parametrize("module", ["argparse", "json", "textwrap", "dataclasses", "logging", "pathlib", "typing"])
def test_the_standard_library_holds_no_secret(module):
    source = inspect.getsource(importlib.import_module(module))
    assert find(source) == []


def test_this_project_holds_no_secret():
    root = Path(__file__).parent.parent.parent
    for path in [*sorted((root / "sdk").glob("*.py")), *sorted((root / "collector").rglob("*.py"))]:
        assert find(path.read_text()) == [], path


def test_looks_random_tells_keys_from_words():
    assert looks_random(CORPUS.body(CORPUS.ALNUM, 32, "x"))
    assert not looks_random("3f786850e387550fdab836ed7e6dc881de23001b")  # git SHA-1
    assert not looks_random("4bf92f3577b34da6a3ce929d0e0e4736")  # trace id
    assert not looks_random("get_user_by_id_2_or_raise")
    assert not looks_random("HTTPBasicAuthMiddleware2")


def test_personal_data_only_when_asked():
    text = "Ask alice.smith@acme.com, the server is 8.8.4.4, the NAS 192.168.1.20, remote git@github.com:acme/x"
    assert redact(text).count == 0
    result = redact(text, personal=True)
    assert result.kinds == {"email": 1, "ip_address": 1}
    assert "alice.smith@acme.com" not in result.text and "8.8.4.4" not in result.text
    assert "192.168.1.20" in result.text and "git@github.com:acme/x" in result.text


def test_the_pre_check_never_skips_a_secret():
    for secret in SECRETS:
        assert maybe_secret(secret.line), secret.name
    assert not maybe_secret("claude-code") and not maybe_secret("gpt-4o") and not maybe_secret("main.py")


def test_the_pre_check_skips_a_timestamp_because_no_rule_can_find_anything_in_one():
    """An ISO 8601 date and time is a long run of token characters, flagged by the window test, yet redact finds
    nothing in it: the pre-check says so at once. Checked over random instances of the whole grammar (any digits,
    out-of-range fields, every optional part). Personal data aside, as for every answer of the pre-check: a
    timestamp's digits can look like a phone number."""
    import random

    rng = random.Random(8601)

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    for _ in range(20000):
        text = f"{digits(4)}-{digits(2)}-{digits(2)}{rng.choice('T ')}{digits(2)}:{digits(2)}"
        if rng.random() < 0.9:
            text += f":{digits(2)}" + (f"{rng.choice('.,')}{digits(rng.randint(1, 9))}" if rng.random() < 0.7 else "")
        text += rng.choice(["", "Z", f"+{digits(2)}:{digits(2)}", f"-{digits(2)}{digits(2)}", f"+{digits(2)}"])
        assert not maybe_secret(text), text
        assert find(text) == [], text
    # a timestamp beside anything else is read as before
    assert maybe_secret("2025-06-15T14:42:25.000Z token=abc") and maybe_secret("2025-06-15T14:42:25.000Zx")


def test_non_ascii_text_keeps_its_offsets():
    token = "gh" + "p_" + CORPUS.body(CORPUS.ALNUM, 36, "unicode")
    result = redact(f"Ünïcödé 🚀 prompt — token={token} — ok ✓")
    assert result.text == "Ünïcödé 🚀 prompt — token=[REDACTED:github_token] — ok ✓"


def test_detect_secrets_finds_nothing_we_leave():
    """detect-secrets (Yelp) as an oracle: whatever its plugins find in the corpus must be gone after redact()."""
    pytest.importorskip("detect_secrets")
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    skip = {"IPPublicDetector", "KeywordDetector", "Base64HighEntropyString", "HexHighEntropyString"}
    plugins = [cls() for cls in get_mapping_from_secret_type_to_class().values() if cls.__name__ not in skip]
    checked = 0
    for secret in SECRETS:
        redacted = redact(secret.line).text
        for line in secret.line.splitlines():
            for plugin in plugins:
                for found in plugin.analyze_string(line):
                    checked += 1
                    assert found not in redacted, (plugin.__class__.__name__, secret.name, found)
    assert checked >= 20


def test_a_few_kilobytes_take_well_under_a_millisecond_per_kilobyte():
    prompt = (CORPUS.ORDINARY_TEXT + CORPUS.ORDINARY_CODE) * 3
    redact(prompt)
    start = time.perf_counter()
    for _ in range(20):
        redact(prompt)
    per_kb = (time.perf_counter() - start) / 20 / (len(prompt) / 1024)
    assert per_kb < 1e-3, f"{per_kb * 1e6:.0f} µs per KB"
