"""Reports: named questions, each one SQL file beside this module, run through any read path.

The same SQL feeds the terminal (``aitrail usage``), the demo, and (later)
the Grafana panels: a report is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Report:
    name: str
    title: str

    @property
    def sql(self) -> str:
        return resources.files("aitrail.dashboards").joinpath("sql", f"{self.name}.sql").read_text()


USAGE_BY_TEAM = Report("usage_by_team", "AI usage by team")
USAGE_BY_ASSISTANT = Report("usage_by_assistant", "AI usage by assistant and model")
USAGE = (USAGE_BY_TEAM, USAGE_BY_ASSISTANT)
