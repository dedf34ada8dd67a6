"""The aitrail command line: a thin layer over the library.

Every command parses options, calls one library function, and prints. Errors
of the library (``AitrailError``) become a red line and a hint here, at the
edge, and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from aitrail.cli import output
from aitrail.cli.options import ClickHouseUrl, Config, DataDir, Json, OutputFormat, SqlUrl, Token
from aitrail.errors import AccessDenied, AitrailError, ConfigError, InvalidImport, StoreLocked, StoreNotFound
from aitrail.sdk import environment

SETTINGS_HELP = "docs/configuration.md lists every setting, its default and what it does"
"""Where a configuration error sends the user (the one page that documents every setting)."""

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


def _location(data_dir: Optional[Path], clickhouse_url: Optional[str], config: Optional[Path] = None):  # noqa: ANN202
    from aitrail.collector.config import store_location

    return store_location(config, data_dir, clickhouse_url)


def _note_unstored(location) -> None:  # noqa: ANN001 - a StoreLocation
    """Say so when a stopped collector left acknowledged records in its spool: the read did not see them."""
    from aitrail.collector.query import unstored

    waiting = unstored(location)
    if waiting:
        output.errors.print(
            f"[yellow]note:[/] {waiting} acknowledged request(s) wait in the collector's spool, not stored yet; "
            "start `aitrail serve` on this store and they are stored", highlight=False)


def _setting(help: str, **kwargs: Any) -> Any:  # noqa: A002 - typer's name
    """An option of a collector setting: no default of its own (the collector's settings own it), so only what
    the user gives overrides the environment and the file."""
    return typer.Option(help=help, show_default=False, **kwargs)


def _default(name: str) -> str:
    """A collector setting's one default, for help texts (the CLI has none of its own)."""
    from aitrail.collector.config import CollectorConfig

    return f"(default {getattr(CollectorConfig, name)})"


_TOKEN_HINTS = {
    401: f"pass --token TOKEN or set {environment.AITRAIL_TOKEN}; whoever runs the collector creates one with "
         "`aitrail token create --tenant T --scope query`",
    403: "use a token with the query scope: `aitrail token create --tenant T --scope query`",
}
"""What to do when a collector refuses the token: send one (401), or get one that may read (403)."""


def _explain(exc: AitrailError) -> None:
    hints = {
        StoreLocked: "start `aitrail serve` once and query through it, or stop the other process",
        ConfigError: SETTINGS_HELP,
        StoreNotFound: f"check --data-dir (or {environment.AITRAIL_DATA_DIR}); `aitrail serve --data-dir DIR` "
                       "makes a store and fills it with what assistants send (README: quick start)",
    }
    hint = exc.hint or next((h for kind, h in hints.items() if isinstance(exc, kind)), None)
    if isinstance(exc, AccessDenied) and not exc.hint:
        hint = _TOKEN_HINTS.get(exc.status)
    output.fail(str(exc), hint, code=2 if isinstance(exc, InvalidImport) else 1)


@app.command()
def serve(
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    host: Annotated[Optional[str], _setting(f"Address to listen on {_default('host')}. Beyond loopback needs "
                                            "--tokens-file (or --allow-insecure-listen).")] = None,
    http_port: Annotated[Optional[int], _setting("OTLP/HTTP port (/v1/traces, /v1/logs, /v1/metrics, /healthz, "
                                                 f"/metrics) {_default('http_port')}.")] = None,
    grpc_port: Annotated[Optional[int], _setting(f"OTLP/gRPC port {_default('grpc_port')}.")] = None,
    sql_port: Annotated[Optional[int], _setting("Read-only SQL endpoint (ClickHouse HTTP interface) "
                                                f"{_default('sql_port')}.")] = None,
    config: Config = None,
    flush_interval: Annotated[Optional[float], _setting("Seconds rows may wait to be batched "
                                                        f"{_default('flush_interval')}.")] = None,
    spool_dir: Annotated[Optional[Path], _setting(
        "Durable spool: every accepted request is fsync'd here before the answer "
        "(default DATA_DIR/spool; with --clickhouse-url, a folder in the user data dir).")] = None,
    allow_insecure_listen: Annotated[
        bool, typer.Option(help="Listen beyond loopback without authentication (only behind a proxy that authenticates).")
    ] = False,
    tokens_file: Annotated[Optional[Path], _setting(
        "Require tokens: this file's (hashed) tokens, from `aitrail token create`; re-read when it changes.",
        envvar=environment.AITRAIL_TOKENS_FILE)] = None,
    tls_cert: Annotated[Optional[Path], _setting("TLS certificate chain (PEM) for OTLP/HTTP, OTLP/gRPC and SQL.")] = None,
    tls_key: Annotated[Optional[Path], _setting("The TLS certificate's private key (PEM).")] = None,
) -> None:
    """Run the collector: receive OTLP from SDKs and assistants, store it in ClickHouse, serve read-only SQL.

    Point an assistant at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318.

    The options here are the common settings; docs/configuration.md lists all of them (for --config). \
The command line wins over environment variables, which win over the file, which wins over the defaults.
    """
    _server_extra()
    from aitrail.collector import repeats
    from aitrail.collector.config import load
    from aitrail.collector.server import serve as run

    repeats.install(level=logging.WARNING)

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
        output.fail(f"cannot listen: {exc.strerror or exc}", "choose free ports with --http-port/--grpc-port/--sql-port")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read-only statement, e.g. \"SELECT team, count() FROM aitrail.ai_generations GROUP BY team\".")],
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    config: Config = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table for people, csv or json for scripts.")] = OutputFormat.table,
    sql_url: SqlUrl = None,
    token: Token = None,
) -> None:
    """Run read-only SQL against the store, through the collector that owns it or directly when none does."""
    _server_extra()
    from aitrail.collector.query import read_only_query

    fmt = {OutputFormat.table: "JSONCompactEachRowWithNames", OutputFormat.csv: "CSVWithNames", OutputFormat.json: "JSONEachRow"}[format]
    try:
        location = _location(data_dir, clickhouse_url, config)
        data = read_only_query(location, query, fmt, sql_url=sql_url, token=token)
    except AitrailError as exc:
        _explain(exc)
        return
    if sql_url is None:
        _note_unstored(location)
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
    config: Config = None,
    sql_url: SqlUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """AI usage by team and by assistant: generations, people, tokens, cost, lines written.

    With a tenant's token, the usage of that tenant only.
    """
    _server_extra()
    from aitrail.cli.output import print_usage
    from aitrail.dashboards.reports import usage_summary

    try:
        location = _location(data_dir, clickhouse_url, config)
        summary = usage_summary(location, days, sql_url, token)
    except AitrailError as exc:
        _explain(exc)
        return
    if as_json:
        output.print_json(summary)
    elif any(summary.values()):
        print_usage(summary)
    else:
        output.errors.print(
            f"no AI activity stored in the last {days} days yet. Send some: start `aitrail serve`, then run an "
            "assistant with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 or under `aitrail wrap -- ...` "
            "(README: quick start); `aitrail demo` shows it with made-up data.", highlight=False)
    if sql_url is None:
        _note_unstored(location)


@app.command()
def migrate(
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    config: Config = None,
    status: Annotated[bool, typer.Option("--status", help="Only show applied and pending migrations; change nothing.")] = False,
    as_json: Json = False,
) -> None:
    """Bring the store's schema up to this version of aitrail (the collector also does this on start)."""
    _server_extra()
    from aitrail.collector.store import open_store
    from aitrail.collector.store.schema import applied_versions, known_migrations, migrate as run_migrations

    try:
        location = _location(data_dir, clickhouse_url, config)
        if status and location.data_dir is not None and not location.data_dir.is_dir():
            applied: set = set()  # nothing there yet; reading the status never creates a store
        else:
            with open_store(location, migrate=False) as store:
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
    several teams sent over real OTLP (HTTP and gRPC) and the usage it adds up to; then a real git repository
    where an AI writes a vulnerable line: Bandit's finding traced to the prompt and the people, `aitrail check`
    before and after the sign-offs, and the team report."""
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
    config: Config = None,
    days: Annotated[float, typer.Option(min=0.01, help="How far back to look, in days (events of prompts older than this are not joined).")] = 1.0,
    as_json: Json = False,
) -> None:
    """Turn the native telemetry of AI assistants (Claude Code, Codex, Gemini CLI), and GenAI calls whose messages
    came as log records, already stored into generations.

    A running collector does this by itself every few seconds; run this over history, or for a ClickHouse
    server filled by another writer (the OpenTelemetry Collector). Rows already derived are never derived again.
    """
    _server_extra()
    from aitrail.collector.derive import Window, derive_once
    from aitrail.collector.store import open_store

    try:
        with open_store(_location(data_dir, clickhouse_url, config)) as store:
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
    """The ``aitrail`` program. Click's own usage errors (an unknown option, a missing argument) are said like
    every other error — one line that is never wrapped, and a hint — not in a panel cut to the terminal's width."""
    import sys

    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # click's exceptions, as typer ships them: a usage error carries its command
        context = getattr(exc, "ctx", None)
        hint = f"`{context.command_path} --help` shows what it takes" if context is not None else None
        _exit_with(exc.format_message(), hint, exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _exit_with(message: str, hint: Optional[str], code: int) -> None:
    try:
        output.fail(message, hint, code)
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None


from aitrail.cli import developer as _developer  # noqa: E402
_developer.register(app)

from aitrail.cli import tokens as _tokens  # noqa: E402
_tokens.register(app)

from aitrail.cli import linkage as _linkage  # noqa: E402
_linkage.register(app)
from aitrail.cli import interop as _interop  # noqa: E402
_interop.register(app)
from aitrail.cli import accountability as _accountability  # noqa: E402
_accountability.register(app)
from aitrail.cli import dashboards as _dashboards  # noqa: E402
_dashboards.register(app)
