"""Linkage commands: ``findings``, ``incidents``, ``blame`` and ``who`` — from a line to the prompt and the people.

Each command calls one library function (:mod:`aitrail.linkage`, :func:`aitrail.collector.imports.deliver`) and
prints; a file refused on import exits with status 2 and the JSON path of what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, List, Optional

import typer

from aitrail.cli import output
from aitrail.cli.options import ClickHouseUrl, DataDir, Endpoint, IngestToken, Json, SqlUrl, Token
from aitrail.errors import AitrailError

RepoPath = Annotated[
    Optional[Path],
    typer.Option("--repo", help="The repository the file's paths are relative to (default: the current directory).",
                 show_default=False),
]
findings_app = typer.Typer(help="Scanner findings: import SARIF, list them with the origin of their lines, show one's chain.",
                           no_args_is_help=True)
incidents_app = typer.Typer(help="Incidents: what broke, what it cost, and the lines and findings behind it.",
                            no_args_is_help=True)


def _fail(exc: AitrailError) -> None:
    from aitrail.cli import _explain

    _explain(exc)


def _server_extra() -> None:
    from aitrail.cli import _server_extra as check

    check()


def _reader(data_dir: Optional[Path], clickhouse_url: Optional[str], sql_url: Optional[str], token: Optional[str]) -> Any:
    from aitrail.cli import _location
    from aitrail.linkage.chain import Reader

    return Reader(_location(data_dir, clickhouse_url), sql_url, token)


def _deliver(records: list[Any], data_dir: Optional[Path], clickhouse_url: Optional[str], endpoint: Optional[str],
             token: Optional[str]) -> Any:
    from aitrail.cli import _location
    from aitrail.collector.imports import deliver

    return deliver(records, _location(data_dir, clickhouse_url), endpoint, token)


@findings_app.command("import")
def findings_import(
    file: Annotated[Path, typer.Argument(help="A SARIF 2.1.0 file (bandit -f sarif, semgrep --sarif, CodeQL...).")],
    repo: RepoPath = None,
    commit: Annotated[Optional[str], typer.Option(help="The commit that was scanned: lines are read from it (default: "
                                                       "HEAD, lines from the working tree).")] = None,
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, endpoint: Endpoint = None, token: IngestToken = None,
    as_json: Json = False,
) -> None:
    """Import a scanner's SARIF: each result becomes a finding on a file and lines of the repository.

    Re-importing the same file adds nothing; a result whose location cannot be resolved is kept and marked
    unresolved. Bad SARIF is refused as a whole (exit status 2) with the JSON path of what is wrong.
    """
    _server_extra()
    from aitrail.linkage.sarif import Target, read_sarif

    try:
        imported = read_sarif(file, Target.of(repo, commit))
        done = _deliver(list(imported.records), data_dir, clickhouse_url, endpoint, token)
    except AitrailError as exc:
        _fail(exc)
        return
    summary = {"results": imported.results, "findings": len(imported.records), "unresolved": imported.unresolved,
               "via": done.via, "target": done.target}
    if as_json:
        output.print_json(summary)
    else:
        output.errors.print(f"{imported.results} results: {len(imported.records)} findings "
                            f"({imported.unresolved} unresolved), sent to the {done.via} at {done.target}")


_LIST_COLUMNS = ("finding_id", "severity", "source", "rule", "file_path", "line_start", "origin", "assistant", "model",
                 "user_email", "team", "introduced_commit")


@findings_app.command("list")
def findings_list(
    team: Annotated[Optional[str], typer.Option(help="Only findings on lines this team's generations wrote (or the finding's team).")] = None,
    repo: Annotated[Optional[str], typer.Option("--repo", help="Only this repository (its URL as recorded).")] = None,
    severity: Annotated[Optional[str], typer.Option(help="critical, high, medium, low or info.")] = None,
    origin: Annotated[Optional[str], typer.Option(help="ai (a generation wrote the line) or human.")] = None,
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, sql_url: SqlUrl = None, token: Token = None,
    as_json: Json = False,
) -> None:
    """Findings, most severe first, each with the origin of its line: the generation that wrote it, or human."""
    _server_extra()
    from aitrail.linkage.chain import findings

    if origin not in (None, "ai", "human"):
        output.fail(f"--origin {origin!r}: use ai or human", code=2)
    try:
        rows = findings(_reader(data_dir, clickhouse_url, sql_url, token), team=team or "", repository=repo or "",
                        severity=severity or "", origin=origin or "")
    except AitrailError as exc:
        _fail(exc)
        return
    if as_json:
        output.print_json(rows)
    else:
        short = ("finding_id", "introduced_commit")  # ids are long; `findings show` takes a unique prefix
        output.print_table("findings", _LIST_COLUMNS, [[r[c][:12] if c in short else r[c] for c in _LIST_COLUMNS]
                                                        for r in rows])


@findings_app.command("show")
def findings_show(
    finding_id: Annotated[str, typer.Argument(help="The finding's id, or a unique prefix of it (from `aitrail findings list`).")],
    repo: Annotated[Optional[Path], typer.Option("--repo", help="A working tree of the finding's repository, for CODEOWNERS (default: the current directory).")] = None,
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, sql_url: SqlUrl = None, token: Token = None,
    as_json: Json = False,
) -> None:
    """One finding's whole chain: line, introducing commit and author, generation(s), prompt, person, team,
    sign-offs and owners."""
    _server_extra()
    from aitrail.linkage.chain import finding_chain

    try:
        chain = finding_chain(_reader(data_dir, clickhouse_url, sql_url, token), finding_id, repo)
    except AitrailError as exc:
        _fail(exc)
        return
    if chain is None:
        output.fail(f"no finding {finding_id!r}", "list them with `aitrail findings list`")
    if as_json:
        output.print_json(chain)
    else:
        print_chain(chain)


def print_chain(chain: dict[str, Any]) -> None:
    f, g, c = chain["finding"], chain["generation"], chain["commit"]
    rows = [
        ["finding", f"{f['severity']} {f['source']} {f['rule']}: {f['message']}"],
        ["line", f"{f['file_path']}:{f['line_start']}  {f['line_text']}"],
        ["origin", chain["origin"]],
        ["commit", f"{c['commit'][:12]} by {c['author_email']}" if c["commit"] else "(not known)"],
    ]
    if g:
        rows += [["generation", f"{g['generation_id']} at {g['time']}"],
                 ["assistant / model", f"{g['assistant']} / {g['model']}"],
                 ["prompt", g["prompt"] or f"({g['prompt_policy']})"],
                 ["asked by", f"{g['user_email']} ({g['team']})"],
                 ["tokens / cost", f"{g['input_tokens']}+{g['output_tokens']} / ${g['cost_usd']:.4f}"
                                   + (" (estimated from the price table)" if g["cost_estimated"] else "")]]
    rows += [["other generations", ", ".join(o["generation_id"] for o in chain["other_generations"]) or "-"],
             ["sign-offs", ", ".join(f"{s['role']} {s['signer_email']}" for s in c["signoffs"]) or "-"],
             ["owners", " ".join(chain["owners"]) or "-"]]
    output.print_table(f"finding {f['finding_id']}", ["", ""], rows)


@incidents_app.command("add")
def incidents_add(
    title: Annotated[str, typer.Option(help="What happened.")],
    severity: Annotated[str, typer.Option(help="critical, high, medium, low or info.")],
    detected: Annotated[str, typer.Option(help="When it was detected, ISO 8601 (2026-11-02T10:15:00Z).")],
    cost_usd: Annotated[float, typer.Option(min=0, help="What it cost, in US dollars.")] = 0.0,
    location: Annotated[Optional[List[str]], typer.Option(help="FILE:LINE it points at (repeatable).")] = None,
    commit: Annotated[Optional[List[str]], typer.Option(help="A commit it points at (repeatable).")] = None,
    finding: Annotated[Optional[List[str]], typer.Option(help="A finding id it groups (repeatable).")] = None,
    incident_id: Annotated[Optional[str], typer.Option("--id", help="The ticket's id (default: derived from title and time).")] = None,
    repo: RepoPath = None,
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, endpoint: Endpoint = None, token: IngestToken = None,
    as_json: Json = False,
) -> None:
    """Record an incident; its lines are fingerprinted from the repository, so they link to their generations."""
    _server_extra()
    from aitrail.linkage.incidents import Where, build

    fields = {"title": title, "severity": severity, "detected": detected, "cost_usd": cost_usd, "id": incident_id,
              "locations": list(location or []), "commits": list(commit or []), "findings": list(finding or [])}
    try:
        record = build(fields, Where.of(repo), "incident")
        done = _deliver([record], data_dir, clickhouse_url, endpoint, token)
    except AitrailError as exc:
        _fail(exc)
        return
    if as_json:
        output.print_json({"incident_id": record.id, "via": done.via, "target": done.target})
    else:
        output.errors.print(f"incident {record.id} sent to the {done.via} at {done.target}")


@incidents_app.command("import")
def incidents_import(
    file: Annotated[Path, typer.Argument(help="A JSON ticket export: a list of incidents (shape in docs/linkage.md).")],
    repo: RepoPath = None,
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, endpoint: Endpoint = None, token: IngestToken = None,
    as_json: Json = False,
) -> None:
    """Import incidents from a ticket export; refused as a whole (exit status 2) with the JSON path of a defect."""
    _server_extra()
    from aitrail.linkage.incidents import Where, read_incidents

    try:
        records = read_incidents(file, Where.of(repo))
        done = _deliver(records, data_dir, clickhouse_url, endpoint, token)
    except AitrailError as exc:
        _fail(exc)
        return
    if as_json:
        output.print_json({"incidents": len(records), "via": done.via, "target": done.target})
    else:
        output.errors.print(f"{len(records)} incidents sent to the {done.via} at {done.target}")


@incidents_app.command("list")
def incidents_list(
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, sql_url: SqlUrl = None, token: Token = None,
    as_json: Json = False,
) -> None:
    """Incidents, most recent first."""
    _server_extra()
    from aitrail.linkage.incidents import incidents

    try:
        rows = incidents(_reader(data_dir, clickhouse_url, sql_url, token))
    except AitrailError as exc:
        _fail(exc)
        return
    columns = ("incident_id", "detected_at", "severity", "status", "cost_usd", "title")
    if as_json:
        output.print_json(rows)
    else:
        output.print_table("incidents", columns, [[r[c] for c in columns] for r in rows])


@incidents_app.command("show")
def incidents_show(
    incident_id: Annotated[str, typer.Argument(help="The incident's id.")],
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, sql_url: SqlUrl = None, token: Token = None,
    as_json: Json = False,
) -> None:
    """An incident, its lines and findings with their origin, and its cost attributed to the generations behind them."""
    _server_extra()
    from aitrail.linkage.incidents import incident_chain

    try:
        chain = incident_chain(_reader(data_dir, clickhouse_url, sql_url, token), incident_id)
    except AitrailError as exc:
        _fail(exc)
        return
    if chain is None:
        output.fail(f"no incident {incident_id!r}", "list them with `aitrail incidents list`")
    if as_json:
        output.print_json(chain)
        return
    i = chain["incident"]
    output.errors.print(f"[bold]{i['incident_id']}[/] {i['severity']} ${i['cost_usd']}: {i['title']}")
    output.print_table("lines", ["path", "line", "origin", "generation_id"],
                       [[x["path"], x["line"], x["origin"], x["generation_id"]] for x in chain["lines"]])
    output.print_table("generations behind it", ["generation_id", "assistant", "model", "user_email", "team", "attributed_cost_usd"],
                       [[g["generation_id"], g["assistant"], g["model"], g["user_email"], g["team"], g["attributed_cost_usd"]]
                        for g in chain["generations"]])


_BLAME_COLUMNS = ("line", "origin", "assistant", "model", "user_email", "commit", "text")


def blame(
    path: Annotated[Path, typer.Argument(help="A file in a git repository.")],
    rev: Annotated[Optional[str], typer.Option(help="Blame the file as of this revision (default: the working tree).")] = None,
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, sql_url: SqlUrl = None, token: Token = None,
    as_json: Json = False,
) -> None:
    """Per line, like `git blame`: AI (which generation, assistant, model, prompt, person, team) or human.

    --json prints one object per line: line, text, origin, and for AI lines generation_id, assistant, model,
    prompt, user_email, team, time.
    """
    _server_extra()
    from aitrail.linkage.chain import blame_file

    try:
        lines = blame_file(_reader(data_dir, clickhouse_url, sql_url, token), path, rev)
    except AitrailError as exc:
        _fail(exc)
        return
    if as_json:
        output.print_json(lines)
    else:
        output.print_table(str(path), _BLAME_COLUMNS,
                           [[x.get(c, "")[:12] if c == "commit" else x.get(c, "") for c in _BLAME_COLUMNS] for x in lines])


def who(
    text: Annotated[Optional[str], typer.Argument(help="The line's text (white space around it does not matter).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Or: the file ...")] = None,
    line: Annotated[Optional[int], typer.Option("--line", min=1, help="... and its line number.")] = None,
    rev: Annotated[Optional[str], typer.Option(help="With --file: the file as of this revision.")] = None,
    repo: Annotated[Optional[str], typer.Option("--repo", help="With a text: only this repository (its URL as recorded).")] = None,
    data_dir: DataDir = None, clickhouse_url: ClickHouseUrl = None, sql_url: SqlUrl = None, token: Token = None,
    as_json: Json = False,
) -> None:
    """Who wrote this line? The generation(s) that wrote it, the prompt, the person and the team — or human."""
    _server_extra()
    from aitrail.linkage.chain import who_line, who_text

    if (text is None) == (file is None) or (file is not None and line is None):
        output.fail("give the line's text, or --file PATH --line N", "aitrail who 'subprocess.call(cmd, shell=True)'",
                    code=2)
    try:
        reader = _reader(data_dir, clickhouse_url, sql_url, token)
        entry = who_text(reader, text, repo or "") if text is not None else who_line(reader, file, line, rev)
    except AitrailError as exc:
        _fail(exc)
        return
    if as_json:
        output.print_json(entry)
        return
    output.errors.print(f"origin: [bold]{entry['origin']}[/]")
    output.print_table("generations that wrote it", ["generation_id", "time", "assistant", "model", "user_email", "team", "prompt"],
                       [[g["generation_id"], g["time"], g["assistant"], g["model"], g["user_email"], g["team"], g["prompt"]]
                        for g in entry.get("generations", [])])


def register(app: typer.Typer) -> None:
    """Add ``findings``, ``incidents``, ``blame`` and ``who`` to the aitrail command line."""
    app.add_typer(findings_app, name="findings")
    app.add_typer(incidents_app, name="incidents")
    app.command("blame")(blame)
    app.command("who")(who)
