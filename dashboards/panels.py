"""What a dashboard is made of, written once: panels (title, description, SQL, visualization, unit, thresholds,
links) and the variables their SQL filters on.

Each panel's SQL lives in ``sql/<dashboard>/<panel>.sql`` beside this module (a definition several panels share in
``sql/_<fragment>.sql``), written for the Grafana ClickHouse data source (its macros ``$__timeFilter``, ``$__dateFilter``, ``$__timeInterval``, ``$__conditionalAll`` and
``${variable}``). Every reader takes the panel from here: the Grafana JSON (:mod:`.grafana`), the HTML report
(:mod:`.html`), ``aitrail usage`` and the tests, which expand the macros as the data source does (:mod:`.macros`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from importlib import resources


class Visual(str, Enum):
    """How a panel shows its rows; the value is Grafana's panel type."""

    stat = "stat"
    timeseries = "timeseries"
    barchart = "barchart"
    table = "table"
    piechart = "piechart"
    traces = "traces"
    logs = "logs"

    @property
    def query_format(self) -> str:
        """The data source's query type for this visual: time series, table, traces or logs."""
        return {Visual.timeseries: "timeseries", Visual.traces: "traces", Visual.logs: "logs"}.get(self, "table")


@dataclass(frozen=True)
class Threshold:
    """From ``value`` upwards the panel shows ``color`` (the first step's value is ``None``: everything below)."""

    value: float | None
    color: str


@dataclass(frozen=True)
class Link:
    """A data link: a click on a value of the column ``field`` opens ``url``.

    ``url`` may use Grafana's ``${__data.fields.<name>}`` and ``${__value.raw}``; a link to another aitrail
    dashboard is ``/d/<uid>?var-...`` (uids are stable).
    """

    title: str
    url: str
    field: str


@dataclass(frozen=True)
class Variable:
    """A dashboard variable: many values or All, its choices read by ``query`` (distinct values, tenant-scoped
    because the tables it reads are); or a free text box (``text``); or one of fixed ``choices``, the first the
    default (how to group: team, person, repository); or a hidden ``constant`` the SQL reads."""

    name: str
    label: str
    query: str = ""
    multi: bool = True
    text: bool = False  # a free text box (a trace id), not a list read from the store
    choices: tuple[str, ...] = ()
    constant: str | None = None

    @property
    def default(self) -> str | None:
        """The value a panel's SQL gets when none is chosen (None: All, or nothing for a text box)."""
        return self.choices[0] if self.choices else self.constant


@dataclass(frozen=True)
class Panel:
    """One question on a dashboard, defined once."""

    dashboard: str
    name: str
    title: str
    description: str
    visual: Visual
    unit: str = "short"
    thresholds: tuple[Threshold, ...] = ()
    links: tuple[Link, ...] = ()
    width: int = 12
    height: int = 8
    units: tuple[tuple[str, str], ...] = ()  # per-column units (column, unit) where they differ from ``unit``

    @cached_property
    def sql(self) -> str:
        """The panel's SQL file, its fragments in place (:func:`with_fragments`)."""
        return with_fragments(_SQL().joinpath(self.dashboard, f"{self.name}.sql").read_text())

    @property
    def variables(self) -> set[str]:
        """The dashboard variables the SQL refers to (``$team``, ``${team}``)."""
        return {m.group(1) or m.group(2) for m in _VARIABLE.finditer(self.sql)} - {"__all"}

    @property
    def tables(self) -> set[str]:
        """The ``aitrail.<table>`` names the SQL reads (the read-only user needs SELECT on each)."""
        return tables_in(self.sql)


def _SQL():  # noqa: ANN202, N802 - the package's sql folder (a Traversable)
    return resources.files("aitrail.dashboards").joinpath("sql")


def with_fragments(sql: str) -> str:
    """``sql`` with each ``{{fragment}}`` replaced by ``sql/_<fragment>.sql``: a definition several panels share
    (committed lines, what dual sign-off is, which findings are on AI code), written once."""
    return _FRAGMENT.sub(lambda m: _SQL().joinpath(f"_{m.group(1)}.sql").read_text().strip(), sql)


def tables_in(sql: str) -> set[str]:
    """The ``aitrail.<table>`` names ``sql`` reads."""
    return set(re.findall(r"\baitrail\.(\w+)", sql))


_FRAGMENT = re.compile(r"\{\{(\w+)\}\}")
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(?!__)(\w+)")


@dataclass(frozen=True)
class Dashboard:
    """A Grafana dashboard and a section of the HTML report: panels in reading order."""

    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    time_from: str = "now-30d"
    tags: tuple[str, ...] = field(default=("aitrail",))
    in_report: bool = True  # the Traces dashboard is Grafana's trace and log views: nothing to draw offline

    def panel(self, name: str) -> Panel:
        return next(p for p in self.panels if p.name == name)

    @property
    def tables(self) -> set[str]:
        """Every table the dashboard's panels and variables read."""
        return set().union(*(p.tables for p in self.panels), *(tables_in(v.query) for v in self.variables))
