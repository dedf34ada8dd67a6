"""Reports: named questions, each one SQL file beside this module, run through any read path.

The same SQL feeds the terminal (``aitrail usage``), the demo, and (later)
the Grafana panels: a report is defined once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_QUALIFIED = re.compile(r"\baitrail\.(?=\w)")


@dataclass(frozen=True)
class Report:
    name: str
    title: str

    @property
    def sql(self) -> str:
        return resources.files("aitrail.dashboards").joinpath("sql", f"{self.name}.sql").read_text()

    @property
    def tenant_sql(self) -> str:
        """The same question for a tenant's reader: its tables unqualified, which the SQL endpoint resolves to
        the tenant's own views (it refuses ``aitrail.<table>`` to a tenant, whose rows are only a part of it)."""
        return _QUALIFIED.sub("", self.sql)


USAGE_BY_TEAM = Report("usage_by_team", "AI usage by team")
USAGE_BY_ASSISTANT = Report("usage_by_assistant", "AI usage by assistant and model")
USAGE = (USAGE_BY_TEAM, USAGE_BY_ASSISTANT)
