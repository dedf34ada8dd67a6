"""What of a prompt and of written code may leave the developer's machine: capture policies.

Prompt policies, least private first (``vocabulary.PROMPT_POLICIES``):

``full``
    The prompt text, its hash and length. *Secrets are still removed*
    (:func:`aitrail.sdk.redact.redact`): "full" means the whole prompt, not
    its credentials; no policy sends a secret.
``redacted`` (the default)
    As ``full``, and personal data (e-mail addresses, public IP addresses) is
    removed from the text too.
``hash``
    No text: the salted SHA-256 of the prompt and its length, so the same
    prompt is recognisable across generations without being readable.
``none``
    Nothing but the policy itself.

The hash is of the *original* prompt (before redaction), so it is the same
whatever the policy, and is HMAC-SHA256 keyed with the salt, so salt and
prompt cannot be confused (``"ab" + "c"`` is not ``"a" + "bc"``). The salt is
the organisation's: ``configure(salt=...)``, else the environment variable
``AITRAIL_PROMPT_SALT``, else :data:`DEFAULT_SALT` (:func:`resolve_salt`). It
should be one secret value per organisation: equal prompts then match inside
it, and nobody outside can test a guessed prompt against a stored hash.

Code text policies (``vocabulary.CODE_POLICIES``): ``full`` and ``redacted``
as above, ``none`` (the default) sends no code text at all. Line fingerprints
are not this module's business: they always go (:mod:`aitrail.sdk.edits`).

The settings are resolved here and nowhere else (:func:`resolve_policy`,
:func:`resolve_salt`): the argument to ``configure``, else the environment,
else the default. An unknown policy in the settings warns once (naming the
valid ones) and falls back to ``none``, the policy that sends least: a typo
must not send more than was meant, and telemetry never raises into its host.
Called directly with an unknown policy, :func:`prompt_attributes` and
:func:`code_attributes` raise :class:`~aitrail.errors.ConfigError`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import warnings
from collections.abc import Sequence

from aitrail.errors import ConfigError
from aitrail.sdk import environment
from aitrail.sdk import vocabulary as v
from aitrail.sdk.redact import Redaction, redact

DEFAULT_PROMPT_POLICY = "redacted"
"""Text goes, without secrets or personal data."""
DEFAULT_CODE_POLICY = "none"
"""Code text stays home; fingerprints alone link lines to generations."""
FALLBACK_POLICY = "none"
"""What a wrong policy setting falls back to: the one that sends least."""
DEFAULT_SALT = "aitrail"
"""The salt when the organisation sets none: hashes are then comparable with anyone else's who did not either."""


class SettingWarning(RuntimeWarning):
    """A setting of the SDK is wrong; the SDK goes on with the safest value, and says so once."""


_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_once(message: str) -> None:
    """Warn about a bad setting the first time it is seen in this process (a setting read per call must not
    flood the host's standard error)."""
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    warnings.warn(message, SettingWarning, stacklevel=3)


def check_policy(policy: str, allowed: Sequence[str], what: str = "prompt") -> str:
    """``policy`` if it is one of ``allowed``, else a ConfigError that lists them."""
    if policy not in allowed:
        raise ConfigError(f"unknown {what} policy {policy!r}: use one of {', '.join(allowed)}")
    return policy


def resolve_policy(given: str | None, what: str = "prompt") -> str:
    """The ``what`` ("prompt" or "code") policy in force: ``given``, else its environment variable, else the
    default. An unknown one warns once and gives :data:`FALLBACK_POLICY`."""
    variable, allowed, default = {
        "prompt": (environment.AITRAIL_PROMPT_POLICY, v.PROMPT_POLICIES, DEFAULT_PROMPT_POLICY),
        "code": (environment.AITRAIL_CODE_POLICY, v.CODE_POLICIES, DEFAULT_CODE_POLICY),
    }[what]
    value = given or os.environ.get(variable) or default
    if value in allowed:
        return value
    source = f"{variable}={value}" if not given else f"{what}_policy={value!r}"
    warn_once(f"aitrail: unknown {what} policy ({source}): use one of {', '.join(allowed)}; "
              f"until then the {what} policy is {FALLBACK_POLICY!r} (nothing of the {what} is sent)")
    return FALLBACK_POLICY


def resolve_salt(given: str | None = None) -> str:
    """The salt of prompt hashes: ``given``, else ``AITRAIL_PROMPT_SALT``, else :data:`DEFAULT_SALT`."""
    return given or os.environ.get(environment.AITRAIL_PROMPT_SALT) or DEFAULT_SALT


def prompt_hash(prompt: str, salt: str) -> str:
    """Salted SHA-256 of ``prompt`` as 64 hex digits (HMAC-SHA256 with the salt as key)."""
    key = salt.encode("utf-8", "surrogatepass")
    return hmac.new(key, prompt.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _text(text: str, policy: str) -> Redaction:
    return redact(text, personal=policy == "redacted")


def prompt_attributes(prompt: str | None, policy: str, salt: str) -> dict[str, object]:
    """The vocabulary attributes a prompt may contribute under ``policy``.

    Always ``aitrail.prompt.policy``; the length and hash unless ``none``; the
    text and ``aitrail.redaction.count`` (and ``.kinds`` when something was
    replaced) under ``full`` and ``redacted``. No prompt: the policy alone.
    """
    check_policy(policy, v.PROMPT_POLICIES)
    attributes: dict[str, object] = {v.PROMPT_POLICY: policy}
    if prompt is None or policy == "none":
        return attributes
    attributes[v.PROMPT_LENGTH] = len(prompt)
    attributes[v.PROMPT_HASH] = prompt_hash(prompt, salt)
    if policy in ("full", "redacted"):
        cleaned = _text(prompt, policy)
        attributes[v.PROMPT_TEXT] = cleaned.text
        attributes[v.REDACTION_COUNT] = cleaned.count
        if cleaned.kinds:
            attributes[v.REDACTION_KINDS] = sorted(cleaned.kinds)
    return attributes


def code_attributes(text: str | None, policy: str) -> dict[str, object]:
    """``aitrail.code.policy``, and ``aitrail.code.text`` (secrets removed) when the policy allows text.

    No redaction count here: it would overwrite the prompt's on the same span.
    """
    check_policy(policy, v.CODE_POLICIES, "code")
    attributes: dict[str, object] = {v.CODE_POLICY: policy}
    if text is not None and policy != "none":
        attributes[v.CODE_TEXT] = _text(text, policy).text
    return attributes
