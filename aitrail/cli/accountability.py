"""Accountability commands: ``aitrail signoff``, ``aitrail check``, ``aitrail report``.

Each calls the library (:mod:`aitrail.sdk.accountability`, :mod:`aitrail.dashboards.team_report`) and
prints; a wrong argument or policy is one red line and exit status 2, as for any usage error.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, List, Optional, Union

import typer

from aitrail.cli import output
from aitrail.cli.developer import RepoOption
from aitrail.cli.options import ClickHouseUrl, DataDir, Endpoint, IngestToken, Json, SqlUrl, Token
from aitrail.errors import AitrailError, ConfigError, UsageError

USAGE = 2
"""Exit status of a usage error (a wrong argument, a bad policy file), as typer's own."""


def _root(repo: Path) -> Path:
    from aitrail.sdk.git import git_context

    ctx = git_context(repo)
    if ctx is None:
        output.fail(f"{repo.resolve()} is not in a git repository", "run it inside the repository, or pass --repo",
                    code=USAGE)
    return ctx.root  # type: ignore[union-attr]


def _policy(root: Path, spec: Union[str, List[str]]):  # noqa: ANN202
    """The policy in force for ``spec``'s commits (committed where they start), or exit 2 naming what is wrong."""
    from aitrail.sdk.accountability.check import policy_in_force

    try:
        return policy_in_force(root, spec)
    except ConfigError as exc:
        output.fail(str(exc), "fix the file in a commit of its own, which then applies to the commits after it "
                    "(docs/accountability.md lists every key)", code=USAGE)


def signoff(
    target: Annotated[str, typer.Argument(help="A commit or range (HEAD, main..HEAD); or `import` to read a review export.",
                                          show_default=False)],
    export: Annotated[Optional[Path], typer.Argument(help="With `import`: GitHub's pull request reviews API JSON.",
                                                     show_default=False)] = None,
    role: Annotated[Optional[str], typer.Option(help="reviewer or approver.", show_default=False)] = None,
    answer: Annotated[Optional[List[str]], typer.Option(
        "--answer", help="A checklist answer KEY=yes|no|n/a (repeat it; keys in `.aitrail/policy.toml`).",
        show_default=False)] = None,
    note: Annotated[str, typer.Option(help="A note kept with the sign-off.")] = "",
    commits: Annotated[Optional[Path], typer.Option(
        help="With `import`: the pull request's commits (GitHub's PR commits API JSON).", show_default=False)] = None,
    range_: Annotated[Optional[str], typer.Option(
        "--range", help="With `import`: the pull request's commits as a range (BASE..HEAD).", show_default=False)] = None,
    repo: RepoOption = Path("."),
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    endpoint: Endpoint = None,
    token: IngestToken = None,
    as_json: Json = False,
) -> None:
    """Sign off commits as reviewer or approver, with the AI checklist's answers; or import code host reviews.

    aitrail signoff HEAD --role reviewer --answer tests=yes --answer secrets=yes

    aitrail signoff import reviews.json --commits pr-commits.json

    The signer is you, as the SDK resolves you (AITRAIL_USER_EMAIL, git config). Sign-offs are kept in
    the local sign-off journal (read by `aitrail check`) and sent as records: yours through the SDK (kept in
    its outbox while no collector answers); imported ones like every import, through the running collector
    (--endpoint, or the one owning the data directory) else straight into the store (--data-dir, --clickhouse-url).
    """
    from aitrail.sdk.accountability import signoff as so
    from aitrail.sdk.git import git_context

    root = _root(repo)
    repository = git_context(root).repository  # type: ignore[union-attr]
    try:
        if target == "import":
            if export is None:
                raise UsageError("name the review export: aitrail signoff import FILE --commits FILE|--range A..B")
            reviews = so.load_json(export)
            shas = so.pull_request_commits(root, commits, range_)
            policy = _policy(root, shas)
            people = {login: emails[0] for login, emails in policy.people.items() if emails}
            found = so.from_github_reviews(reviews, shas, policy.github_states, people, repository)
            so.SignoffJournal().append(found)
        else:
            if export is not None:
                raise UsageError(f"unexpected argument {str(export)!r}: sign off one revision or range at a time")
            if role is None:
                raise UsageError("say in which role you sign off: --role reviewer or --role approver")
            answers = so.parse_answers(answer or [])
            _known_questions(answers, _policy(root, target) if answers else None)
            found = so.from_cli(root, target, role, answers, note, repository)
            so.record(found)
    except AitrailError as exc:
        output.fail(str(exc), "see `aitrail signoff --help`", code=USAGE)
        return
    sent = True
    if target == "import":
        _deliver_imported(found, data_dir, clickhouse_url, endpoint, token)
    else:
        sent = _deliver_own()
    if as_json:
        output.print_json([{"signoff_id": s.id, "commit": s.commit, "role": s.role, "signer": s.signer_email or
                            s.signer_id, "identity_source": s.identity_source, "source": s.source,
                            "checklist": dict(s.checklist)} for s in found])
        return
    for s in found:
        output.console.print(f"{s.role} {s.signer_email or s.signer_id} signed off {s.commit[:12]} ({s.source}; "
                             f"identity: {s.identity_source})", highlight=False, soft_wrap=True)
    if not found:
        output.console.print("no sign-off in the export (only the states the policy's [github.states] names count)")
    if target == "import":
        output.console.print(f"policy: {policy.source}", highlight=False, soft_wrap=True)
    if found and not sent:
        output.errors.print("[yellow]aitrail:[/] recorded locally; the collector could not be reached yet")


def _known_questions(answers: dict, policy: Any) -> None:  # noqa: ANN001
    """Refuse an answer to a question the policy does not ask (a misspelt key would leave the question unanswered)."""
    unknown = sorted(set(answers) - set(policy.checklist)) if policy is not None else []
    if unknown:
        raise UsageError(f"checklist answer {unknown[0]!r}: the policy asks no such question; its keys: "
                         f"{', '.join(policy.checklist)} ({policy.source})")


def _deliver_own() -> bool:
    """Flush the SDK (a developer's own sign-off); False when the collector could not be reached yet."""
    from aitrail.sdk.hooks import deliver, release

    try:
        return deliver()
    finally:
        release()


def _deliver_imported(found: List[Any], data_dir: Optional[Path], clickhouse_url: Optional[str],
                      endpoint: Optional[str], token: Optional[str]) -> None:
    """Imported sign-offs through the shared import delivery: a running collector, else the store directly (all
    or nothing; an error ends the command saying why, the sign-offs being in the local journal already). Sending
    to a named collector (``--endpoint``) needs no server parts: a CI job installs just ``aitrail``."""
    from aitrail.cli import _explain, _location, _server_extra
    from aitrail.collector.imports import deliver

    if endpoint is None:
        _server_extra()
    try:
        deliver([s.record() for s in found], _location(data_dir, clickhouse_url), endpoint, token)
    except AitrailError as exc:
        output.errors.print("[yellow]aitrail:[/] the sign-offs are in the local sign-off journal; run the import "
                            "again to send them (nothing is stored twice)")
        _explain(exc)


def check(
    range_: Annotated[Optional[str], typer.Argument(
        metavar="RANGE", help="Commits to check: a range (origin/main..HEAD) or one revision. Default: what the "
        "branch adds to its upstream, else HEAD.", show_default=False)] = None,
    repo: RepoOption = Path("."),
    sql_url: SqlUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Check that every AI-written change of a range has the sign-offs, owner and checklist the policy asks.

    Exit status 0 when every commit meets `.aitrail/policy.toml` (or the defaults), 1 with the list of
    what is missing, 2 on a usage error. The policy is the one committed where the range starts (the left
    side of A..B, the parent of one revision), never the working tree: a commit cannot weaken the policy it
    is checked against; the last line (and --json's "policy") says which file and commit were read. Works
    offline (the repository, its trailers, the local journals); with --sql-url (or AITRAIL_SQL_URL) it also
    uses the collector's commits and sign-offs.
    """
    from aitrail.sdk.accountability.check import Evidence, check as run_check, collector_evidence, default_range, describe
    from aitrail.sdk.accountability.history import resolve_commits

    root = _root(repo)
    spec = range_ or default_range(root)
    try:
        shas = resolve_commits(root, spec)
    except UsageError as exc:
        output.fail(str(exc), "see `aitrail check --help`", code=USAGE)
        return
    policy = _policy(root, spec)
    evidence = Evidence()
    if sql_url:
        try:
            evidence = collector_evidence(shas, sql_url, token)
        except AitrailError as exc:
            output.errors.print(f"[yellow]aitrail:[/] checking offline: {exc}", highlight=False)
        except ImportError:
            output.errors.print("[yellow]aitrail:[/] checking offline: reading the collector needs "
                                "pip install 'aitrail[server]'", highlight=False)
    result = run_check(root, shas, policy, evidence)
    if as_json:
        output.print_json(result.as_json())
    else:
        for line in describe(result):
            output.console.print(line, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(0 if result.ok else 1)


class By(str, Enum):
    team = "team"
    person = "person"
    repository = "repository"


def report(
    team: Annotated[str, typer.Option(help="Only this team.")] = "",
    repo: Annotated[str, typer.Option("--repo", help="Only this repository (its URL as recorded).")] = "",
    since: Annotated[Optional[datetime], typer.Option(help="From this day or time (UTC unless it says); default 30 days "
                                                       "before --until.", show_default=False)] = None,
    until: Annotated[Optional[datetime], typer.Option(help="Up to this day or time (default now).", show_default=False)] = None,
    by: Annotated[By, typer.Option(help="One row per team, person or repository.")] = By.team,
    data_dir: DataDir = None,
    clickhouse_url: ClickHouseUrl = None,
    sql_url: SqlUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Each team's AI use, cost, risk and sign-off gaps: people, generations, AI share of committed lines,
    tokens and cost (estimated part), findings per thousand lines in AI versus human code, findings caught
    at generation time, incidents traced to AI code, AI changes lacking sign-off, checklist completion."""
    from aitrail.cli import _location, _explain, _server_extra
    from aitrail.dashboards.team_report import team_report
    from aitrail.sdk.accountability.policy import DEFAULT_CHECKLIST

    _server_extra()
    try:
        found = team_report(_location(data_dir, clickhouse_url), by.value, team, repo, _utc(since), _utc(until),
                            list(DEFAULT_CHECKLIST), sql_url, token)
    except AitrailError as exc:
        _explain(exc)
        return
    if as_json:
        output.print_json(found)
    else:
        print_report(found)


def _utc(moment: Optional[datetime]) -> Optional[datetime]:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def bar(share: Optional[float], width: int = 10) -> str:
    """A small bar chart of a share (0..1): ``███████░░░ 0.70``; ``-`` when there is nothing to divide."""
    if share is None:
        return "-"
    filled = round(max(0.0, min(share, 1.0)) * width)
    return f"{'█' * filled}{'░' * (width - filled)} {share:.2f}"


def print_report(found: dict) -> None:  # noqa: ANN001
    """The report as a table: a row per group, then the total."""
    by = found["by"]
    columns = [by, "people", "generations", "AI share of lines", "tokens", "cost USD (estimated)",
               "findings/KLOC AI vs human", "caught at generation", "AI incidents (cost USD)",
               "AI changes lacking sign-off", "checklist completion"]
    rows = []
    for row in [*found["groups"], {by: "total", **found["total"]}]:
        rate = lambda x: "-" if x is None else f"{x:g}"  # noqa: E731
        rows.append([
            row[by] or "(none)", row["people"], row["generations"], bar(row["ai_share"]), row["tokens"],
            f"{row['cost_usd']:.2f} ({row['cost_estimated_usd']:.2f})",
            f"{rate(row['findings_per_kloc_ai'])} vs {rate(row['findings_per_kloc_human'])}",
            row["caught_at_generation"], f"{row['incidents_ai']} ({row['incidents_ai_cost_usd']:.2f})",
            f"{row['ai_commits_lacking_signoff']} of {row['ai_commits']}", bar(row["checklist_completion"]),
        ])
    output.print_table(f"AI accountability by {by}, {found['since'][:10]} to {found['until'][:10]} (UTC)", columns, rows)


def register(app: typer.Typer) -> None:
    """Add ``signoff``, ``check`` and ``report`` to the aitrail command line."""
    app.command("signoff")(signoff)
    app.command("check")(check)
    app.command("report")(report)
