"""The collector's settings: defaults, then the TOML config file, then command-line options."""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from aitrail.collector.limits import ItemLimits
from aitrail.collector.otlp import Limits
from aitrail.collector.store import StoreLocation
from aitrail.errors import ConfigError

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
    max_batch_rows: int = 50_000
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
    max_attribute_depth: int = 16
    # Native telemetry of AI assistants (Claude Code, Codex, Gemini CLI): generations derived in ClickHouse.
    derive_interval: float = 2.0  # seconds between derivation runs; 0 turns them off (`aitrail derive` still works)
    derive_settle: float = 6.0  # an event this old has its companions (assistants export every 5 s by default)
    derive_wait: float = 60.0  # stop waiting for missing companions (prompt, answer, span) after this long
    derive_lookback: float = 86_400.0  # each run looks at events this far back
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
        if self.max_spool_bytes <= 0 or self.shutdown_timeout < 0:
            raise ConfigError("max_spool_bytes must be positive (bytes) and shutdown_timeout not negative (seconds)")
        if self.derive_interval < 0 or self.derive_settle < 0:
            raise ConfigError("derive_interval and derive_settle must not be negative (seconds; derive_interval 0 turns derivation off)")
        if not self.derive_settle <= self.derive_wait < self.derive_lookback:
            raise ConfigError("need derive_settle <= derive_wait < derive_lookback (seconds)")
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


def load(path: Path | None, **overrides: Any) -> CollectorConfig:
    """Defaults <- ``[collector]`` table of the TOML file <- overrides that are not None."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            document = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        values.update(document.get("collector", {}))
        store = document.get("store", {})
        if store:
            values["location"] = StoreLocation.resolve(store.get("data_dir"), store.get("clickhouse_url"))
    known = {f.name for f in fields(CollectorConfig)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(values.get("prices"), list):
        values["prices"] = tuple(values["prices"])
    if isinstance(values.get("team_attributes"), list):
        values["team_attributes"] = tuple(values["team_attributes"])
    for key in ("tokens_file", "tls_cert", "tls_key"):  # paths from the TOML file arrive as strings
        if isinstance(values.get(key), str):
            values[key] = Path(values[key]).expanduser()
    return replace(CollectorConfig(), **values).check()
