"""The aitrail command line: a thin layer over the library.

Every command parses options, calls one library function, and prints. Errors
of the library (``AitrailError``) become a red line and a hint here, at the
edge, and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from aitrail.cli import output
from aitrail.cli.options import ClickHouseUrl, DataDir, Json, OutputFormat, SqlUrl, Token
from aitrail.errors import AccessDenied, AitrailError, ConfigError, QueryRefused, StoreLocked
from aitrail.sdk import environment

app = typer.Typer(
    help=(
        "aitrail: an audit trail for AI-generated code.\n\n"
        "Start a collector with `aitrail serve`, point your AI assistants' OpenTelemetry at it, "
        "and ask the store with `aitrail sql` or `aitrail usage`. `aitrail demo` shows it all working."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _server_extra() -> None:
    try:
        import chdb  # noqa: F401
        import aiohttp  # noqa: F401
    except ImportError:
        output.fail("this command needs the server parts", "pip install 'aitrail[server]'")


def _location(data_dir: Optional[Path], clickhouse_url: Optional[str]):  # noqa: ANN202
    from aitrail.collector.store import StoreLocation

    return StoreLocation.resolve(data_dir, clickhouse_url)


_TOKEN_HINTS = {
    401: f"pass --token TOKEN or set {environment.AITRAIL_TOKEN}; whoever runs the collector creates one with "
         "`aitrail token create --tenant T --scope query`",
    403: "use a token with the query scope: `aitrail token create --tenant T --scope query`",
}
"""What to do when a collector refuses the token: send one (401), or get one that may read (403)."""


def _explain(exc: AitrailError) -> None:
    hints = {
        StoreLocked: "start `aitrail serve` once and query through it, or stop the other process",
        QueryRefused: "the SQL endpoint only runs reads (SELECT, SHOW, DESCRIBE, EXISTS)",
        ConfigError: "see `aitrail serve --help` for every setting",
    }
    hint = next((h for kind, h in hints.items() if isinstance(exc, kind)), None)
    if isinstance(exc, AccessDenied):
        hint = _TOKEN_HINTS.get(exc.status)
    output.fail(str(exc), hint)


@app.command()
def serve(
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on. Beyond loopback needs --tokens-file (or --allow-insecure-listen).")] = "127.0.0.1",
    http_port: Annotated[int, typer.Option(help="OTLP/HTTP port (/v1/traces, /v1/logs, /v1/metrics, /healthz, /metrics).")] = 4318,
    grpc_port: Annotated[int, typer.Option(help="OTLP/gRPC port.")] = 4317,
    sql_port: Annotated[int, typer.Option(help="Read-only SQL endpoint (ClickHouse HTTP interface).")] = 8123,
    config: Annotated[
        Optional[Path],
        typer.Option(envvar=environment.AITRAIL_CONFIG, help="TOML file with [collector] and [store] settings."),
    ] = None,
    flush_interval: Annotated[Optional[float], typer.Option(help="Seconds rows may wait to be batched (default 1).")] = None,
    spool_dir: Annotated[
        Optional[Path],
        typer.Option(help="Durable spool: every accepted request is fsync'd here before the answer "
                     "(default DATA_DIR/spool; with --clickhouse-url, a folder in the user data dir)."),
    ] = None,
    allow_insecure_listen: Annotated[
        bool, typer.Option(help="Listen beyond loopback without authentication (only behind a proxy that authenticates).")
    ] = False,
    tokens_file: Annotated[
        Optional[Path],
        typer.Option(envvar=environment.AITRAIL_TOKENS_FILE,
                     help="Require tokens: this file's (hashed) tokens, from `aitrail token create`; re-read when it changes."),
    ] = None,
    tls_cert: Annotated[Optional[Path], typer.Option(help="TLS certificate chain (PEM) for OTLP/HTTP, OTLP/gRPC and SQL.")] = None,
    tls_key: Annotated[Optional[Path], typer.Option(help="The TLS certificate's private key (PEM).")] = None,
) -> None:
    """Run the collector: receive OTLP from SDKs and assistants, store it in ClickHouse, serve read-only SQL.

    Point an assistant at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318.
    """
    _server_extra()
    from aitrail.collector.config import load
    from aitrail.collector.server import serve as run

    try:
        cfg = load(
            config,
            location=_location(data_dir, clickhouse_url) if (data_dir or clickhouse_url) else None,
            host=host, http_port=http_port, grpc_port=grpc_port, sql_port=sql_port,
            flush_interval=flush_interval, allow_insecure_listen=allow_insecure_listen or None,
            spool_dir=spool_dir,
            tokens_file=tokens_file, tls_cert=tls_cert, tls_key=tls_key,
        )

        def ready(collector) -> None:  # noqa: ANN001
            output.errors.print(
                f"[green]aitrail collector[/] storing in {cfg.location.describe()}\n"
                f"  OTLP/HTTP  {collector.http_url}\n  OTLP/gRPC  {collector.grpc_endpoint}\n"
                f"  SQL        {collector.sql_url}  (read-only)\n"
                + ("  Tokens     required (each reads and writes as its tenant)\n" if collector.auth else "")
                + "  Ctrl-C or SIGTERM to stop."
            )

        asyncio.run(run(cfg, ready))
    except AitrailError as exc:
        _explain(exc)
    except OSError as exc:
        output.fail(f"cannot listen: {exc}", "choose free ports with --http-port/--grpc-port/--sql-port")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read-only statement, e.g. \"SELECT team, count() FROM aitrail.ai_generations GROUP BY team\".")],
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table for people, csv or json for scripts.")] = OutputFormat.table,
    sql_url: SqlUrl = None,
    token: Token = None,
) -> None:
    """Run read-only SQL against the store, through the collector that owns it or directly when none does."""
    _server_extra()
    from aitrail.collector.query import read_only_query

    fmt = {OutputFormat.table: "JSONCompactEachRowWithNames", OutputFormat.csv: "CSVWithNames", OutputFormat.json: "JSONEachRow"}[format]
    try:
        data = read_only_query(_location(data_dir, clickhouse_url), query, fmt, sql_url=sql_url, token=token)
    except AitrailError as exc:
        _explain(exc)
        return
    if format is OutputFormat.csv:
        typer.echo(data.decode(), nl=False)
    elif format is OutputFormat.json:
        output.print_json([json.loads(line) for line in data.splitlines() if line.strip()])
    else:
        columns, rows = output.parse_compact(data)
        output.print_table(None, columns, rows)


@app.command()
def usage(
    days: Annotated[int, typer.Option(min=1, help="How many UTC days back to look, today included.")] = 30,
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    sql_url: SqlUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """AI usage by team and by assistant: generations, people, tokens, cost, lines written.

    With a tenant's token, the usage of that tenant only.
    """
    _server_extra()
    from aitrail.demo.summary import print_usage, usage_summary

    try:
        summary = usage_summary(_location(data_dir, clickhouse_url), days, sql_url, token)
    except AitrailError as exc:
        _explain(exc)
        return
    if as_json:
        output.print_json(summary)
    else:
        print_usage(summary)


@app.command()
def migrate(
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    status: Annotated[bool, typer.Option("--status", help="Only show applied and pending migrations; change nothing.")] = False,
    as_json: Json = False,
) -> None:
    """Bring the store's schema up to this version of aitrail (the collector also does this on start)."""
    _server_extra()
    from aitrail.collector.store import open_store
    from aitrail.collector.store.schema import applied_versions, known_migrations, migrate as run_migrations

    try:
        with open_store(_location(data_dir, clickhouse_url), migrate=False) as store:
            if not status:
                run_migrations(store)
            applied = applied_versions(store)
    except AitrailError as exc:
        _explain(exc)
        return
    rows = [{"version": m.version, "name": m.name, "applied": m.version in applied} for m in known_migrations()]
    if as_json:
        output.print_json(rows)
    else:
        output.print_table("schema migrations", ["version", "name", "applied"], [[r["version"], r["name"], r["applied"]] for r in rows])


@app.command()
def demo(
    data_dir: Annotated[
        Optional[Path], typer.Option(help="Keep the demo's store here (default: a temporary directory, removed after).")
    ] = None,
    as_json: Json = False,
) -> None:
    """The whole product in one command: a collector on the embedded store, a week of AI activity from
    several teams sent over real OTLP (HTTP and gRPC), and the usage summary read back from ClickHouse."""
    _server_extra()
    from aitrail.demo import run_demo

    try:
        summary = run_demo(data_dir, quiet=as_json)
    except AitrailError as exc:
        _explain(exc)
        return
    if as_json:
        output.print_json(summary)


@app.command()
def derive(
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    days: Annotated[float, typer.Option(min=0.01, help="How far back to look, in days (events of prompts older than this are not joined).")] = 1.0,
    as_json: Json = False,
) -> None:
    """Turn the native telemetry of AI assistants (Claude Code, Codex, Gemini CLI) already stored into generations.

    A running collector does this by itself every few seconds; run this over history, or for a ClickHouse
    server filled by another writer (the OpenTelemetry Collector). Rows already derived are never derived again.
    """
    _server_extra()
    from aitrail.collector.derive import Window, derive_once
    from aitrail.collector.store import open_store

    try:
        with open_store(_location(data_dir, clickhouse_url)) as store:
            added = derive_once(store, Window(lookback=days * 86_400))
    except StoreLocked:
        output.fail("a collector owns this data directory, and derives generations by itself",
                    "nothing to do; or stop it and run `aitrail derive` again")
        return
    except AitrailError as exc:
        _explain(exc)
        return
    if as_json:
        output.print_json(added)
    else:
        output.print_table("generations derived", ["assistant dialect", "new rows"], [[d, n] for d, n in added.items()])


def main() -> None:
    app()


from aitrail.cli import developer as _developer  # noqa: E402
_developer.register(app)

from aitrail.cli import tokens as _tokens  # noqa: E402
_tokens.register(app)

from aitrail.cli import dashboards as _dashboards  # noqa: E402
_dashboards.register(app)
