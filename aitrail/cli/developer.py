"""Developer-side commands: ``aitrail wrap`` around any assistant, ``aitrail hook`` for commit attribution.

Registered on the main app by :func:`register`; each command calls one library
function (:mod:`aitrail.sdk.wrap`, :mod:`aitrail.sdk.hooks`) and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.markup import escape

from aitrail.cli import output

WRAP_FLUSH_TIMEOUT = 2.0
"""Seconds ``aitrail wrap`` waits, after the assistant exits, for the generations to be sent."""

RepoOption = Annotated[
    Path, typer.Option("--repo", help="A path inside the repository (default: the current directory).", show_default=False)
]


def wrap(
    command: Annotated[
        List[str],
        typer.Argument(help="The assistant's command line, e.g. -- claude -p \"add input validation\".", show_default=False),
    ],
    prompt: Annotated[
        Optional[str], typer.Option(help="The prompt (default: read from the assistant's arguments when it has one there).")
    ] = None,
    assistant: Annotated[
        Optional[str], typer.Option(help="Assistant name (default: from the command: claude -> claude-code, gemini -> gemini-cli, ...; "
                                    "a shell or interpreter such as sh or python gives unknown).")
    ] = None,
    model: Annotated[Optional[str], typer.Option(help="The model (default: the assistant's --model argument, if any).")] = None,
) -> None:
    """Run any command-line AI assistant and record what it changed in the git working tree.

    aitrail wrap -- claude -p "add input validation"

    The working tree is read before and after (never modified: no stash, no
    index change); each changed file becomes a generation, with the lines the
    run added. Changes already there before the run are not attributed. The
    assistant's input, output and exit status pass through unchanged; its
    native OpenTelemetry is pointed at the same collector and correlated
    (OTEL_EXPORTER_OTLP_*, TRACEPARENT, OTEL_RESOURCE_ATTRIBUTES), never
    overriding a variable you set yourself.
    """
    from aitrail.sdk.hooks import deliver, release, undelivered
    from aitrail.sdk.wrap import wrap as run_wrapped

    status = run_wrapped(command, prompt=prompt, assistant=assistant, model=model)
    try:
        if not deliver(WRAP_FLUSH_TIMEOUT):
            output.errors.print("[yellow]aitrail:[/] " + escape(
                f"the run's record could not be sent yet (is the collector running?): {undelivered()}"))
    finally:
        release()
    raise typer.Exit(status)


hook_app = typer.Typer(
    help=(
        "Git hooks that attribute each commit's added lines to AI or human, by fingerprint, against the local "
        "journal of generations. Blank and trivial lines have no fingerprint and count on neither side."
    ),
    no_args_is_help=True,
)


def _report(changes) -> None:  # noqa: ANN001
    for change in changes:
        output.say(escape(f"{change.hook}: {change.action} ({change.path})"))


@hook_app.command("install")
def hook_install(
    trailer: Annotated[
        bool,
        typer.Option("--trailer", help="Also add 'AI-Assisted: <ai>/<added> lines (<assistants>)' to commit messages."),
    ] = False,
    pre_push: Annotated[
        bool, typer.Option("--pre-push", help="Also run `aitrail check` before each push, stopping a push that misses sign-offs.")
    ] = False,
    repo: RepoOption = Path("."),
) -> None:
    """Install the post-commit hook (prepare-commit-msg with --trailer, pre-push with --pre-push), respecting core.hooksPath.

    A hook already there is kept byte for byte as <name>.pre-aitrail and runs first.
    """
    from aitrail.errors import HookError, NotInRepository
    from aitrail.sdk.hooks import install

    try:
        _report(install(repo, trailer=trailer, pre_push=pre_push))
    except NotInRepository as exc:
        output.fail(str(exc), "run it inside a git working tree, or pass --repo with a path inside one")
    except HookError as exc:
        output.fail(str(exc))


@hook_app.command("uninstall")
def hook_uninstall(repo: RepoOption = Path(".")) -> None:
    """Remove aitrail's hooks, putting back the hooks that were there before, byte for byte."""
    from aitrail.errors import HookError
    from aitrail.sdk.hooks import uninstall

    try:
        _report(uninstall(repo))
    except HookError as exc:
        output.fail(str(exc))


@hook_app.command("status")
def hook_status(repo: RepoOption = Path(".")) -> None:
    """Which hooks are aitrail's (and whether they chain an original)."""
    from aitrail.errors import HookError
    from aitrail.sdk.hooks import hooks_dir, status

    try:
        directory, found = hooks_dir(repo), status(repo)
    except HookError as exc:
        output.fail(str(exc))
        return
    output.say(escape(f"hooks directory: {directory}"))
    for hook, state in found.items():
        output.say(escape(f"{hook}: {state}"))


@hook_app.command(
    "run", context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True}
)
def hook_run(
    hook: Annotated[str, typer.Argument(help="post-commit, prepare-commit-msg or pre-push.")],
    args: Annotated[Optional[List[str]], typer.Argument(help="The arguments git gives the hook.", show_default=False)] = None,
) -> None:
    """Run a hook now, as git would (the installed hooks do this). Never fails (errors go to standard error), but
    pre-push exits 1 to stop a push that misses what the policy asks."""
    from aitrail.sdk.hooks import release, run_hook

    try:
        code = run_hook(hook, args or [])
    finally:
        release()
    raise typer.Exit(code)


def flush(
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to keep sending before giving up.")] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Send the records kept on this machine because the collector could not be reached (the outbox).

    aitrail wrap, the commit hook and the SDK keep what they could not send (bounded, oldest dropped first) and
    the next run sends it; this sends it now, to where the SDK sends (OTEL_EXPORTER_OTLP_ENDPOINT, default
    http://127.0.0.1:4318).
    """
    from aitrail.sdk.outbox import Outbox
    from aitrail.sdk.runtime import Settings, send_outbox

    outbox = Outbox()
    batches, spans = send_outbox(outbox, Settings(), timeout)
    state, dropped = outbox.state(), outbox.take_dropped()
    result = {"sent_spans": spans, "waiting_spans": state.spans, "dropped_spans": dropped, "outbox": str(outbox.directory)}
    if as_json:
        output.print_json(result)
        return
    output.say(escape(f"sent {spans} span(s) in {batches} batch(es); {state.spans} waiting in {outbox.directory}")
               + (escape(f"; {dropped} dropped earlier, the outbox being full") if dropped else ""))
    if state.spans:
        output.fail("the collector did not take everything", "start it (`aitrail serve`), then run `aitrail flush` again")


def register(app: typer.Typer) -> None:
    """Add ``wrap``, ``flush`` and the ``hook`` group to the aitrail command line."""
    app.command(
        "wrap",
        context_settings={"allow_interspersed_args": False},
        no_args_is_help=True,
    )(wrap)
    app.command("flush")(flush)
    app.add_typer(hook_app, name="hook")


if __name__ == "__main__":
    _app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    register(_app)
    _app()
