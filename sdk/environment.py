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
"""URL of a running collector's read-only SQL endpoint, for ``aitrail sql``."""
