"""Tokens: who may send data (``ingest``), read it (``query``) or read every tenant's (``admin``), and as which tenant.

A token is a random secret given to a sender or a reader once; the collector
keeps only its SHA-256 (``sha256:<hex>``) in the tokens file, a JSON or TOML
file of entries::

    {"tokens": [{"id": "tok_1a2b3c4d", "hash": "sha256:9f86…", "tenant": "acme",
                 "team": "payments", "scopes": ["ingest"], "created": "2025-03-01T12:00:00Z",
                 "expires": "2025-03-31T12:00:00Z"}]}

(TOML: the same keys in ``[[tokens]]`` tables). ``aitrail token create``
writes entries and prints the secret once; editing or replacing the file takes
effect within about a second, without a restart (the file is checked for
changes at most every ``check_interval`` seconds; SIGHUP forces a reload).
For simple setups ``AITRAIL_TOKENS`` holds entries too, ``TENANT[/TEAM][:SCOPE,SCOPE]=SECRET``
separated by ``;`` or white space (SECRET may also be a ``sha256:<hex>`` hash).

Secrets are compared by their hashes, with :func:`hmac.compare_digest`
against every known hash (no early exit). Tokens are 256-bit random values,
so an unsalted SHA-256 cannot be reversed; the file is still written with
mode 0600.

A token names its tenant, and optionally its team: what it sends is stamped
with them (a payload's own claims are replaced); what it reads is that
tenant's rows only. ``admin`` implies every other scope and reads every tenant.

A token may expire (``expires``, UTC; absent: never), so a secret handed to a
contractor or a CI job stops working by itself even if nobody revokes it; an
expired token is refused like an unknown one, with a message saying when it
expired, so its holder knows to ask for a new one rather than suspect a typo.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aitrail.errors import ConfigError

log = logging.getLogger("aitrail.collector")

INGEST, QUERY, ADMIN = "ingest", "query", "admin"
SCOPES = (INGEST, QUERY, ADMIN)
DEFAULT_SCOPES = (INGEST,)
SECRET_PREFIX = "aitrail_"
HASH_PREFIX = "sha256:"
CHECK_INTERVAL = 0.5
"""Seconds between checks of the tokens file for changes (a stat call)."""

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
_TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:@/+-]{0,127}$")
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$", re.I)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How the tokens file writes times (``created``, ``expires``): UTC, to the second."""


def check_tenant(tenant: str) -> str:
    """Tenant ids are plain: letters, digits and ``_ . : @ -``, at most 128, starting with a letter or digit."""
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise ConfigError(
            f"tenant {tenant!r} is not valid: use 1-128 letters, digits and _ . : @ - (starting with a letter or digit)"
        )
    return tenant


def check_team(team: str | None) -> str | None:
    if team is None or team == "":
        return None
    if not isinstance(team, str) or not _TEAM.match(team):
        raise ConfigError(f"team {team!r} is not valid: use 1-128 letters, digits, spaces and _ . : @ / + -")
    return team


def check_scopes(scopes: Iterable[str]) -> frozenset[str]:
    found = frozenset(s.strip().lower() for s in scopes if s.strip())
    unknown = found - set(SCOPES)
    if unknown or not found:
        raise ConfigError(f"scopes must be among {', '.join(SCOPES)} (got {', '.join(sorted(unknown)) or 'none'})")
    return found


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``15m`` or ``90s``: how long a new token lives (``aitrail token create --expires``)."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"expiry {text!r} is not valid: use a positive number and s, m, h or d (e.g. 30d, 12h)")
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


def format_time(moment: datetime) -> str:
    """A time as the tokens file writes it, e.g. ``2025-03-01T12:00:00Z``."""
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def parse_time(value: Any, where: str) -> datetime | None:
    """A time of the tokens file (ISO 8601; UTC when it names no zone; a TOML date-time too); None when absent."""
    if value is None or value == "":
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a time like 2025-03-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def hash_secret(secret: str) -> str:
    """What the tokens file keeps of a secret: ``sha256:<hex>``."""
    return HASH_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A fresh token: ``aitrail_`` and 256 random bits, URL-safe (fits in headers and ClickHouse passwords)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Principal:
    """Who a token is: its id, tenant, team (if fixed), scopes, and when it stops being valid (None: never)."""

    token_id: str
    tenant: str
    team: str | None = None
    scopes: frozenset[str] = frozenset(DEFAULT_SCOPES)
    expires: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or ADMIN in self.scopes

    @property
    def admin(self) -> bool:
        return ADMIN in self.scopes


@dataclass(frozen=True)
class TokenEntry:
    """One entry of the tokens file: the hash of a secret and who it is."""

    id: str
    hash: str
    tenant: str
    team: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    created: str = ""
    note: str = ""
    expires: datetime | None = None

    @property
    def principal(self) -> Principal:
        return Principal(self.id, self.tenant, self.team, frozenset(self.scopes), self.expires)

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.id, "hash": self.hash, "tenant": self.tenant}
        if self.team:
            entry["team"] = self.team
        entry["scopes"] = list(self.scopes)
        if self.created:
            entry["created"] = self.created
        if self.expires is not None:
            entry["expires"] = format_time(self.expires)
        if self.note:
            entry["note"] = self.note
        return entry

    @classmethod
    def parse(cls, raw: Any, where: str) -> TokenEntry:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: each token must be a table/object with id, hash, tenant, scopes")
        for plain in ("token", "secret", "password"):
            if plain in raw:
                raise ConfigError(
                    f"{where}: the tokens file holds only hashes, never a secret ({plain!r}): "
                    "create tokens with `aitrail token create`, or store hash = \"sha256:<hex of the secret>\""
                )
        known = {"id", "hash", "tenant", "team", "scopes", "created", "expires", "note"}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        token_id, digest = raw.get("id", ""), raw.get("hash", "")
        if not isinstance(token_id, str) or not _ID.match(token_id):
            raise ConfigError(f"{where}: id {token_id!r} must be 1-64 letters, digits and _ . : -")
        if not isinstance(digest, str) or not _HASH.match(digest):
            raise ConfigError(f"{where} ({token_id}): hash must be \"sha256:\" and 64 lower-case hex digits")
        scopes = raw.get("scopes", list(DEFAULT_SCOPES))
        if isinstance(scopes, str):
            scopes = scopes.split(",")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ConfigError(f"{where} ({token_id}): scopes must be a list of {', '.join(SCOPES)}")
        return cls(
            id=token_id,
            hash=digest,
            tenant=check_tenant(raw.get("tenant", "")),
            team=check_team(raw.get("team")),
            scopes=tuple(s for s in SCOPES if s in check_scopes(scopes)),
            created=str(raw.get("created", "")),
            note=str(raw.get("note", "")),
            expires=parse_time(raw.get("expires"), f"{where} ({token_id}) expires"),
        )


def read_tokens_file(path: Path) -> list[TokenEntry]:
    """Every entry of a tokens file (JSON, or TOML when the name ends in .toml); a missing file has none."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read tokens file {path}: {exc}") from exc
    try:
        document = tomllib.loads(text) if path.suffix.lower() == ".toml" else (json.loads(text) if text.strip() else {})
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"tokens file {path} is not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'}: {exc}") from exc
    if not isinstance(document, Mapping) or not isinstance(document.get("tokens", []), list):
        raise ConfigError(f"tokens file {path} must hold a list named tokens")
    entries = [TokenEntry.parse(raw, f"{path} token #{i + 1}") for i, raw in enumerate(document.get("tokens", []))]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"tokens file {path}: token ids must be unique")
    return entries


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string for what we write


def write_tokens_file(path: Path, entries: list[TokenEntry]) -> None:
    """Replace the tokens file atomically (readers see the old or the new file), mode 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".toml":
        blocks = ["# aitrail tokens: hashes only (aitrail token create / list / revoke)\n"]
        for entry in entries:
            lines = ["[[tokens]]"]
            for key, value in entry.as_dict().items():
                rendered = "[" + ", ".join(_toml_string(v) for v in value) + "]" if isinstance(value, list) else _toml_string(value)
                lines.append(f"{key} = {rendered}")
            blocks.append("\n".join(lines) + "\n")
        text = "\n".join(blocks)
    else:
        text = json.dumps({"tokens": [e.as_dict() for e in entries]}, indent=2, ensure_ascii=False) + "\n"
    fd, temp = tempfile.mkstemp(prefix=".tokens-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def create_token(
    path: Path, tenant: str, team: str | None = None, scopes: Iterable[str] = DEFAULT_SCOPES, note: str = "",
    lifetime: timedelta | None = None,
) -> tuple[str, TokenEntry]:
    """Add a token to the file; returns the secret (to show once) and the entry stored (its hash only).

    With ``lifetime`` the token expires that long from now; without, it is valid until revoked.
    """
    entry_scopes = check_scopes(scopes)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    entries = read_tokens_file(path)
    secret = new_secret()
    used = {e.id for e in entries}
    token_id = "tok_" + secrets.token_hex(4)
    while token_id in used:
        token_id = "tok_" + secrets.token_hex(4)
    entry = TokenEntry(
        id=token_id,
        hash=hash_secret(secret),
        tenant=check_tenant(tenant),
        team=check_team(team),
        scopes=tuple(s for s in SCOPES if s in entry_scopes),
        created=format_time(now),
        note=note,
        expires=now + lifetime if lifetime is not None else None,
    )
    write_tokens_file(path, [*entries, entry])
    return secret, entry


def revoke_token(path: Path, token_id: str) -> TokenEntry:
    """Remove a token from the file (a running collector refuses it within about a second)."""
    entries = read_tokens_file(path)
    found = [e for e in entries if e.id == token_id]
    if not found:
        raise ConfigError(f"no token {token_id!r} in {path} (see `aitrail token list`)")
    write_tokens_file(path, [e for e in entries if e.id != token_id])
    return found[0]


def parse_env_tokens(spec: str | None) -> list[TokenEntry]:
    """``AITRAIL_TOKENS``: ``TENANT[/TEAM][:SCOPE,SCOPE]=SECRET`` entries separated by ``;`` or white space."""
    entries: list[TokenEntry] = []
    for n, item in enumerate(p for p in re.split(r"[;\s]+", spec or "") if p):
        who, sep, secret = item.partition("=")
        if not sep or not secret:
            raise ConfigError(f"AITRAIL_TOKENS entry #{n + 1} must look like TENANT[/TEAM][:SCOPES]=SECRET")
        who, _, scope_text = who.partition(":")
        tenant, _, team = who.partition("/")
        digest = secret if _HASH.match(secret) else hash_secret(secret)
        scopes = check_scopes(scope_text.split(",")) if scope_text else frozenset(DEFAULT_SCOPES)
        entries.append(
            TokenEntry(f"env_{n + 1}", digest, check_tenant(tenant), check_team(team or None), tuple(s for s in SCOPES if s in scopes))
        )
    return entries
