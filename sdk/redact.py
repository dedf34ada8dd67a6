"""Secrets out of text before it leaves the machine: ``redact(text)``.

Every secret found is replaced by ``[REDACTED:<kind>]``; the result says how
many were replaced and of which kinds, so an audit can show *that* a prompt
carried a secret without ever storing it. The SDK runs this on prompts and
code before export, and the collector runs it again on everything it receives
(:mod:`aitrail.collector.processors.redact`), for clients that did not.
Redacting redacted text changes nothing and counts nothing.

Why a table of our own and not a detector library at run time: detect-secrets
(Yelp) was evaluated. Its ad-hoc ``scan_line`` costs ~28 ms per KB and, in
that mode, reports every word as a "high entropy string"; its plugins' regexes
are made to *flag a line*, not to *delimit a secret* (the private-key plugin
matches only the ``BEGIN`` line, so the key body would stay; the Slack token
one stops at the first capital letter; the npm one runs to the end of the
line); they miss Google, Anthropic, Hugging Face, current OpenAI keys and GCP
key files; and importing the package costs ~300 ms (``requests`` and its
settings machinery) in every short-lived hook process. So the formats are
here, as regexes that delimit, and the test suite keeps detect-secrets as an
oracle: whatever its plugins find in the test corpus must be gone after
:func:`redact`.

Three layers, most specific first (when two overlap, the union is replaced
and the more specific kind is reported):

1. Known formats: a provider's prefix and length (``ghp_``, ``AKIA``,
   ``sk-ant-``, ``-----BEGIN ... PRIVATE KEY-----`` blocks, JWTs, ...).
2. Context: the password of a URL (``scheme://user:[REDACTED:url_password]@host``),
   values given to password/secret/token/key names (``password = "..."``,
   ``API_KEY: ...``, ``export TOKEN=...``, JSON, ``--password x``), an
   ``Authorization`` header, ``curl -u user:pass``.
3. Whatever else looks random (:func:`looks_random`): a run of 20 or more
   base64/hex characters with a digit, the character entropy of a random
   string, and letter pairs that do not read like words.

Not secrets, on purpose: 40-hex strings (git commit SHA-1s), 32-hex strings
(trace ids, MD5s, UUIDs without dashes: an OpenTelemetry collector sees them
everywhere; a 32-hex key is caught when a key name labels it), UUIDs, digests
labelled as such (``sha256:...``, ``sha512-...``), identifiers
(``snake_case``, ``kebab-case``, ``CamelCase``), paths and URL paths, numbers,
certificates and SSH *public* keys, placeholders (``$TOKEN``,
``${{ secrets.X }}``, ``<your-key>``, ``****``), and a bare word after
``password =`` in code (a variable: ``login(password=password)``), except on
``.env``/shell/YAML lines, which hold literals. So a dictionary word used as a
password, unquoted, in code, is missed: it cannot be told from a variable.
Other hex strings of 20+ characters (unlabelled SHA-256 digests included)
are redacted: a hex API key (``secrets.token_hex(32)``) and a digest look the same.

``personal=True`` also removes personal data (the ``redacted`` capture
policy; ``full`` removes secrets only): e-mail addresses, public IPv4
addresses, and what :mod:`aitrail.sdk.personal` finds (phone numbers, public
IPv6 addresses, payment card numbers, IBANs, US social security numbers).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aitrail.sdk import personal as personal_data

PLACEHOLDER = "[REDACTED:{kind}]"
"""What replaces a secret; ``kind`` is one of :data:`KINDS`."""

_ALREADY = "[REDACTED:"


@dataclass(frozen=True)
class Redaction:
    """The redacted text, how many secrets it had, and how many of each kind."""

    text: str
    count: int
    kinds: dict[str, int]


@dataclass(frozen=True)
class Rule:
    """A format: where ``pattern`` matches, group ``group`` is the secret (``accept`` may veto).

    ``hints``: lower-case substrings (or small regexes) one of which the text
    must contain for the pattern to run at all; a substring test is far cheaper
    than a regex scan, and most texts hold none. Patterns start with a literal
    (boundary look-behinds come after it) so that the scan itself is a fast
    literal search. ``lower`` runs the pattern on the ASCII-lower-cased text
    (same indices), instead of the slow ``IGNORECASE``. ``token`` rules match
    within one token (no white space) and run only on the token windows of the
    text (:func:`_windows`), which are a small part of it.
    """

    kind: str
    pattern: re.Pattern[str]
    hints: tuple[str | re.Pattern[str], ...]
    group: int | str = 0
    accept: Callable[[re.Match[str]], bool] | None = None
    lower: bool = False
    token: bool = True


def _rule(kind: str, pattern: str, hints: str | re.Pattern[str] | tuple[str | re.Pattern[str], ...] = (),
          group: int | str = 0, flags: int = 0, accept: Callable[[re.Match[str]], bool] | None = None,
          lower: bool = False, token: bool = True) -> Rule:
    hints = hints if isinstance(hints, tuple) else (hints,)
    return Rule(kind, re.compile(pattern, flags), hints, group, accept, lower, token)


def _tok(prefix: str, width: int, body: str) -> str:
    """A token: ``prefix`` (``width`` characters) not preceded by a token character, then ``body``, then its end."""
    return rf"{prefix}(?<![A-Za-z0-9_-].{{{width}}}){body}(?![A-Za-z0-9_-])"


# --- 1. Known formats ----------------------------------------------------------

_BECH32 = "QPZRY9X8GF2TVDW0" + "S3JN54KHCE6MUA7L"  # split: the alphabet itself looks random
_PEM_PRIVATE = r"-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
_FORMATS: tuple[Rule, ...] = (
    # The whole block, multi-line or JSON-escaped ("\n" in a GCP key file), or cut short (no END).
    _rule("private_key", _PEM_PRIVATE + r"(?:.*?-----END[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
          r"|[A-Za-z0-9+/=\s\\:,._-]*)", "private key", flags=re.S, token=False),
    _rule("private_key", r"PuTTY-User-Key-File-\d:.*?Private-(?:MAC|Hash):\s*[0-9a-fA-F]+", "putty", flags=re.S, token=False),
    _rule("private_key", r"AGE-SECRET-KEY-1[" + _BECH32 + "]{58}", "age-secret-key-"),
    _rule("aws_access_key_id", r"A(?:3T[A-Z0-9]|KIA|SIA|BIA|CCA)(?<![A-Z0-9].{4})[A-Z0-9]{16}(?![A-Z0-9])",
          ("akia", "asia", "abia", "acca", "a3t")),
    _rule("aws_secret_access_key", r"secret(?:_?access)?[\w.-]{0,20}?[\"']?\s*(?::=|=>|=|:)\s*[\"']?"
          r"(?P<v>[a-z0-9/+]{40})(?![a-z0-9/+=])", "secret", "v", lower=True,
          accept=lambda m: "access" in m.group() or "aws" in m.string[max(0, m.start() - 24) : m.start()], token=False),
    _rule("google_api_key", _tok("AIza", 4, r"[0-9A-Za-z_-]{35}"), "aiza"),
    _rule("google_oauth_secret", _tok("GOCSPX-", 7, r"[0-9A-Za-z_-]{28}"), "gocspx-"),
    _rule("google_oauth_token", _tok(r"ya29\.", 5, r"[0-9A-Za-z_-]{20,}"), "ya29."),
    _rule("azure_storage_key", r"accountkey=(?P<v>[a-z0-9+/]{86}==)", "accountkey=", "v", lower=True),
    _rule("azure_shared_access_key", r"sharedaccess(?:key|signature)=(?P<v>[a-z0-9+/%]{32,}=*)", "sharedaccess",
          "v", lower=True),
    _rule("azure_sas_token", r"sig=(?<=[?&;]sig=)(?P<v>[A-Za-z0-9%+/]{30,}=*)", "sig=", "v"),
    _rule("azure_client_secret", r"(?<![\w~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])", "q~"),
    _rule("github_token", _tok("gh[pousr]_", 4, r"[A-Za-z0-9]{36,251}"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    _rule("github_token", _tok("github_pat_", 11, r"[A-Za-z0-9_]{22,255}"), "github_pat_"),
    _rule("gitlab_token", _tok("gl", 2, r"(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas|ffct)-[A-Za-z0-9_-]{20,}"),
          re.compile(r"gl[a-z]{2,5}-")),
    _rule("gitlab_token", _tok("GR1348941", 9, r"[A-Za-z0-9_-]{20,}"), "gr1348941"),
    _rule("atlassian_token", _tok("AT", 2, r"(?:BB|ATT|CTT)[A-Za-z0-9_=.+/-]{24,}"), ("atbb", "atatt", "atctt")),
    _rule("slack_token", _tok("xox", 3, r"[abposre]-[A-Za-z0-9-]{10,}"), "xox"),
    _rule("slack_token", _tok("xapp-", 5, r"\d-[A-Za-z0-9-]{10,}"), "xapp-"),
    _rule("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]+",
          "hooks.slack.com", token=False),
    _rule("discord_webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+",
          "/api/webhooks/", token=False),
    _rule("discord_bot_token", r"(?<![A-Za-z0-9_-])[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}"
          r"(?![A-Za-z0-9_-])", re.compile(r"\.[a-z0-9_-]{6}\.[a-z0-9_-]{27}")),
    _rule("telegram_bot_token", r"(?<![0-9])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])", re.compile(r"\d:aa")),
    _rule("stripe_key", _tok("[sr]k_", 3, r"(?:live|test)_[0-9A-Za-z]{16,}"), ("_live_", "_test_")),
    _rule("stripe_key", _tok("whsec_", 6, r"[A-Za-z0-9]{24,}"), "whsec_"),
    _rule("twilio_key", r"(?:AC|SK)(?<![A-Za-z0-9]..)[0-9a-f]{32}(?![A-Za-z0-9])", re.compile(r"(?:ac|sk)[0-9a-f]{32}")),
    _rule("sendgrid_key", _tok(r"SG\.", 3, r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"), "sg."),
    _rule("mailchimp_key", r"(?<![0-9a-z])[0-9a-f]{32}-us\d{1,2}(?![0-9])", re.compile(r"-us\d")),
    _rule("mailgun_key", _tok("key-", 4, r"[0-9a-f]{32}"), "key-"),
    _rule("npm_token", _tok("npm_", 4, r"[A-Za-z0-9]{36}"), "npm_"),
    _rule("pypi_token", _tok("pypi-", 5, r"[A-Za-z0-9_-]{50,}"), "pypi-"),
    _rule("anthropic_key", _tok("sk-ant-", 7, r"[A-Za-z0-9_-]{20,}"), "sk-ant-"),
    _rule("openai_key", _tok("sk-", 3, r"(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}"), "sk-"),
    _rule("openai_key", _tok("sk-", 3, r"[A-Za-z0-9]{32,}"), "sk-"),
    _rule("huggingface_token", _tok("hf_", 3, r"[A-Za-z0-9]{30,}"), "hf_"),
    _rule("groq_key", _tok("gsk_", 4, r"[A-Za-z0-9]{48,}"), "gsk_"),
    _rule("xai_key", _tok("xai-", 4, r"[A-Za-z0-9]{70,}"), "xai-"),
    _rule("replicate_token", _tok("r8_", 3, r"[A-Za-z0-9]{37}"), "r8_"),
    _rule("perplexity_key", _tok("pplx-", 5, r"[A-Za-z0-9]{48}"), "pplx-"),
    _rule("shopify_token", _tok("shp", 3, r"(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"), "shp"),
    _rule("digitalocean_token", _tok("do[opr]_v1_", 7, r"[a-f0-9]{64}"), "_v1_"),
    _rule("databricks_token", _tok("dapi", 4, r"[a-f0-9]{32}(?:-\d)?"), "dapi"),
    _rule("grafana_token", _tok("glsa_", 5, r"[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"), "glsa_"),
    _rule("grafana_token", r"glc_(?<![A-Za-z0-9_-]glc_)[A-Za-z0-9+/]{32,}={0,2}", "glc_"),
    _rule("postman_key", _tok("PMAK-", 5, r"[a-f0-9]{24}-[a-f0-9]{34}"), "pmak-"),
    _rule("linear_key", _tok("lin_api_", 8, r"[A-Za-z0-9]{40}"), "lin_api_"),
    _rule("newrelic_key", _tok("NRAK-", 5, r"[A-Z0-9]{27}"), "nrak-"),
    _rule("square_token", _tok("sq0", 3, r"(?:atp|csp|idp)-[A-Za-z0-9_-]{22,}"), "sq0"),
    _rule("doppler_token", _tok(r"dp\.", 3, r"(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}"), "dp."),
    _rule("jwt", _tok("eyJ", 3, r"[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "eyj"),
)

# --- 2. Context ----------------------------------------------------------------

_PLACEHOLDER = re.compile(r"[*xX.•_#-]+|#[0-9a-fA-F]{3,8}|[$%{<].*|\[REDACTED:.*", re.S)
_NAME_WORDS = frozenset(
    "none null nil true false undefined str string bytes int bool float number any object optional self this "
    "required env default redacted secret secrets password passwd pass token key credentials changeme".split()
)


def _placeholder(value: str) -> bool:
    """A value that is no secret whatever its key: a placeholder, a known word, or already redacted."""
    return _PLACEHOLDER.fullmatch(value) is not None or value.lower() in _NAME_WORDS


_CONTEXT: tuple[Rule, ...] = (
    _rule("url_password", r"://(?<=[A-Za-z0-9]://)[^\s:/@?#\"'<>]*:(?P<v>[^\s/?#\"'<>]+)@", "://", "v",
          accept=lambda m: not _placeholder(m.group("v")), token=False),
    _rule("authorization", r"authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token|bot|digest|apikey)\s+"
          r"(?P<v>[a-z0-9._~+/=-]{8,})", "authorization", "v", lower=True, token=False),
    _rule("authorization", r"bearer\s+(?P<v>[a-z0-9._~+/-]{16,}=*)", "bearer", "v", lower=True, token=False),
    _rule("basic_auth", r"-(?:-user|u)(?<!\S-u)(?<!\S--user)\s+[\"']?[^:\s\"']+:(?P<v>[^\s\"'`]{3,})",
          ("-u ", "--user"), "v", accept=lambda m: not _placeholder(m.group("v")), token=False),
)

_ASSIGNMENT = re.compile(  # matched where a key word starts, on the ASCII-lower-cased text
    r"(?P<kw>pass(?:word|wd|phrase)?|pwd|secret|token|key(?:[_-]?id)?|auth|credentials?)"
    r"(?P<q>\\?[\"']?)\]?(?P<sp>[ \t]*)(?P<op>:=|=>|===?|=|:)(?![=:/])(?P<sp2>[ \t]*)"
)
_ASSIGNMENT_WORDS = ("pass", "pwd", "secret", "token", "key", "auth", "cred")
"""Where :data:`_ASSIGNMENT` can start: found with ``str.find``, far cheaper than a regex scan."""
_VALUE = re.compile(  # a string (also JSON-escaped inside a JSON string: \"...\") or a bare word
    r"\\\"(?P<esc>(?:[^\"\\\n]|\\[^\"\n])*)\\\"|\"(?P<dq>(?:[^\"\\\n]|\\.)*)\"|'(?P<sq>(?:[^'\\\n]|\\.)*)'|`(?P<bq>[^`\n]*)`|(?P<bare>[^\s\"'`,;&|<>(){}\[\]\\]+)"
)
_PASSWORD_KEY = re.compile(r"(?:password|passwd|passphrase|(?:^|[^a-z])(?:pass|pwd))$")
_SECRET_KEY = re.compile(
    r"(?:secret|token|api[_-]?key|apikey|(?:access|secret|private|client|auth|signing|encryption|master|app"
    r"|account|session|service)[_-]?key(?:[_-]?id)?|credentials?|(?:^|[^a-z])auth)$"
)
_CLI_FLAG = re.compile(  # on the lower-cased text too
    r"-(?<![\w-]-)-?(?:[a-z0-9]+-)*(?:password|passwd|pass|token|secret|api-key|apikey|access-key|secret-key)"
    r"(?:[ \t]+|=)(?:\"(?P<dq>[^\"\n]*)\"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s\"'`,;()<>\[\]{}\\-][^\s\"'`,;()<>\[\]{}\\]*))"
)
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_SNAKE_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


def _value_span(match: re.Match[str]) -> tuple[int, int, str | None]:
    """Where the value is, and its quote (None for a bare word)."""
    for name, quote in (("esc", '"'), ("dq", '"'), ("sq", "'"), ("bq", "`"), ("bare", None)):
        if name in match.re.groupindex and match.group(name) is not None:
            return (*match.span(name), quote)
    return (*match.span(), None)  # pragma: no cover - one alternative always matched


def _literal_line(op: str, spaced: bool, key: str, prefix: str, rest: str) -> bool:
    """``.env``, ``export X=...`` and YAML ``key: value`` lines hold literals, not variables."""
    if rest.strip() and not rest.lstrip().startswith("#"):
        return False  # more code follows the value: a call's keyword argument, an expression
    if op == "=" and not spaced:
        return key.isupper() or prefix.strip() in ("export", "set", "")
    return op == ":" and prefix.strip() in ("", "-")


def _line_start(text: str, at: int) -> int:
    """Start of the line ``at`` is on; a JSON-escaped newline (backslash n) ends a line too."""
    return max(text.rfind("\n", 0, at) + 1, text.rfind("\\n", 0, at) + 2)


def _line_end(text: str, at: int) -> int:
    ends = [i for i in (text.find("\n", at), text.find("\\n", at)) if i >= 0]
    return min(ends) if ends else len(text)


def _keyword_hits(lower: str) -> list[re.Match[str]]:
    hits = {}
    for word in _ASSIGNMENT_WORDS:
        at = lower.find(word)
        while at >= 0:
            hit = _ASSIGNMENT.match(lower, at)
            if hit is not None:
                hits[hit.start()] = hit
            at = lower.find(word, at + len(word))
    return [hits[at] for at in sorted(hits)]


def _assignments(text: str, lower: str) -> list[tuple[int, int, str]]:
    """Values given to password/secret/token/key names, as (start, end, kind)."""
    found: list[tuple[int, int, str]] = []
    for hit in _keyword_hits(lower):
        key_start = hit.start()
        while key_start > 0 and lower[key_start - 1] in _KEY_CHARS:
            key_start -= 1
        if key_start > 0 and text[key_start - 1] == "\\" and text[key_start] in "nrt":
            key_start += 1  # a JSON-escaped line break before the key
        key_lower = lower[key_start : hit.end("kw")]
        kind = "password" if _PASSWORD_KEY.search(key_lower) else "secret" if _SECRET_KEY.search(key_lower) else None
        value = _VALUE.match(text, hit.end())
        if kind is None or value is None:
            continue
        start, end, quote = _value_span(value)
        literal = text[start:end]
        if len(literal) < 4 or _placeholder(literal) or key_lower.endswith("pwd") and literal[:1] in "/~":
            continue
        prefix = text[_line_start(text, key_start) : key_start]
        if quote is not None:
            escaped = text[start - 2 : start] == '\\"'
            if not hit.group("q") and prefix.count('\\"' if escaped else quote) % 2 == 1:
                continue  # print("password:", x): the key is inside a string; its end is no value
            if _SNAKE_NAME.fullmatch(literal) or key_lower.rsplit("_", 1)[-1] in literal.lower():
                continue  # ACCESS_TOKEN = "access_token": a field name, not a secret
            found.append((start, end, kind))
            continue
        if hit.group("op") == ":" and hit.group("sp") and not hit.group("sp2"):
            continue  # "Pass :meth:`x`": a role or a label, not ``key: value``
        after = text[end : end + 1]
        if literal.lower() in _NAME_WORDS or _NUMBER.fullmatch(literal) or after in ("(", "[", ".") or (
            _DOTTED.fullmatch(literal)
        ):
            continue  # a call, an index, an attribute (self.password, os.environ), a number
        if _IDENTIFIER.fullmatch(literal):
            if literal[0].isupper() and not literal.isupper():
                continue  # a type annotation: SecretStr, Optional
            rest = text[end : _line_end(text, end)]
            key = text[key_start : hit.end("kw")]
            spaced = bool(hit.group("sp") or hit.group("sp2"))
            if not (_literal_line(hit.group("op"), spaced, key, prefix, rest) or looks_random(literal)
                    or (len(literal) >= 6 and any(c.isdigit() for c in literal))):
                continue  # a variable: login(password=password)
        found.append((start, end, kind))
    for hit in _CLI_FLAG.finditer(lower) if "-" in lower else ():
        start, end, _ = _value_span(hit)
        literal = text[start:end]
        if len(literal) >= 4 and not _placeholder(literal) and not _DOTTED.fullmatch(literal):
            found.append((start, end, "password"))
    return found


# --- 3. Whatever looks random ------------------------------------------------------

_WINDOW_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_.=%:~@?&;-")
_BLANK_OTHERS = bytes(c if c in _WINDOW_CHARS else 0x20 for c in range(256))
"""Keeps the characters of tokens (and of what joins them: ``.=:@?&;%~``), blanks the rest."""
_WINDOW = re.compile(rb" [^ ]{15,}")
"""15+ such characters after a blank (the shortest token format is 15 long); literal-led, so a fast scan."""
_RANDOM_CANDIDATE = re.compile(r"[A-Za-z0-9+/_-]{20,}")
_DIGIT = re.compile(r"[0-9]")
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DIGEST_LABEL = re.compile(
    r"(?i:sha-?(?:1|224|256|384|512)|md5|blake2[bs]?|h1|integrity|digest|checksum|hash)[\"'`]?[\s:=-]*[\"'`]?$"
)
_WORD_PART = re.compile(r"[a-z0-9]+|[A-Z0-9]+|[A-Z][a-z0-9]+")
"""A part of a separated name: one case (random base64 parts mix cases)."""
_SEPARATOR = re.compile(r"[_-]")
_CAMEL_PART = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[A-Z]|[+/]")
_PATH_PART = re.compile(r"[a-z0-9_.-]*[a-z]{3}[a-z0-9_.-]*")
_PUBLIC = re.compile(  # public material: long and random, but nothing to hide
    r"-----BEGIN (?:CERTIFICATE|PUBLIC KEY|RSA PUBLIC KEY|X509 CRL|CERTIFICATE REQUEST|PGP PUBLIC KEY BLOCK)-----"
    r".*?-----END [A-Z0-9 ]+-----|(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)"
    r" AAAA[A-Za-z0-9+/]+={0,3}",
    re.S,
)

# Letter pairs that make up 80% of the pairs in English words and code identifiers
# (measured on a large Python corpus): random strings hit them ~18% of the time.
_COMMON_PAIRS = frozenset(
    "ab ac ad ag ai al am an ar as at be bl ca ce ch ck cl co ct da de di ea ec ed ef el em en er es et ex fi fo "
    "fr ge ha he ic ie ei il im in io is it ke la le lf li ll lo ls lt lu ma me mi mp na nc nd ne ng no ns nt od ol "
    "om on oo op or ot ou pa pe pl po pr pt qu ra re ri rn ro rr rs rt se si sp ss st su ta te th ti to tr ts tu ty "
    "ue ul un ur us ut va ve wi xt yp".split()
)

# Shannon entropy (bits per character) under which only 1% of uniformly random
# tokens of that alphabet and length fall (measured; interpolated between).
_ENTROPY_FLOOR: dict[str, tuple[tuple[int, float], ...]] = {
    "mixed": ((20, 3.65), (24, 3.85), (32, 4.2), (40, 4.45), (64, 4.9)),
    "single": ((20, 3.35), (24, 3.6), (32, 3.85), (40, 4.1), (64, 4.45)),
    "hex": ((20, 2.9), (24, 3.0), (32, 3.25), (40, 3.4), (64, 3.6)),
}


def _entropy(token: str) -> float:
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def _floor(alphabet: str, n: int) -> float:
    points = _ENTROPY_FLOOR[alphabet]
    if n <= points[0][0]:
        return points[0][1]
    for (a, x), (b, y) in zip(points, points[1:]):
        if n <= b:
            return x + (y - x) * (n - a) / (b - a)
    return points[-1][1]


def _wordiness(token: str) -> float:
    """Share of adjacent letter pairs common in words (random ~0.18, words ~0.8)."""
    low = token.lower()
    pairs = [low[i : i + 2] for i in range(len(low) - 1) if low[i].isalpha() and low[i + 1].isalpha()]
    return sum(p in _COMMON_PAIRS for p in pairs) / len(pairs) if pairs else 0.0


def looks_random(token: str) -> bool:
    """Whether a base64/hex token is random enough to be a secret (see the module doc). Cheapest tests first."""
    body = token.rstrip("=")
    n = len(body)
    if n < 20 or _DIGIT.search(body) is None:
        return False
    if _HEX.fullmatch(body):
        return n not in (32, 40) and not body.isdigit() and _entropy(body) >= _floor("hex", n)
    parts = _SEPARATOR.split(body)
    if len(parts) >= 3 and all(not p or _WORD_PART.fullmatch(p) for p in parts):
        return False  # snake_case, kebab-case, CONSTANT_CASE, platform and version strings, numbers
    if _UUID.fullmatch(body):
        return False
    mixed = not (body.islower() or body.isupper())
    if mixed and n >= 4 * len(_CAMEL_PART.findall(body)):
        return False  # CamelCase: words of 4+ characters on average (random text switches case every ~2)
    if "/" in body and any(_PATH_PART.fullmatch(part) for part in body.split("/")):
        return False  # a path, or the path of a URL
    if _entropy(body) < _floor("mixed" if mixed else "single", n) or _wordiness(body) >= 0.5:
        return False
    codes = body.encode("latin-1", "replace")
    return sum(b - a == 1 for a, b in zip(codes, codes[1:])) * 2 < n  # not an alphabet written out: 0123456789abc...


def _windows(text: str) -> list[tuple[int, int]]:
    """Where tokens of 15+ characters are: the only places token rules and random tokens can match."""
    blanked = b" " + text.encode("latin-1", "replace").translate(_BLANK_OTHERS)
    return [(run.start(), run.end() - 1) for run in _WINDOW.finditer(blanked)]  # the leading blank shifts by one


def _random_tokens(text: str, lower: str, windows: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    public: list[tuple[int, int]] | None = None
    for window_start, window_end in windows:
        for match in _RANDOM_CANDIDATE.finditer(text, window_start, window_end):
            start, end = match.span()
            if not looks_random(match.group()):
                continue
            if _DIGEST_LABEL.search(text, max(0, start - 16), start):
                continue
            if public is None:
                public = [m.span() for m in _PUBLIC.finditer(text)] if ("-----begin" in lower or "aaaa" in lower) else []
            if any(a <= start and end <= b for a, b in public):
                continue
            while end < window_end and end - match.end() < 2 and text[end] == "=":
                end += 1  # base64 padding
            found.append((start, end, "high_entropy"))
    return found


# --- Personal data (the ``redacted`` policy) -----------------------------------------

_EMAIL_DOMAIN = re.compile(r"@(?<=[A-Za-z0-9._%+-]@)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w-])")
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_IPV4 = _rule("ip_address", r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])", re.compile(r"\d\.\d"),
              accept=lambda m: _is_public_ip(m.group()), token=False)


def _emails(text: str) -> list[tuple[int, int, str]]:
    """E-mail addresses (the domain found by a literal-led scan, the local part walked back to)."""
    found = []
    for match in _EMAIL_DOMAIN.finditer(text):
        start = match.start()
        while start > 0 and text[start - 1] in _EMAIL_LOCAL and match.start() - start < 64:
            start -= 1
        local = text[start : match.start()]
        if start > 0 and text[start - 1] in ":/" or local.lower() == "git":
            continue  # user@host of a URL or an ssh remote, not an address
        found.append((start, match.end(), "email"))
    return found


def _is_public_ip(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_global
    except ValueError:
        return False


KINDS: frozenset[str] = frozenset(
    {rule.kind for rule in (*_FORMATS, *_CONTEXT)} | {"password", "secret", "high_entropy", "email"} | personal_data.KINDS
)
"""Every kind :func:`redact` can report."""

_RANK = {kind: rank for rank, kind in enumerate(dict.fromkeys(
    [r.kind for r in _FORMATS] + [r.kind for r in _CONTEXT] + ["password", "secret", "high_entropy", "email",
                                                                 *sorted(personal_data.KINDS)]
))}
"""Most specific first: on overlap, the lower rank names the merged span."""


def _ascii_lower(text: str) -> str:
    """``text`` with only ASCII letters lower-cased, so every index still points at the same character."""
    if text.isascii():
        return text.lower()
    return text.encode("latin-1", "replace").lower().decode("latin-1")


class _RuleSet:
    """Rules indexed by hint, so one pass of cheap substring tests tells which rules can match at all."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.always = tuple(i for i, rule in enumerate(rules) if not rule.hints)
        by_hint: dict[tuple[bool, str | re.Pattern[str]], list[int]] = {}
        for i, rule in enumerate(rules):
            for hint in rule.hints:
                by_hint.setdefault((rule.token, hint), []).append(i)
        strings = [(token, hint, tuple(ids)) for (token, hint), ids in by_hint.items() if isinstance(hint, str)]
        self.token_strings = tuple((hint, ids) for token, hint, ids in strings if token)
        self.text_strings = tuple((hint, ids) for token, hint, ids in strings if not token)
        self.patterns = [(token, hint, tuple(ids)) for (token, hint), ids in by_hint.items() if not isinstance(hint, str)]

    def active(self, lower: str, window_text: str) -> list[Rule]:
        ids = set(self.always)
        for rule_ids in [ids_ for hint, ids_ in self.token_strings if hint in window_text]:
            ids.update(rule_ids)
        for rule_ids in [ids_ for hint, ids_ in self.text_strings if hint in lower]:
            ids.update(rule_ids)
        for token, pattern, rule_ids in self.patterns:
            if (token and not window_text) or ids.issuperset(rule_ids):
                continue
            if pattern.search(window_text if token else lower):
                ids.update(rule_ids)
        return [self.rules[i] for i in sorted(ids)]


def _rule_spans(text: str, lower: str, rules: _RuleSet, windows: list[tuple[int, int]],
                window_text: str) -> list[tuple[int, int, str]]:
    found = []
    for rule in rules.active(lower, window_text):
        subject = lower if rule.lower else text
        for start, end in windows if rule.token else ((0, len(text)),):
            for match in rule.pattern.finditer(subject, start, end):
                span_start, span_end = match.span(rule.group)
                if span_end > span_start and (rule.accept is None or rule.accept(match)):
                    found.append((span_start, span_end, rule.kind))
    return found


_SECRET_RULES = _RuleSet(_FORMATS + _CONTEXT)
_PERSONAL_RULES = _RuleSet((_IPV4,))

_CUES = ("pass", "pwd", "secret", "token", "key", "auth", "cred", "bearer", "://", "private key", "putty", "-u ", "--user")
"""Words without which, and without a 15+ character token, no rule can match."""


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?")
"""A date and time as ISO 8601 writes it (``2025-06-15T14:42:25.000Z``). The window test flags it (24 characters
of tokens and what joins them), yet no rule can match: its only letters are ``T`` and ``Z``, and its longest run
of the characters a random token is made of is 13 (``2025-06-15T14``). Assistants' events carry one per record
(Claude Code's ``event.timestamp``), each different, so none is ever remembered as clean."""


def maybe_secret(text: str) -> bool:
    """A cheap pre-check (a few µs): False means :func:`redact` would find no secret in ``text`` (personal data aside)."""
    if len(text) < 8 or _TIMESTAMP.fullmatch(text):
        return False
    if _WINDOW.search(b" " + text.encode("latin-1", "replace").translate(_BLANK_OTHERS)):
        return True
    lower = _ascii_lower(text)
    return any(cue in lower for cue in _CUES)


def find(text: str, *, personal: bool = False) -> list[tuple[int, int, str]]:
    """Every secret in ``text`` as (start, end, kind), overlaps merged, in order."""
    if len(text) < 8:
        return []
    lower = _ascii_lower(text)
    windows = _windows(text)
    if not personal and not windows and not any(cue in lower for cue in _CUES):
        return []
    window_text = "\n".join(lower[start:end] for start, end in windows)
    found = _rule_spans(text, lower, _SECRET_RULES, windows, window_text)
    found += _assignments(text, lower) + _random_tokens(text, lower, windows)
    if personal:
        found += _emails(text) if "@" in text else []
        found += _rule_spans(text, lower, _PERSONAL_RULES, [], "")
        found += personal_data.find(text)
    found = [f for f in found if not text.startswith(_ALREADY, f[0])]
    found.sort()
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in found:
        if merged and start < merged[-1][1]:
            last_start, last_end, last_kind = merged[-1]
            best = kind if _RANK[kind] < _RANK[last_kind] else last_kind
            merged[-1] = (last_start, max(last_end, end), best)
        else:
            merged.append((start, end, kind))
    return merged


def redact(text: str, *, personal: bool = False) -> Redaction:
    """``text`` with every secret replaced by ``[REDACTED:<kind>]`` (and personal data too when asked)."""
    spans = find(text, personal=personal)
    if not spans:
        return Redaction(text, 0, {})
    out, pos = [], 0
    for start, end, kind in spans:
        out.append(text[pos:start])
        out.append(PLACEHOLDER.format(kind=kind))
        pos = end
    out.append(text[pos:])
    kinds = Counter(kind for _, _, kind in spans)
    return Redaction("".join(out), len(spans), dict(sorted(kinds.items())))
