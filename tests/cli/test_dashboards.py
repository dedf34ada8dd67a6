"""``aitrail dashboards build`` and ``html`` as a user runs them: files written, bad paths refused clearly
(``push`` is driven against its Grafana stand-in in tests/dashboards/test_push_standin.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.dashboards.catalog import DASHBOARDS

runner = CliRunner()


def test_build_writes_one_file_per_dashboard(tmp_path):
    result = runner.invoke(app, ["dashboards", "build", "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.output)
    assert len(written) == len(DASHBOARDS)
    assert {json.loads(open(path).read())["uid"] for path in written} == {d.uid for d in DASHBOARDS}


def test_build_into_a_file_is_refused_without_a_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(app, ["dashboards", "build", "--out", str(blocker)])
    assert result.exit_code == 1
    assert "cannot write into" in result.output and "Traceback" not in result.output


def _empty_store(path):
    """A store that exists and holds nothing (reads never create one)."""
    from aitrail.collector.store import StoreLocation, open_store

    open_store(StoreLocation(data_dir=path)).close()
    return path


def test_html_writes_a_self_contained_report_of_an_empty_store(tmp_path):
    page = tmp_path / "report.html"
    _empty_store(tmp_path / "store")
    result = runner.invoke(app, ["dashboards", "html", str(page), "--days", "7", "--data-dir", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "<title>aitrail report</title>" in text
    assert "src=" not in text.split("<script>", 1)[0] and "<link" not in text
    sections = json.loads(text.split('id="report-data">', 1)[1].split("</script>", 1)[0].replace("<\\/", "</"))
    assert [s["uid"] for s in sections] == [d.uid for d in DASHBOARDS if d.in_report]


def test_html_into_a_folder_is_refused(tmp_path):
    _empty_store(tmp_path / "store")
    result = runner.invoke(app, ["dashboards", "html", str(tmp_path), "--data-dir", str(tmp_path / "store")])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "Traceback" not in result.output


def test_html_days_must_be_positive(tmp_path):
    result = runner.invoke(app, ["dashboards", "html", str(tmp_path / "r.html"), "--days", "0"])
    assert result.exit_code == 2
