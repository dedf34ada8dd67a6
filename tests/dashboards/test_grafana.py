"""The Grafana JSON: what ``aitrail dashboards build`` writes loads back through grafana-foundation-sdk's models,
queries the ClickHouse data source in the format its panel needs, refers only to variables it defines, and is what
deploy/grafana/dashboards holds (a stale file fails here: run ``aitrail dashboards build``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from grafana_foundation_sdk.models.dashboard import Dashboard as SdkDashboard

from aitrail.dashboards import grafana
from aitrail.dashboards.catalog import DASHBOARDS
from aitrail.dashboards.grafana import ClickHouseQuery
from aitrail.dashboards.reports import panel_sql

from dashboards_support import TIME

COMMITTED = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"
FORMAT_OF = {"timeseries": 0, "table": 1, "stat": 1, "barchart": 1, "piechart": 1, "logs": 2, "traces": 3}

pytestmark = pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d.uid for d in DASHBOARDS])


def test_loads_back_through_the_sdk_models(dashboard):
    document = grafana.to_grafana(dashboard)
    loaded = SdkDashboard.from_json(document)
    assert loaded.uid == dashboard.uid and loaded.title == dashboard.title
    assert [p.title for p in loaded.panels] == [p.title for p in dashboard.panels]
    for panel in loaded.panels:
        (target,) = panel.targets
        assert isinstance(target, ClickHouseQuery), "the ClickHouse query variant is registered for loading"
        assert target.to_json()["datasource"] == {"type": "grafana-clickhouse-datasource", "uid": "aitrail-clickhouse"}


def test_every_panel_uses_the_clickhouse_data_source_in_its_format(dashboard):
    document = grafana.to_grafana(dashboard)
    for panel, defined in zip(document["panels"], dashboard.panels):
        assert panel["datasource"]["type"] == "grafana-clickhouse-datasource"
        assert panel["type"] == defined.visual.value
        (target,) = panel["targets"]
        assert target["editorType"] == "sql"
        assert target["format"] == FORMAT_OF[panel["type"]]
        assert target["rawSql"] == defined.sql.strip(), "the SQL is the panel's file, nothing rewritten"


def test_every_variable_a_panel_uses_is_defined(dashboard):
    defined = {v.name for v in dashboard.variables}
    for panel in dashboard.panels:
        assert panel.variables <= defined, f"{panel.name}: {panel.variables - defined}"
    document = grafana.to_grafana(dashboard)
    assert [v["name"] for v in document["templating"]["list"]] == [v.name for v in dashboard.variables]


def test_every_variable_resolves_on_the_engine(dashboard, seeded):
    for variable in dashboard.variables:
        if variable.query:
            assert seeded.store.rows(variable.query), f"{variable.name} has no choices over the seed"
        assert variable.query or variable.text or variable.choices or variable.constant, variable.name
        for choice in variable.choices:  # each grouping runs on every panel using it, its rows named after it
            for panel in dashboard.panels:
                if variable.name in panel.variables:
                    rows = seeded.store.rows(panel_sql(panel, TIME, {variable.name: choice}))
                    assert rows and all(choice in row for row in rows), (panel.name, choice)


def test_data_links_open_an_aitrail_dashboard_with_a_column_the_panel_selects(dashboard):
    uids = {d.uid for d in DASHBOARDS}
    for panel in dashboard.panels:
        for link in panel.links:
            target = re.match(r"/d/([\w-]+)\?", link.url)
            assert target and target.group(1) in uids, link.url
            for column in re.findall(r"__data\.fields\.(\w+)", link.url):
                assert re.search(rf"\b{column}\b", panel.sql), f"{panel.name} does not select {column}"


def test_panels_read_tables_the_schema_has(dashboard, seeded):
    tables = {r["name"] for r in seeded.store.rows("SELECT name FROM system.tables WHERE database = 'aitrail'")}
    for panel in dashboard.panels:
        assert panel.tables <= tables, f"{panel.name}: {panel.tables - tables}"


def test_the_committed_file_is_what_build_writes(dashboard):
    path = COMMITTED / grafana.file_name(dashboard)
    assert path.exists(), f"run `aitrail dashboards build` to write {path.name}"
    assert path.read_text() == grafana.render(dashboard), f"{path.name} is stale: run `aitrail dashboards build`"
    assert json.loads(path.read_text())["uid"] == dashboard.uid


def test_build_writes_each_dashboard_and_removes_none_of_others(dashboard, tmp_path):
    (tmp_path / "mine.json").write_text("{}")
    written = grafana.build(tmp_path)
    assert tmp_path / grafana.file_name(dashboard) in written
    assert (tmp_path / "mine.json").exists()
