"""``aitrail token``: create, list and revoke the collector's tokens (the tokens file keeps only their hashes).

Registered on the main app by :func:`register`; each command calls one
function of :mod:`aitrail.collector.tokens` and prints. Works with the light
install: no engine is needed to manage tokens.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.markup import escape

from aitrail.cli import output
from aitrail.errors import AitrailError
from aitrail.sdk import environment

if TYPE_CHECKING:
    from aitrail.collector.tokens import TokenEntry

token_app = typer.Typer(
    help=(
        "Tokens for `aitrail serve --tokens-file`: each names a tenant (and optionally a team) and its scopes — "
        "ingest (send OTLP), query (read the tenant's rows through the SQL endpoint), admin (read every tenant). "
        "The file keeps only SHA-256 hashes; a running collector picks up changes within a second."
    ),
    no_args_is_help=True,
)

TokensFile = Annotated[
    Optional[Path],
    typer.Option(
        "--tokens-file",
        envvar=environment.AITRAIL_TOKENS_FILE,
        help="The tokens file (JSON, or TOML if it ends in .toml); created if missing.",
        show_default=False,
    ),
]


def _file(tokens_file: Optional[Path]) -> Path:
    if tokens_file is None:
        output.fail("no tokens file", f"give --tokens-file FILE or set {environment.AITRAIL_TOKENS_FILE}")
        raise typer.Exit(2)
    return tokens_file.expanduser()


@token_app.command("create")
def create(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant its data belongs to (letters, digits, _ . : @ -).")],
    team: Annotated[
        Optional[str], typer.Option("--team", help="Fix the team too: what it sends is stamped with this team.")
    ] = None,
    scope: Annotated[
        str, typer.Option("--scope", help="Comma-separated scopes: ingest, query, admin.")
    ] = "ingest",
    note: Annotated[str, typer.Option("--note", help="A reminder of who or what holds it (stored as is).")] = "",
    expires: Annotated[
        Optional[str],
        typer.Option("--expires", help="Expire after this long: a number and s, m, h or d (e.g. 30d, 12h). Default: never.",
                     show_default=False),
    ] = None,
    tokens_file: TokensFile = None,
) -> None:
    """Create a token: prints the secret once (only its hash is stored) and how to use it."""
    from aitrail.collector.tokens import create_token, parse_duration

    path = _file(tokens_file)
    try:
        lifetime = parse_duration(expires) if expires is not None else None
        secret, entry = create_token(path, tenant, team, scope.split(","), note, lifetime)
    except AitrailError as exc:
        output.fail(str(exc))
        return
    typer.echo(secret)
    output.errors.print(
        f"[green]token {escape(entry.id)}[/] for tenant {escape(entry.tenant)}"
        + (f", team {escape(entry.team)}" if entry.team else "")
        + f", scopes {', '.join(entry.scopes)}"
        + (f", expires {_expiry(entry.expires)}" if entry.expires else "")
        + f"; stored as its hash in {escape(str(path))}.\n"
        "This secret is shown once. Senders: OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer%20<token>\"; "
        "SQL clients: the token as the password (`aitrail sql --token`, AITRAIL_TOKEN).",
        highlight=False,
    )


def _expiry(moment: Optional[datetime]) -> Optional[str]:
    """When a token expires as the file writes it, None for never."""
    from aitrail.collector.tokens import format_time

    return format_time(moment) if moment is not None else None


def _row(entry: TokenEntry, now: datetime) -> dict[str, Any]:
    """What `token list` says of one entry: everything but the hash, and whether it has expired."""
    return {
        "id": entry.id, "tenant": entry.tenant, "team": entry.team or "", "scopes": ",".join(entry.scopes),
        "created": entry.created, "expires": _expiry(entry.expires), "expired": entry.principal.expired(now),
        "note": entry.note,
    }


@token_app.command("list")
def list_tokens(
    tokens_file: TokensFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")] = False,
) -> None:
    """List the tokens (ids, tenants, teams, scopes; never secrets, which are not stored)."""
    from aitrail.collector.tokens import read_tokens_file

    path = _file(tokens_file)
    try:
        entries = read_tokens_file(path)
    except AitrailError as exc:
        output.fail(str(exc))
        return
    now = datetime.now(timezone.utc)
    rows = [_row(e, now) for e in entries]
    if as_json:
        output.print_json(rows)
    else:
        for row in rows:
            row["expires"] = (row["expires"] or "never") + (" (expired)" if row["expired"] else "")
        columns = ["id", "tenant", "team", "scopes", "created", "expires", "note"]
        output.print_table(f"tokens in {path}", columns, [[r[c] for c in columns] for r in rows])


@token_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id, as `aitrail token list` shows it.")],
    tokens_file: TokensFile = None,
) -> None:
    """Revoke a token: removed from the file, refused by running collectors within a second."""
    from aitrail.collector.tokens import revoke_token

    path = _file(tokens_file)
    try:
        entry = revoke_token(path, token_id)
    except AitrailError as exc:
        output.fail(str(exc))
        return
    output.errors.print(f"revoked {escape(entry.id)} (tenant {escape(entry.tenant)})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``token`` group to the aitrail command line."""
    app.add_typer(token_app, name="token")


if __name__ == "__main__":
    _app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    register(_app)
    _app()
