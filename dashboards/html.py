"""The dashboards as one self-contained HTML file, for those without Grafana.

The same panels (:mod:`.catalog`), their SQL expanded as Grafana's data source expands it (:mod:`.reports`), drawn
with Chart.js: a charting library that is well kept, MIT licensed, one 200 KB file with no dependencies, so it is
inlined whole (``vendor/chart.umd.min.js``, version 4.6.1, unmodified from its npm package). Scripts, styles and
data are all in the page: it opens from a file, an e-mail or a ticket, offline, and asks no server anything.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib import resources
from typing import Any

from aitrail.dashboards.catalog import DASHBOARDS, defaults
from aitrail.dashboards.macros import TimeRange, substitute
from aitrail.dashboards.panels import Dashboard
from aitrail.dashboards.reports import Reader, panel_sql


def report_data(read: Reader, time: TimeRange, dashboards: Sequence[Dashboard] = DASHBOARDS,
                variables: Mapping[str, str | Sequence[str]] | None = None,
                tenant: bool = False) -> list[dict[str, Any]]:
    """Every reportable panel's rows, by dashboard, in reading order, with the dashboards' ``variables`` (a team,
    a repository, how to group: ``by``); titles say the grouping, as Grafana's do."""
    chosen = {**defaults(), **(variables or {})}
    sections = []
    for dashboard in dashboards:
        if not dashboard.in_report:
            continue
        panels = []
        for panel in dashboard.panels:
            rows = read(panel_sql(panel, time, chosen, tenant))
            panels.append({
                "name": panel.name, "title": substitute(panel.title, chosen), "description": panel.description,
                "visual": panel.visual.value, "unit": panel.unit, "units": dict(panel.units),
                "rows": rows,
            })
        sections.append({"uid": dashboard.uid, "title": dashboard.title, "description": dashboard.description,
                         "panels": panels})
    return sections


def _script(text: str) -> str:
    """Text safe inside a ``<script>`` element (no ``</script>`` or ``<!--`` can end or bend it)."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _chart_js() -> str:
    text = resources.files("aitrail.dashboards").joinpath("vendor", "chart.umd.min.js").read_text()
    # The source map is not shipped: drop the comment pointing at it, so nothing ever asks for the file.
    return "\n".join(line for line in text.splitlines() if not line.startswith("//# sourceMappingURL="))


def render(sections: list[dict[str, Any]], time: TimeRange, title: str = "aitrail report",
           generated: datetime | None = None, scope: str = "") -> str:
    """The page: one file, everything inline. ``scope`` says what the rows are limited to (a team, a repository)."""
    generated = generated or datetime.now(timezone.utc)
    page = resources.files("aitrail.dashboards").joinpath("report.html").read_text()
    span = f"{scope + ' · ' if scope else ''}{time.start:%Y-%m-%d %H:%M} to {time.end:%Y-%m-%d %H:%M} UTC"
    return (page.replace("{{title}}", html.escape(title))
            .replace("{{span}}", html.escape(span))
            .replace("{{generated}}", html.escape(f"{generated.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"))
            .replace("{{chart_js}}", _script(_chart_js()))
            .replace("{{data}}", _script(json.dumps(sections, default=str))))
