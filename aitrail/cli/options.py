"""Options shared by several commands, defined once."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from aitrail.sdk import environment

DataDir = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir",
        envvar=environment.AITRAIL_DATA_DIR,
        help="Data directory of the embedded store (default: your user data directory).",
        show_default=False,
    ),
]
ClickHouseUrl = Annotated[
    Optional[str],
    typer.Option(
        "--clickhouse-url",
        envvar=environment.AITRAIL_CLICKHOUSE_URL,
        help="Use a ClickHouse server instead, e.g. http://user:password@host:8123.",
        show_default=False,
    ),
]
Config = Annotated[
    Optional[Path],
    typer.Option(
        "--config",
        envvar=environment.AITRAIL_CONFIG,
        help="TOML file with \\[collector] and \\[store] settings (docs/configuration.md lists them all); "
             "options and environment variables win over it.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
SqlUrl = Annotated[
    Optional[str],
    typer.Option(
        "--sql-url",
        envvar=environment.AITRAIL_SQL_URL,
        help="A running collector's SQL endpoint (found by itself for a local data dir).",
        show_default=False,
    ),
]
Token = Annotated[
    Optional[str],
    typer.Option(
        "--token",
        envvar=environment.AITRAIL_TOKEN,
        help=f"A token with the query scope, for a collector that requires tokens (better: set {environment.AITRAIL_TOKEN}).",
        show_default=False,
    ),
]

Endpoint = Annotated[
    Optional[str],
    typer.Option("--endpoint", envvar="OTEL_EXPORTER_OTLP_ENDPOINT",
                 help="Send through the collector at this OTLP/HTTP URL (default: the collector that owns the data "
                      "directory, else straight into the store).", show_default=False),
]
IngestToken = Annotated[
    Optional[str],
    typer.Option("--token", envvar=environment.AITRAIL_TOKEN,
                 help=f"A token with the ingest scope (imports) and the query scope (reads), for a collector that "
                      f"requires tokens (better: set {environment.AITRAIL_TOKEN}).", show_default=False),
]
"""An import's options: where it sends (:func:`aitrail.collector.imports.deliver`) and with which token."""


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
