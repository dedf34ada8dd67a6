"""``aitrail demo``: the whole product working, in one command, on the embedded store."""

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
from aitrail.demo.summary import print_usage, usage_summary
from aitrail.errors import StoreUnavailable
from aitrail.sdk.fingerprint import fingerprint_sql, line_fingerprint

WHO_WROTE = """
SELECT timestamp, team, user_email, assistant, model, prompt, file_path, decision
FROM aitrail.ai_generations
WHERE has(line_fingerprints, {fp:UInt64})
ORDER BY timestamp
LIMIT 1
"""


def run_demo(data_dir: Path | None = None, quiet: bool = False, count: int = 240) -> dict[str, Any]:
    """Start a collector, send a week of AI activity over OTLP, read the usage back; return what was found."""
    with tempfile.TemporaryDirectory(prefix="aitrail-demo-") as scratch:
        location = StoreLocation(data_dir=Path(data_dir) if data_dir else Path(scratch))
        config = CollectorConfig(location=location, http_port=0, grpc_port=0, sql_port=0, flush_interval=0.2)
        with BackgroundCollector(config) as collector:
            if not quiet:
                output.console.print(
                    f"[green]collector[/] on the embedded store at {location.describe()}\n"
                    f"  OTLP/HTTP {collector.http_url}   OTLP/gRPC {collector.grpc_endpoint}   SQL {collector.sql_url}"
                )
            activity = generate_activity(count)
            with Progress(disable=quiet, transient=True) as progress:
                task = progress.add_task("sending AI activity over OTLP", total=len(activity))
                send_activity(activity, collector.http_url, collector.grpc_endpoint, lambda n: progress.advance(task, n))
            # A 2xx means "fsync'd in the collector's spool"; wait until the drain has stored it all before reading.
            if not collector.wait_drained(timeout=60):
                raise StoreUnavailable("the collector did not store the demo's activity within 60 s")
            summary: dict[str, Any] = usage_summary(location, days=30, sql_url=collector.sql_url)
            # The audit question, answered through a standard ClickHouse client: who wrote this line?
            import clickhouse_connect

            line = activity[0].lines[0]
            client = clickhouse_connect.get_client(host=config.host, port=collector.sql_port)
            found = client.query(WHO_WROTE, parameters={"fp": line_fingerprint(line)}).named_results()
            same = client.query(f"SELECT {fingerprint_sql('{line:String}')} AS fp", parameters={"line": line}).first_row[0]
            client.close()
            summary["who_wrote"] = {"line": line, "fingerprint": same, "generations": list(found)}
            summary["sent"] = len(activity)
            summary["health"] = collector.health()["metrics"]
    if not quiet:
        print_usage(summary)
        who = summary["who_wrote"]
        if who["generations"]:
            g = who["generations"][0]
            output.console.print(
                f"\n[bold]Who wrote[/] [cyan]{who['line'].strip()}[/]?\n"
                f"  {g['user_email']} ({g['team']}) asked {g['assistant']} / {g['model']}: \"{g['prompt']}\"\n"
                f"  in {g['file_path']} at {g['timestamp']}, {g['decision']}"
            )
        output.console.print(
            f"\n{summary['sent']} generations sent over OTLP/HTTP and OTLP/gRPC, "
            f"{summary['health']['inserted'].get('otel_traces', 0)} spans stored. "
            "Run `aitrail serve` to keep a collector running."
        )
    return summary
