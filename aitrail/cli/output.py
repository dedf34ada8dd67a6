"""Printing rows: rich tables for people, JSON or CSV for scripts."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

# Not a terminal (a log, a file, CI) and no COLUMNS: wide enough that tables do not fold at rich's 80.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
console = Console(width=_WIDTH)
# Messages are never folded: a sentence split by a long path or a narrow terminal cannot be searched or parsed.
errors = Console(stderr=True, soft_wrap=True)


def parse_compact(data: bytes) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows of a ``JSONCompactEachRowWithNames`` result."""
    lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    if not lines:
        return [], []
    return lines[0], lines[1:]


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table of plain text: titles, names and values are escaped, so ``[red]`` in stored data is shown, not obeyed."""
    from rich.markup import escape

    table = Table(title=escape(title) if title else None, header_style="bold cyan")
    for name in columns:
        table.add_column(escape(str(name)), overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else escape(str(v)) for v in row))
    console.print(table)


def print_json(value: Any) -> None:
    """Plain JSON on stdout (no colour, no wrapping): this output is for scripts."""
    print(json.dumps(value, indent=2, default=str))


def say(line: str) -> None:
    """One line for people on stdout, never folded (a path in it stays whole); ``line`` is rich markup."""
    console.print(line, soft_wrap=True, highlight=False)


def fail(message: str, hint: str | None = None, code: int = 1) -> None:
    """Print an error that says how to fix it, and exit."""
    import typer

    from rich.markup import escape

    errors.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        errors.print(f"[yellow]hint:[/] {escape(hint)}")
    raise typer.Exit(code)


def print_usage(summary: dict[str, list[dict[str, Any]]]) -> None:
    """``aitrail usage``'s tables: one per usage panel, in the panels' order."""
    from aitrail.dashboards.reports import USAGE

    for panel in USAGE:
        rows = summary.get(panel.name, [])
        columns = list(rows[0]) if rows else []
        print_table(panel.title, columns, [list(r.values()) for r in rows])
