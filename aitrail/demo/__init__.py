"""``aitrail demo``: the whole product working, in one command, on the embedded store.

A collector on a scratch store; a week of AI activity across teams over OTLP, and the usage it adds up to; then
a real git repository where an AI writes a vulnerable line (:mod:`aitrail.demo.story`): Bandit's finding traced
to the prompt and the people, ``aitrail check`` before and after the sign-offs, and the team report.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.progress import Progress

from aitrail.cli import output
from aitrail.collector.config import CollectorConfig
from aitrail.collector.server import BackgroundCollector
from aitrail.collector.store import StoreLocation
from aitrail.demo.activity import generate_activity, send_activity
from aitrail.demo.story import run_story
from aitrail.cli.output import print_usage
from aitrail.dashboards.reports import usage_summary
from aitrail.demo.summary import print_story
from aitrail.errors import StoreUnavailable


def run_demo(data_dir: Path | None = None, quiet: bool = False, count: int = 240) -> dict[str, Any]:
    """Start a collector, send a week of AI activity over OTLP, tell the repository's story; return what was found."""
    from aitrail.dashboards.team_report import team_report
    from aitrail.linkage.chain import Reader, who_text
    from aitrail.sdk.accountability.policy import DEFAULT_CHECKLIST

    with tempfile.TemporaryDirectory(prefix="aitrail-demo-") as scratch:
        location = StoreLocation(data_dir=Path(data_dir) if data_dir else Path(scratch) / "store")
        config = CollectorConfig(location=location, http_port=0, grpc_port=0, sql_port=0, flush_interval=0.2)
        with BackgroundCollector(config) as collector:
            if not quiet:
                output.console.print(
                    f"[green]collector[/] on the embedded store at {location.describe()}\n"
                    f"  OTLP/HTTP {collector.http_url}   OTLP/gRPC {collector.grpc_endpoint}   SQL {collector.sql_url}"
                )

            def stored() -> None:
                # A 2xx means "fsync'd in the collector's spool"; wait until the drain has stored it all before reading.
                if not collector.wait_drained(timeout=60):
                    raise StoreUnavailable("the collector did not store the demo's records within 60 s")

            activity = generate_activity(count)
            with Progress(disable=quiet, transient=True) as progress:
                task = progress.add_task("sending AI activity over OTLP", total=len(activity))
                send_activity(activity, collector.http_url, collector.grpc_endpoint, lambda n: progress.advance(task, n))
            stored()
            summary: dict[str, Any] = usage_summary(location, days=30, sql_url=collector.sql_url)
            # The audit question, through the collector's SQL endpoint: who wrote this line?
            line = activity[0].lines[0]
            summary["who_wrote"] = who_text(Reader(location, collector.sql_url), line)
            summary["sent"] = len(activity)
            summary["story"] = run_story(Path(scratch), location, collector, stored)
            summary["report"] = team_report(location, checklist=list(DEFAULT_CHECKLIST), sql_url=collector.sql_url)
            summary["health"] = collector.health()["metrics"]
    if not quiet:
        print_usage(summary)
        who = summary["who_wrote"]
        if who["origin"] == "ai":
            output.console.print(
                f"\n[bold]Who wrote[/] [cyan]{who['text']}[/]? {who['user_email']} ({who['team']}) asked "
                f"{who['assistant']} / {who['model']}: \"{who['prompt']}\" at {who['time']}"
                f" ({len(who['generations'])} generations wrote that line)", highlight=False,
            )
        print_story(summary["story"], summary["report"])
        output.console.print(
            f"\n{summary['sent']} generations sent over OTLP/HTTP and OTLP/gRPC, "
            f"{summary['health']['inserted'].get('otel_traces', 0)} spans stored. "
            "Run `aitrail serve` to keep a collector running."
        )
    return summary
