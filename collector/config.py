"""The collector's settings: defaults, then the TOML config file, then command-line options."""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from aitrail.collector.limits import ItemLimits
from aitrail.collector.otlp import Limits
from aitrail.collector.store import StoreLocation
from aitrail.errors import ConfigError

LOOPBACK = "127.0.0.1"


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
    max_body_bytes: int = 16 * 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024 * 1024
    allow_insecure_listen: bool = False
    max_items_per_request: int = 100_000
    max_attributes: int = 512
    max_attribute_value_bytes: int = 4 * 1024 * 1024
    max_attribute_depth: int = 16

    @property
    def limits(self) -> Limits:
        return Limits(max_body_bytes=self.max_body_bytes, max_decompressed_bytes=self.max_decompressed_bytes)

    @property
    def item_limits(self) -> ItemLimits:
        return ItemLimits(self.max_items_per_request, self.max_attributes, self.max_attribute_value_bytes,
                          self.max_attribute_depth)

    def check(self) -> CollectorConfig:
        """Refuse settings that would be unsafe or cannot work, saying how to fix them."""
        if not is_loopback(self.host) and not self.allow_insecure_listen:
            raise ConfigError(
                f"refusing to listen on {self.host}: beyond loopback the collector would accept anyone's data. "
                "Put it behind an authenticating proxy and pass --allow-insecure-listen, or keep --host 127.0.0.1"
            )
        for name in ("http_port", "grpc_port", "sql_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ConfigError(f"{name.replace('_', '-')} {port} is not a TCP port (0-65535)")
        if self.flush_interval <= 0:
            raise ConfigError("flush_interval must be positive (seconds)")
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
    return replace(CollectorConfig(), **values).check()
