"""The collector's settings: each one owned here, with its one default.

Precedence, highest first: the command line, then environment variables
(``AITRAIL_DATA_DIR``, ``AITRAIL_CLICKHOUSE_URL``, ``AITRAIL_TOKENS_FILE``),
then the TOML file (``--config``), then the default below. The command line
passes only what the user gave (None otherwise), so a default is never
mistaken for a choice. Every setting is described in docs/configuration.md.
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from aitrail.collector.limits import VALUE_DEPTH, ItemLimits
from aitrail.collector.otlp import Limits
from aitrail.collector.store import StoreLocation
from aitrail.errors import ConfigError
from aitrail.sdk.vocabulary import PROMPT_POLICIES

LOOPBACK = "127.0.0.1"
PERSON_FIELDS = frozenset({"email", "name", "team"})
"""What the ``people`` table may say about a person."""


@dataclass(frozen=True)
class CollectorConfig:
    """Everything ``aitrail serve`` can be told. Ports 0 mean "any free port"."""

    location: StoreLocation = field(default_factory=StoreLocation.resolve)
    host: str = LOOPBACK
    http_port: int = 4318
    grpc_port: int = 4317
    sql_port: int = 8123
    flush_interval: float = 1.0
    # Under sustained load a batch goes when it holds this many rows: each insert's planning (~0.5 s of CPU for
    # traces with their views) is paid per batch, so bigger batches cost less per row (the 64 MiB a batch may
    # hold bounds its memory; docs/ingest-engine.md, "Planning under sustained load").
    max_batch_rows: int = 150_000
    # A batch of fewer rows waits up to ten flush intervals for more (0: never waits longer): each
    # insert costs the engine a fixed time to plan its statements, ~0.5 s of CPU for traces and logs together.
    min_batch_rows: int = 5_000
    max_pending_rows: int = 1_000_000
    # Durability (collector/spool.py): a 2xx means fsync'd in the spool (or stored); the drain stores the spool.
    spool_dir: Path | None = None  # default: DATA_DIR/spool, or a folder per server URL in the platform data dir
    max_spool_bytes: int = 1 << 30  # past this much waiting for the store, answer 503 + Retry-After
    shutdown_timeout: float = 10.0  # on SIGTERM, store what the spool holds for this long; the rest waits on disk
    read_after_write: bool = False  # the SQL endpoint first waits for the drain: reads see every 2xx (tests, demos)

    @property
    def spool_path(self) -> Path:
        """Where the spool lives: ``spool_dir``, else next to the embedded store, else per ClickHouse server."""
        if self.spool_dir:
            return Path(self.spool_dir).expanduser()
        if self.location.data_dir is not None:
            return Path(self.location.data_dir) / "spool"
        import hashlib

        import platformdirs

        server = hashlib.sha256(self.location.describe().encode()).hexdigest()[:16]
        return Path(platformdirs.user_data_dir("aitrail")) / "spool" / server

    max_body_bytes: int = 16 * 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024 * 1024
    allow_insecure_listen: bool = False
    # Security (collector/auth.py, collector/tls.py): tokens turn authentication on; cert and key turn TLS on.
    tokens_file: Path | None = None  # JSON or TOML file of token hashes (aitrail token create); reloaded when it changes
    tls_cert: Path | None = None  # PEM certificate chain for OTLP/HTTP, OTLP/gRPC and the SQL endpoint
    tls_key: Path | None = None  # its PEM private key

    @property
    def auth_enabled(self) -> bool:
        """Whether requests need tokens: a tokens file is configured, or AITRAIL_TOKENS is set."""
        import os

        from aitrail.sdk import environment

        return self.tokens_file is not None or bool(os.environ.get(environment.AITRAIL_TOKENS))

    @property
    def tls_enabled(self) -> bool:
        return self.tls_cert is not None

    max_items_per_request: int = 100_000
    max_attributes: int = 512
    max_attribute_value_bytes: int = 4 * 1024 * 1024
    max_attribute_depth: int = VALUE_DEPTH  # at most VALUE_DEPTH: deeper values could not be stored whole
    # Native telemetry of AI assistants (Claude Code, Codex, Gemini CLI): generations derived in ClickHouse.
    derive_interval: float = 2.0  # seconds between derivation runs; 0 turns them off (`aitrail derive` still works)
    derive_settle: float = 6.0  # an event this old has its companions (assistants export every 5 s by default)
    derive_wait: float = 60.0  # stop waiting for missing companions (prompt, answer, span) after this long
    derive_lookback: float = 86_400.0  # each run looks at events this far back
    # Prompts of GenAI applications that send messages, not aitrail's attributes (collector/processors/genai_content.py):
    prompt_policy: str = "redacted"  # full, redacted, hash or none: what of such a prompt is stored
    # Who is who, beyond the vocabulary (collector/processors/mapping.py):
    team_attributes: tuple[str, ...] = ()  # more attribute names that name the team, in order of preference
    people: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # id the assistant sends -> {email, name, team}
    # Cost when the sender gives none (collector/store/prices.py): rows that replace or add to the shipped prices.
    prices: tuple[Mapping[str, Any], ...] = ()  # [[collector.prices]] model = "gpt-4o", input_usd_per_mtok = 2.5, ...

    @property
    def derive_window(self):  # noqa: ANN201 - aitrail.collector.derive.Window, imported only when needed
        from aitrail.collector.derive import Window

        return Window(settle=self.derive_settle, wait=self.derive_wait, lookback=self.derive_lookback)

    @property
    def limits(self) -> Limits:
        return Limits(max_body_bytes=self.max_body_bytes, max_decompressed_bytes=self.max_decompressed_bytes)

    @property
    def item_limits(self) -> ItemLimits:
        return ItemLimits(self.max_items_per_request, self.max_attributes, self.max_attribute_value_bytes,
                          self.max_attribute_depth)

    def check(self) -> CollectorConfig:
        """Refuse settings that would be unsafe or cannot work, saying how to fix them."""
        if not 1 <= self.max_attribute_depth <= VALUE_DEPTH:
            raise ConfigError(f"max_attribute_depth must be from 1 to {VALUE_DEPTH}: the store keeps values nested "
                              f"at most {VALUE_DEPTH} levels whole (deeper ones are refused, not stored emptied)")
        if not is_loopback(self.host) and not self.allow_insecure_listen and not self.auth_enabled:
            raise ConfigError(
                f"refusing to listen on {self.host}: beyond loopback the collector would accept anyone's data. "
                "Give it tokens (--tokens-file, see `aitrail token create`), or put it behind an authenticating "
                "proxy and pass --allow-insecure-listen, or keep --host 127.0.0.1"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("TLS needs both --tls-cert and --tls-key (PEM files), or neither")
        for name in ("http_port", "grpc_port", "sql_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ConfigError(f"{name.replace('_', '-')} {port} is not a TCP port (0-65535)")
        if self.flush_interval <= 0:
            raise ConfigError("flush_interval must be positive (seconds)")
        if not 0 <= self.min_batch_rows <= self.max_batch_rows:
            raise ConfigError("min_batch_rows must be from 0 (small batches never wait longer) to max_batch_rows")
        if self.max_spool_bytes <= 0 or self.shutdown_timeout < 0:
            raise ConfigError("max_spool_bytes must be positive (bytes) and shutdown_timeout not negative (seconds)")
        if self.derive_interval < 0 or self.derive_settle < 0:
            raise ConfigError("derive_interval and derive_settle must not be negative (seconds; derive_interval 0 turns derivation off)")
        if not self.derive_settle <= self.derive_wait < self.derive_lookback:
            raise ConfigError("need derive_settle <= derive_wait < derive_lookback (seconds)")
        if self.prompt_policy not in PROMPT_POLICIES:
            raise ConfigError(f"prompt_policy {self.prompt_policy!r} is not one of {', '.join(PROMPT_POLICIES)}")
        if isinstance(self.team_attributes, str) or not all(isinstance(a, str) and a for a in self.team_attributes):
            raise ConfigError('team_attributes must be a list of attribute names, e.g. ["squad", "org.team"]')
        for key, person in self.people.items():
            if not isinstance(person, Mapping) or not set(person) <= PERSON_FIELDS or not all(isinstance(x, str) for x in person.values()):
                raise ConfigError(
                    f"people.{key!r} must be a table of {', '.join(sorted(PERSON_FIELDS))} (strings), "
                    f'e.g. "{key}" = {{ email = "ana@example.com", name = "Ana Lima" }}'
                )
        from aitrail.collector.store.prices import parse_overrides

        parse_overrides(self.prices)  # refused here, at start, with the row and key
        return self


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_EXPECTED = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "a string",
    Path: "a path (a string)",
    "list": "a list of strings",
    "table": "a table",
}


def _expected(hint: Any) -> tuple[tuple[type, ...], str]:
    """The TOML types a setting accepts, and how to say so."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    kind = next(t for t in typing.get_args(hint) if t is not type(None)) if union else hint
    origin = typing.get_origin(kind) or kind
    if origin is tuple:
        return (list,), _EXPECTED["list"]
    if origin in (Mapping, dict) or kind is Mapping:
        return (dict,), _EXPECTED["table"]
    if kind is float:
        return (int, float), _EXPECTED[float]
    if kind is Path:
        return (str,), _EXPECTED[Path]
    return (kind,), _EXPECTED.get(kind, kind.__name__)


def _typed(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``values`` as the settings' types, or a ConfigError naming the key, the value and what was expected."""
    hints = typing.get_type_hints(CollectorConfig)
    typed: dict[str, Any] = {}
    for key, value in values.items():
        accepted, expected = _expected(hints[key])
        if isinstance(value, bool) and bool not in accepted or not isinstance(value, accepted):
            raise ConfigError(f"{key} = {json.dumps(value, default=str)} in {source}: expected {expected}")
        if hints[key] in (float,):
            value = float(value)
        elif isinstance(value, str) and Path in typing.get_args(hints[key]):
            value = Path(value).expanduser()
        elif isinstance(value, list):
            value = tuple(value)
        typed[key] = value
    return typed


def _read(path: Path) -> dict[str, Any]:
    """The settings of the TOML file: its ``[collector]`` table, and ``[store]`` as the location."""
    try:
        document = tomllib.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    collector, store = document.get("collector", {}), document.get("store", {})
    if not isinstance(collector, dict) or not isinstance(store, dict):
        raise ConfigError(f"in {path}, [collector] and [store] must be tables")
    unknown = [f"[{name}] {key}" for name, table, known in (
        ("collector", collector, {f.name for f in fields(CollectorConfig)} - {"location"}),
        ("store", store, {"data_dir", "clickhouse_url"}),
    ) for key in table if key not in known] + [f"[{name}]" for name in document if name not in ("collector", "store")]
    if unknown:
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}")
    values = _typed(collector, str(path))
    for key in ("data_dir", "clickhouse_url"):
        if key in store and not isinstance(store[key], str):
            raise ConfigError(f"[store] {key} = {json.dumps(store[key], default=str)} in {path}: expected a string")
    if store:
        values["location"] = StoreLocation.resolve(store.get("data_dir"), store.get("clickhouse_url"))
    return values


def store_location(path: Path | None, data_dir: Path | str | None = None,
                   clickhouse_url: str | None = None) -> StoreLocation:
    """Where the store is, for commands that read it: the options (or their environment variables), else
    the file's ``[store]``, else the default data directory."""
    if data_dir or clickhouse_url or path is None:
        return StoreLocation.resolve(data_dir, clickhouse_url)
    return _read(path).get("location") or StoreLocation.resolve()


def load(path: Path | None, **overrides: Any) -> CollectorConfig:
    """Defaults <- the TOML file's ``[collector]`` and ``[store]`` <- ``overrides`` that are not None
    (the command line and the environment variables it reads)."""
    values = _read(path) if path is not None else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(CollectorConfig(), **values).check()
