"""Every environment variable aitrail reads, each a documented constant (the OTEL_* ones are OpenTelemetry's)."""

from __future__ import annotations

from typing import Final

AITRAIL_DATA_DIR: Final = "AITRAIL_DATA_DIR"
"""Data directory of the embedded store (default: the platform's user data directory)."""
AITRAIL_CLICKHOUSE_URL: Final = "AITRAIL_CLICKHOUSE_URL"
"""ClickHouse server URL, e.g. http://user:pass@host:8123 (instead of the embedded store)."""
AITRAIL_CONFIG: Final = "AITRAIL_CONFIG"
"""Path of the collector's TOML configuration file."""
AITRAIL_SQL_URL: Final = "AITRAIL_SQL_URL"
"""URL of a running collector's read-only SQL endpoint, for ``aitrail sql`` and ``aitrail usage``."""
AITRAIL_TOKEN: Final = "AITRAIL_TOKEN"
"""A token with the query scope, for ``aitrail sql`` and ``aitrail usage`` to read through a collector that requires
tokens (sent as ``Authorization: Bearer <token>``); kept out of the command line, where other users can see it."""
AITRAIL_JOURNAL: Final = "AITRAIL_JOURNAL"
"""Path of the local journal of recent generations' fingerprints (default: user data dir)."""
AITRAIL_OUTBOX: Final = "AITRAIL_OUTBOX"
"""Where the SDK keeps spans it could not send yet, until a later run or ``aitrail flush`` sends them (default: an
``outbox`` folder beside the journal)."""
AITRAIL_PROMPT_POLICY: Final = "AITRAIL_PROMPT_POLICY"
"""Prompt capture policy of the SDK: full, redacted (default), hash or none."""
AITRAIL_PROMPT_SALT: Final = "AITRAIL_PROMPT_SALT"
"""The organisation's salt for prompt hashes: set it to one secret value per organisation, so equal prompts are
recognisable inside it and a hash cannot be matched against guessed prompts outside it."""
AITRAIL_CODE_POLICY: Final = "AITRAIL_CODE_POLICY"
"""Code text capture policy of the SDK: full, redacted or none (default); fingerprints always go."""
AITRAIL_DISABLED: Final = "AITRAIL_DISABLED"
"""Set to 1 to turn the SDK into a no-op (nothing recorded, nothing sent)."""
AITRAIL_USER_ID: Final = "AITRAIL_USER_ID"
"""Who is asking: a stable user id (else the e-mail address is used as the id)."""
AITRAIL_USER_EMAIL: Final = "AITRAIL_USER_EMAIL"
"""Who is asking: e-mail address (else git's ``user.email``)."""
AITRAIL_USER_NAME: Final = "AITRAIL_USER_NAME"
"""Who is asking: display name (else git's ``user.name``)."""
AITRAIL_TEAM: Final = "AITRAIL_TEAM"
"""The team that owns the work (else ``.aitrail/teams``, then CODEOWNERS)."""
AITRAIL_TOKENS_FILE: Final = "AITRAIL_TOKENS_FILE"
"""The collector's tokens file (hashes of tokens, with tenant, team and scopes); setting it turns authentication on."""
AITRAIL_TOKENS: Final = "AITRAIL_TOKENS"
"""Tokens for simple setups, ``TENANT[/TEAM][:SCOPE,SCOPE]=SECRET`` separated by ``;``; setting it turns authentication on."""
