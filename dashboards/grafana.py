"""The dashboards as Grafana dashboard JSON, built with grafana-foundation-sdk, for the ClickHouse data source.

Every query is written in SQL mode of ``grafana-clickhouse-datasource`` against the provisioned data source
(uid ``aitrail-clickhouse``, deploy/grafana/provisioning/datasources/clickhouse.yaml). ``build`` writes one file
per dashboard; the files in deploy/grafana/dashboards are its output, committed, and a test fails when they are
stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

from grafana_foundation_sdk.builders import barchart, dashboard as board, logs, piechart, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common, dashboard as model

from aitrail.dashboards.catalog import DASHBOARDS
from aitrail.dashboards.panels import Dashboard, Panel, Variable, Visual

DATASOURCE_TYPE = "grafana-clickhouse-datasource"
DATASOURCE_UID = "aitrail-clickhouse"
DATASOURCE = common.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)

FORMATS = {"timeseries": 0, "table": 1, "logs": 2, "traces": 3}
"""The data source's ``format`` per query type (the plugin SDK's sqlutil format options)."""

DEFAULT_OUT = Path("deploy") / "grafana" / "dashboards"


class ClickHouseQuery(cogvariants.Dataquery):
    """A query of the ClickHouse data source in SQL mode (the SDK has no model for this plugin's queries)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_json(self) -> dict[str, Any]:
        return self.data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(dict(data))


cogruntime.register_dataquery_variant(cogruntime.DataqueryConfig(DATASOURCE_TYPE, ClickHouseQuery.from_json))


class _Query(cogbuilder.Builder[ClickHouseQuery]):
    def __init__(self, panel: Panel) -> None:
        kind = panel.visual.query_format
        self._query = ClickHouseQuery({
            "refId": "A", "datasource": DATASOURCE.to_json(), "editorType": "sql", "queryType": kind,
            "format": FORMATS[kind], "rawSql": panel.sql.strip(),
        })

    def build(self) -> ClickHouseQuery:
        return self._query


_BUILDERS = {
    Visual.stat: stat.Panel, Visual.timeseries: timeseries.Panel, Visual.barchart: barchart.Panel,
    Visual.table: table.Panel, Visual.piechart: piechart.Panel, Visual.logs: logs.Panel,
}


def _panel(panel: Panel, number: int) -> cogbuilder.Builder[model.Panel]:
    built = _BUILDERS[panel.visual]() if panel.visual in _BUILDERS else board.Panel().type(panel.visual.value)
    built = (built.id(number).title(panel.title).description(panel.description).datasource(DATASOURCE)
             .with_target(_Query(panel)).span(panel.width).height(panel.height).unit(panel.unit))
    if panel.thresholds:
        steps = [model.Threshold(value=t.value, color=t.color) for t in panel.thresholds]
        built = built.thresholds(board.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(steps))
    for link in panel.links:  # on the column it names (a click on a trace id opens that trace)
        built = built.override_by_name(link.field, [model.DynamicConfigValue(
            id_val="links", value=[{"title": link.title, "url": link.url}])])
    for column, unit in panel.units:
        built = built.override_by_name(column, [model.DynamicConfigValue(id_val="unit", value=unit)])
    return built


def _variable(variable: Variable) -> cogbuilder.Builder[model.VariableModel]:
    if variable.text:
        return board.TextBoxVariable(variable.name).label(variable.label)
    if variable.constant is not None:
        return board.ConstantVariable(variable.name).label(variable.label).value(variable.constant)
    if variable.choices:
        options = [model.VariableOption(selected=i == 0, text=c, value=c) for i, c in enumerate(variable.choices)]
        return (board.CustomVariable(variable.name).label(variable.label).values(",".join(variable.choices))
                .multi(False).include_all(False).allow_custom_value(False).options(options).current(options[0]))
    return (board.QueryVariable(variable.name).label(variable.label).datasource(DATASOURCE).query(variable.query)
            .multi(variable.multi).include_all(True).refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
            .current(model.VariableOption(selected=True, text=["All"], value=["$__all"])))


def to_grafana(dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard as the JSON Grafana provisions and its HTTP API accepts."""
    built = (board.Dashboard(dashboard.title).uid(dashboard.uid).description(dashboard.description)
             .tags(list(dashboard.tags)).time(dashboard.time_from, "now").timezone("utc").readonly())
    for variable in dashboard.variables:
        built = built.with_variable(_variable(variable))
    for number, panel in enumerate(dashboard.panels, 1):
        built = built.with_panel(_panel(panel, number))
    return json.loads(json.dumps(built.build(), cls=JSONEncoder))


def render(dashboard: Dashboard) -> str:
    """The file's text: stable key order and indentation, so a rebuild of unchanged panels changes nothing."""
    return json.dumps(to_grafana(dashboard), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def file_name(dashboard: Dashboard) -> str:
    return f"{dashboard.uid}.json"


def build(out: Path) -> list[Path]:
    """Write every dashboard's JSON into ``out``; files of dashboards no longer defined are removed."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for dashboard in DASHBOARDS:
        path = out / file_name(dashboard)
        path.write_text(render(dashboard))
        written.append(path)
    for stale in set(out.glob("aitrail-*.json")) - set(written):
        stale.unlink()
    return written
