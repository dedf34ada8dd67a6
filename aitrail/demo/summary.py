"""What the demo prints beyond the usage tables: the repository's story (checks, the finding's chain, the report)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from aitrail.cli import output


def print_check(title: str, result: dict[str, Any]) -> None:
    """``aitrail check``'s verdict on the story's commit, in the command's words."""
    output.console.print(f"\n[bold]{title}[/]")
    for line in result["described"]:
        output.console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)


def print_story(story: dict[str, Any], report: dict[str, Any]) -> None:
    """The repository's story: the generations and commit, the checks, the finding's chain, the team report."""
    from aitrail.cli.accountability import print_report
    from aitrail.cli.linkage import print_chain

    output.console.print(f"\n[bold]A real repository[/] ({story['repository']}): {story['prompter']} asked an AI "
                         f"for {len(story['generations'])} changes, committed as {story['commit'][:12]}", highlight=False)
    for g in story["generations"]:
        output.console.print(f"  generation {g['generation_id']} wrote {g['path']}: \"{g['prompt']}\"", highlight=False)
    print_check("aitrail check, before any sign-off", story["check_before"])
    print_check("aitrail check, after a reviewer's and an approver's sign-off", story["check_after"])
    if story["scan_skipped"]:
        output.console.print(f"\n[yellow]Bandit scan skipped:[/] {escape(story['scan_skipped'])}")
    elif story["finding"] is None:
        output.console.print(f"\n[yellow]Bandit found nothing on[/] {story['vulnerable']}")
    else:
        output.console.print(f"\n[bold]Bandit's finding[/] ({story['findings_imported']} imported from its SARIF), "
                             "traced from the line to the prompt and the people:")
        print_chain(story["finding"])
    print_report(report)
