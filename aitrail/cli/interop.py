"""``aitrail import agent-trace|git-ai`` and ``aitrail export agent-trace``: attribution in and out.

Registered on the main app by :func:`register`; each command calls one function of :mod:`aitrail.interop`
and prints. A malformed record ends the command with exit status 2 and its location; nothing is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from aitrail.cli import output
from aitrail.cli.options import ClickHouseUrl, DataDir, Endpoint, IngestToken, Json, SqlUrl, Token

import_app = typer.Typer(
    help="Read AI attribution recorded by other tools: Agent Trace records, git-ai authorship notes.\n\n"
         "Imported generations and commits go through the running collector (--endpoint, or the one that owns the "
         "data directory), else straight into the store; re-importing sends nothing twice (see docs/interop.md).",
    no_args_is_help=True,
)
export_app = typer.Typer(help="Write aitrail's AI attribution in an open format (Agent Trace).", no_args_is_help=True)

DryRun = Annotated[bool, typer.Option("--dry-run", help="Read and check everything, send nothing; print the counts.")]


def _destination(dry_run: bool, data_dir: Optional[Path], clickhouse_url: Optional[str], sql_url: Optional[str],
                 token: Optional[str], endpoint: Optional[str] = None):  # noqa: ANN202
    if dry_run:
        return None
    from aitrail.cli import _location, _server_extra
    from aitrail.interop.spans import Destination

    _server_extra()
    return Destination(_location(data_dir, clickhouse_url), sql_url, token, endpoint)


def _run(work: Any, as_json: bool) -> None:
    from aitrail.cli import _explain
    from aitrail.errors import AitrailError, ConfigError

    try:
        summary = work()
    except ConfigError as exc:
        output.fail(str(exc))
        return
    except AitrailError as exc:
        _explain(exc)
        return
    if as_json:
        output.print_json(summary.as_dict())
        return
    title = f"{summary.source} import" + (" (dry run: nothing sent)" if summary.dry_run else "")
    output.print_table(title, ["", "count"], [[k.replace("_", " "), val] for k, val in summary.as_dict().items()
                                              if k not in ("source", "dry_run")])


@import_app.command("agent-trace")
def import_agent_trace(
    source: Annotated[Path, typer.Argument(help="A record file (JSON, a JSON array, or JSON Lines such as "
                                                 ".agent-trace/traces.jsonl) or a directory of them.")],
    repo: Annotated[Optional[Path], typer.Option(
        "--repo", help="The git repository the records are about: lines at each record's revision give the "
                       "fingerprints, its remote URL the repository (default: the repository around SOURCE).",
        show_default=False)] = None,
    dry_run: DryRun = False,
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    sql_url: SqlUrl = None,
    endpoint: Endpoint = None,
    token: IngestToken = None,
    as_json: Json = False,
) -> None:
    """Import Agent Trace records: their AI and mixed line ranges become generations."""
    from aitrail.interop.agent_trace import import_agent_trace as run

    _run(lambda: run(source, _destination(dry_run, data_dir, clickhouse_url, sql_url, token, endpoint), repo), as_json)


@import_app.command("git-ai")
def import_git_ai(
    rev_range: Annotated[Optional[str], typer.Argument(
        help="Only commits in this range (git rev-list syntax: main, v1.0..HEAD); default: every noted commit.",
        show_default=False)] = None,
    repo: Annotated[Path, typer.Option("--repo", help="A path inside the repository (default: the current directory).",
                                       show_default=False)] = Path("."),
    dry_run: DryRun = False,
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    sql_url: SqlUrl = None,
    endpoint: Endpoint = None,
    token: IngestToken = None,
    as_json: Json = False,
) -> None:
    """Import git-ai authorship notes (refs/notes/ai, authorship/3.0.0): each noted commit and its AI lines."""
    from aitrail.interop.git_ai import import_git_ai as run

    _run(lambda: run(str(repo), _destination(dry_run, data_dir, clickhouse_url, sql_url, token, endpoint), rev_range),
         as_json)


@export_app.command("agent-trace")
def export_agent_trace(
    since: Annotated[Optional[str], typer.Option(help="Only generations since: 7d, 12h, 2w, or a date (2026-01-31).",
                                                 show_default=False)] = None,
    repo: Annotated[Optional[str], typer.Option(
        "--repo", help="Only this repository: its URL as aitrail records it, or a path inside a local clone.",
        show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="A file (JSON Lines, one record a line: out.jsonl) or a directory (one <id>.json per record: "
                      "an existing directory, or a new path without a suffix); default: standard output.", show_default=False)] = None,
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    sql_url: SqlUrl = None,
    token: Token = None,
) -> None:
    """Export aitrail's generations that wrote lines as Agent Trace records (v0.1.0), one per generation and file."""
    from aitrail.cli import _explain
    from aitrail.errors import AitrailError
    from aitrail.interop.agent_trace import export_records, parse_since, write_records
    from aitrail.interop.lines import Repository

    try:
        since_ns = parse_since(since) if since else 0
        repository = repo or ""
        if repo and Path(repo).exists() and (found := Repository.around(repo)) is not None:
            repository = found.url
        records = export_records(_destination(False, data_dir, clickhouse_url, sql_url, token).read, since_ns, repository)
        lines = write_records(records, out)
    except AitrailError as exc:
        _explain(exc)
        return
    except OSError as exc:
        output.fail(f"cannot write {out}: {exc}", "choose another --out")
        return
    for line in lines:
        typer.echo(line)
    if out is not None:
        output.errors.print(f"{len(records)} Agent Trace records written to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
