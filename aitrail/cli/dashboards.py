"""``aitrail dashboards``: build the Grafana dashboards, push them to a Grafana, or write the HTML report (an alias of
``aitrail report --html``: one implementation)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from aitrail.cli import output
from aitrail.cli.options import ClickHouseUrl, DataDir, Json, SqlUrl, Token
from aitrail.errors import AitrailError
from aitrail.sdk import environment

app = typer.Typer(
    help="Grafana dashboards and the HTML report: the same panels, defined once.",
    no_args_is_help=True,
)


def _needs(module: str) -> None:
    """The server extra brings the Grafana libraries; a light install says what to install instead of failing."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        output.fail("this command needs the server parts", "pip install 'aitrail[server]'")


@app.command()
def build(
    out: Annotated[Path, typer.Option(help="Folder to write the dashboard JSON files into (Grafana provisioning "
                                           "loads deploy/grafana/dashboards).")] = Path("deploy/grafana/dashboards"),
    as_json: Json = False,
) -> None:
    """Write every dashboard as Grafana JSON, one file each (for file provisioning or the Grafana UI's import)."""
    _needs("grafana_foundation_sdk")
    from aitrail.dashboards.grafana import build as run

    try:
        written = run(out)
    except OSError as exc:
        output.fail(f"cannot write into {out}: {exc.strerror or exc}", "choose a folder you may write with --out")
        return
    if as_json:
        output.print_json([str(p) for p in written])
    else:
        output.print_table("dashboards written", ["file"], [[str(p)] for p in written])


@app.command()
def push(
    grafana_url: Annotated[str, typer.Option(envvar=environment.AITRAIL_GRAFANA_URL,
                                             help="Grafana's root address, e.g. https://grafana.example.com.")],
    token: Annotated[str, typer.Option(envvar=environment.AITRAIL_GRAFANA_TOKEN,
                                       help=f"A Grafana service account token (better: set "
                                            f"{environment.AITRAIL_GRAFANA_TOKEN}).")],
    team: Annotated[Optional[list[str]], typer.Option(
        "--team", help="Push a folder for this team (repeat for several): its dashboards filtered to the team, "
                       "viewable by the Grafana team of that name. Default: one folder 'aitrail'.")] = None,
    as_json: Json = False,
) -> None:
    """Upload the dashboards to a Grafana server: a folder per team, idempotent (a second push changes nothing)."""
    _needs("grafana_client")
    from aitrail.dashboards.push import push as run

    try:
        changes = run(grafana_url, token, team or ())
    except AitrailError as exc:
        output.fail(str(exc))
        return
    if as_json:
        output.print_json([change.__dict__ for change in changes])
        return
    output.print_table("dashboards push", ["what", "name", "action", "detail"],
                       [[c.kind, c.name, c.action, c.detail] for c in changes])
    changed = sum(c.action in ("created", "updated") for c in changes)
    output.console.print(f"{changed} changed, {len(changes) - changed} unchanged or skipped"
                         + (" — Grafana already had everything" if not changed else ""))


@app.command()
def html(
    file: Annotated[Path, typer.Argument(help="Where to write the report, e.g. report.html.")],
    days: Annotated[int, typer.Option(min=1, help="How many UTC days back to look, today included.")] = 30,
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    sql_url: SqlUrl = None,
    token: Token = None,
) -> None:
    """The HTML report of the last DAYS UTC days: `aitrail report --html FILE` (which also takes --since, --until,
    --team, --repo, --by) under the dashboards' name."""
    from aitrail.cli import _server_extra
    from aitrail.cli.accountability import write_html
    from aitrail.dashboards.macros import TimeRange

    _server_extra()
    write_html(file, TimeRange.last_days(days), {}, data_dir, clickhouse_url, sql_url, token)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="dashboards")
