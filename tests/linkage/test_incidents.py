"""``aitrail incidents``: add and import (the documented JSON shape), list, show with each line's origin and the
cost attributed to the generations behind it; bad files refused whole with the JSON path. Expected origins and
shares come from the history the test writes (bench.history)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import aitrail
from aitrail.cli import app
from bench.history import History

AI_LINES = ["def export(rows, path):", "    os.system('tar czf ' + path)"]
HUMAN_LINES = ["def audit():", "    print('audited by hand')"]


@pytest.fixture
def history(tmp_path, monkeypatch, collector):
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal.jsonl"))
    for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "AITRAIL_DATA_DIR", "AITRAIL_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    h = History(tmp_path / "repo", collector.http_url)
    h.generation = h.ai("shop/export.py", 0, texts=AI_LINES)
    h.human_new("shop/audit.py", 0, texts=HUMAN_LINES)
    h.commit("export and audit")
    assert aitrail.flush() and collector.wait_drained(30)
    yield h
    aitrail.shutdown()


def run(*args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_an_incident_links_its_lines_and_attributes_its_cost_to_the_generations(history, tmp_path):
    store = tmp_path / "store"
    added = run("incidents", "add", "--title", "Archive path injected", "--severity", "critical", "--detected",
                "2030-01-02T03:04:05Z", "--cost-usd", "900", "--location", "shop/export.py:2", "--location",
                "shop/audit.py:2", "--repo", history.root, "--data-dir", store, "--json")
    assert added.exit_code == 0, added.output
    incident = json.loads(added.output)["incident_id"]
    shown = run("incidents", "show", incident, "--json", "--data-dir", store)
    chain = json.loads(shown.output)
    assert [(x["path"], x["line"], x["origin"]) for x in chain["lines"]] == [
        ("shop/export.py", 2, "ai"), ("shop/audit.py", 2, "human")]
    assert chain["lines"][0]["generation_id"] == history.generation
    (generation,) = chain["generations"]
    assert (generation["generation_id"], generation["attributed_cost_usd"]) == (history.generation, 900)
    assert chain["incident"]["cost_usd"] == 900 and chain["incident"]["severity"] == "critical"


def test_import_of_a_ticket_export_twice_and_a_bad_one(history, tmp_path):
    store = tmp_path / "store"
    export = tmp_path / "tickets.json"
    tickets = [
        {"id": "INC-1", "title": "Outage", "severity": "high", "detected": "2030-01-01T00:00:00Z", "cost_usd": 10,
         "locations": [{"path": "shop/export.py", "line": 2}]},
        {"id": "INC-2", "title": "Noise", "severity": "low", "detected": "2030-01-03T00:00:00", "status": "resolved"},
    ]
    export.write_text(json.dumps({"incidents": tickets}))
    for _ in range(2):
        done = run("incidents", "import", export, "--repo", history.root, "--data-dir", store, "--json")
        assert done.exit_code == 0, done.output
    listed = json.loads(run("incidents", "list", "--json", "--data-dir", store).output)
    assert [(i["incident_id"], i["status"]) for i in listed] == [("INC-2", "resolved"), ("INC-1", "open")]

    tickets[1]["severity"] = "apocalyptic"
    tickets.append({"id": "INC-3", "title": "Never imported", "severity": "low", "detected": "2030-01-04T00:00:00Z"})
    export.write_text(json.dumps({"incidents": tickets}))
    refused = run("incidents", "import", export, "--repo", history.root, "--data-dir", store)
    assert refused.exit_code == 2 and "$.incidents[1].severity" in "".join(refused.output.split())
    listed = json.loads(run("incidents", "list", "--json", "--data-dir", store).output)
    assert len(listed) == 2  # nothing of the refused file arrived
