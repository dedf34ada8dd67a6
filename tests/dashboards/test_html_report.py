"""The HTML report opened in headless Chromium: every panel renders (charts drawn by Chart.js, tables and numbers
filled), no console error, no network request; the screenshot is kept in tests/artifacts/ to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitrail.dashboards.catalog import DASHBOARDS
from aitrail.dashboards.html import render, report_data

from dashboards_support import TIME

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

CHECK = """(() => {
  const panels = [...document.querySelectorAll('[data-panel]')].map((box) => {
    const canvas = box.querySelector('canvas');
    const chart = canvas ? Chart.getChart(canvas) : null;
    return {panel: box.dataset.panel, rendered: box.dataset.rendered || '',
            points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0,
            drawn: canvas ? canvas.width * canvas.height : 0,
            cells: box.querySelectorAll('td').length, stats: box.querySelectorAll('.stat').length};
  });
  return {ready: document.body.dataset.ready === '1', panels, text: document.body.innerText,
          estimated: [...document.querySelectorAll('th.estimated, .label.estimated')].map((e) => e.textContent),
          external: [...document.querySelectorAll('[src], link[href]')].map((e) => e.src || e.href)};
})()"""


@pytest.fixture(scope="module")
def chromium():  # noqa: ANN201
    from browser import find_or_install

    path, why = find_or_install()
    if path is None:
        pytest.skip(f"headless Chromium unavailable: {why}")
    return path


def test_report_is_one_file_that_renders_every_panel_offline(seeded, chromium, tmp_path):
    from browser import visit

    sections = report_data(seeded.store.rows, TIME)
    page = tmp_path / "report.html"
    page.write_text(render(sections, TIME))

    seen = visit(chromium, page, CHECK)

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "html_report.png").write_bytes(seen.screenshot)
    (tmp_path / "html_report.png").write_bytes(seen.screenshot)
    assert seen.result["ready"], "the report's script did not finish"
    assert seen.result["external"] == [], "everything is inline"
    assert [r for r in seen.requests if not r.startswith(("file:", "data:"))] == []
    assert seen.exceptions == []
    assert [m for m in seen.console if m["type"] in ("error", "warning", "assert")] == []
    assert [e for e in seen.log if e["level"] == "error"] == []

    expected = {f"{d.uid}/{p.name}": p for d in DASHBOARDS if d.in_report for p in d.panels}
    shown = {p["panel"]: p for p in seen.result["panels"]}
    assert set(shown) == set(expected)
    for name, panel in expected.items():
        got = shown[name]
        if panel.visual.value in ("timeseries", "barchart", "piechart"):
            assert got["rendered"] == "chart" and got["points"] > 0 and got["drawn"] > 0, got
        elif panel.visual.value == "table":
            assert got["rendered"] == "table" and got["cells"] > 0, got
        else:
            assert got["rendered"] == "stat" and got["stats"] > 0, got
    # the estimated part of each cost panel is marked: the headline, by team, by assistant, per person
    assert len(seen.result["estimated"]) == sum("estimated_cost_usd" in p["rows"][0] for s in sections
                                               for p in s["panels"] if p["rows"]) == 4
    # ids stay as they are (ClickHouse sends 64-bit integers as text: an id of digits must not become a number)
    unsigned = next(p for s in sections for p in s["panels"] if p["name"] == "unsigned_changes")
    assert all(row["trace_id"] in seen.result["text"] for row in unsigned["rows"][:5])
    assert len(seen.screenshot) > 10_000 and seen.screenshot[:8] == b"\x89PNG\r\n\x1a\n"


def test_stored_text_cannot_break_out_of_the_page(tmp_path):
    hostile = [{"uid": "x", "title": "</script><script>alert(1)</script>", "description": "<!--",
                "panels": [{"name": "p", "title": "<b>t</b>", "description": "", "visual": "table", "unit": "short",
                            "units": {}, "rows": [{"team": "</script><img src=x onerror=alert(1)>"}]}]}]
    page = render(hostile, TIME)
    data = page.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "</script" not in data and "<!--" not in data
