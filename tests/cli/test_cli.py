"""The command line, driven as a user drives it (typer's runner, real store, real collector)."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict

import pytest
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.demo.activity import generate_activity

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result


def test_help_teaches_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("serve", "sql", "usage", "migrate", "demo"):
        assert command in result.output


@pytest.fixture
def data_dir(tmp_path):
    """A store made as a user makes one before any data arrives: ``aitrail migrate``."""
    path = tmp_path / "store"
    assert invoke("migrate", "--data-dir", path).exit_code == 0
    return path


def test_sql_directly_on_a_data_dir_in_every_format(data_dir):
    table = invoke("sql", "SELECT number AS n, toString(number * 2) AS s FROM numbers(3)", "--data-dir", data_dir)
    assert table.exit_code == 0, table.output
    assert "n" in table.output and "4" in table.output
    as_json = invoke("sql", "SELECT number AS n FROM numbers(3)", "--data-dir", data_dir, "--format", "json")
    assert json.loads(as_json.output) == [{"n": 0}, {"n": 1}, {"n": 2}]
    as_csv = invoke("sql", "SELECT number AS n FROM numbers(2)", "--data-dir", data_dir, "--format", "csv")
    assert list(csv.reader(io.StringIO(as_csv.output))) == [["n"], ["0"], ["1"]]


def test_sql_refuses_writes_with_a_hint(data_dir):
    result = invoke("sql", "DROP TABLE aitrail.otel_traces", "--data-dir", data_dir)
    assert result.exit_code == 1
    assert "DROP statements are refused" in result.output and "hint:" in result.output


def test_sql_goes_through_the_collector_that_owns_the_data_dir(collector, tmp_path):
    result = invoke("sql", "SELECT count() AS n FROM aitrail.otel_traces", "--data-dir", tmp_path / "store", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"n": 0}]


def test_migrate_status_changes_nothing_and_migrate_applies(tmp_path):
    data_dir = tmp_path / "store"
    status = json.loads(invoke("migrate", "--status", "--json", "--data-dir", data_dir).output)
    assert status and not any(m["applied"] for m in status)
    applied = json.loads(invoke("migrate", "--json", "--data-dir", data_dir).output)
    assert all(m["applied"] for m in applied)


def test_serve_refuses_to_listen_beyond_loopback_without_consent(tmp_path):
    result = invoke("serve", "--host", "0.0.0.0", "--data-dir", tmp_path / "store")
    assert result.exit_code == 1
    assert "--allow-insecure-listen" in result.output


def _expected_usage(activity):
    """The usage report, computed from the generated activity in plain Python."""
    by_team = defaultdict(list)
    for gen in activity:
        by_team[gen.person.team].append(gen)
    return {
        team: {
            "generations": len(gens),
            "people": len({g.person.user_id for g in gens}),
            "tokens": sum(g.input_tokens + g.output_tokens for g in gens),
            "cost_usd": round(sum(g.cost_usd for g in gens), 2),
            "lines_added": sum(len(g.lines) for g in gens),
            "accepted_share": round(sum(g.decision == "accepted" for g in gens) / len(gens), 3),
        }
        for team, gens in by_team.items()
    }


def test_demo_shows_the_usage_that_was_sent(tmp_path):
    result = invoke("demo", "--json", "--data-dir", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    activity = generate_activity()
    assert summary["sent"] == len(activity)
    got = {r["team"]: {k: r[k] for k in r if k != "team"} for r in summary["usage_by_team"]}
    expected = _expected_usage(activity)
    assert got.keys() == expected.keys()
    for team in expected:
        for key, value in expected[team].items():
            assert got[team][key] == pytest.approx(value, abs=0.011 if key == "cost_usd" else 0), (team, key)
    by_assistant = {(r["assistant"], r["model"]): r["generations"] for r in summary["usage_by_assistant"]}
    counts = defaultdict(int)
    for gen in activity:
        counts[(gen.assistant, gen.model)] += 1
    assert by_assistant == counts
    # Who wrote the first generation's first line: every generation whose lines hold it, the latest the origin.
    line = activity[0].lines[0]
    writers = sorted((g for g in activity if line in g.lines), key=lambda g: g.start_ns)
    who = summary["who_wrote"]
    assert who["origin"] == "ai" and len(who["generations"]) == len(writers)
    assert (who["user_email"], who["team"], who["prompt"]) == (
        writers[-1].person.email, writers[-1].person.team, writers[-1].prompt)
    _story_as_expected(summary["story"])
    _report_as_expected(summary["report"], activity)


def _story_as_expected(story):
    """The repository's story against the demo's script (STEPS and its people), not against what aitrail says."""
    from aitrail.demo.story import APPROVER, PROMPTER, REVIEWER, STEPS, VULNERABLE

    assert [(g["prompt"], g["path"]) for g in story["generations"]] == [(s.prompt, s.path) for s in STEPS]
    writer = [g["generation_id"] for g, step in zip(story["generations"], STEPS) if VULNERABLE in step.lines]
    ai_lines = sum(1 for step in STEPS for text in step.lines if text.strip())
    before, after = story["check_before"], story["check_after"]
    assert not before["ok"] and after["ok"]
    [commit_before], [commit_after] = before["commits"], after["commits"]
    assert commit_before["commit"] == commit_after["commit"] == story["commit"]
    assert commit_before["ai_lines"] == ai_lines and commit_before["prompters"] == [PROMPTER[0]]
    assert any(gap.startswith("approvers: 0 of 1") for gap in commit_before["missing"])
    assert any(gap.startswith("reviewers: 0 of 1") for gap in commit_before["missing"])
    signed = {(s["role"], s["signer"]) for s in commit_after["signoffs"]}
    assert signed == {("reviewer", REVIEWER[0]), ("approver", APPROVER[0])} and PROMPTER[0] not in dict(signed).values()

    assert story["scan_skipped"] is None, story["scan_skipped"]  # the test extra installs bandit[sarif]
    chain = story["finding"]
    assert chain["finding"]["source"] == "bandit" and chain["finding"]["rule"] == "B602"
    assert chain["finding"]["line_text"] == VULNERABLE.strip() and chain["origin"] == "ai"
    assert [chain["generation"]["generation_id"]] == writer
    step = next(s for s in STEPS if VULNERABLE in s.lines)
    assert chain["finding"]["file_path"] == step.path and chain["finding"]["line_start"] == step.lines.index(VULNERABLE) + 1
    assert (chain["generation"]["prompt"], chain["generation"]["user_email"], chain["generation"]["team"]) == (
        step.prompt, PROMPTER[0], PROMPTER[2])
    assert chain["commit"]["commit"] == story["commit"] and chain["commit"]["author_email"] == PROMPTER[0]
    assert {(s["role"], s["signer_email"]) for s in chain["commit"]["signoffs"]} == signed
    assert chain["owners"] == [APPROVER[0]]  # the CODEOWNERS the demo wrote: the approver owns app/


def _report_as_expected(report, activity):
    from aitrail.demo.story import PROMPTER, STEPS

    groups = {row["team"]: row for row in report["groups"]}
    sent = defaultdict(int)
    for gen in activity:
        sent[gen.person.team] += 1
    sent[PROMPTER[2]] += len(STEPS)
    assert {team: row["generations"] for team, row in groups.items()} == sent
    assert report["total"]["generations"] == len(activity) + len(STEPS)
    story_team = groups[PROMPTER[2]]
    assert (story_team["ai_commits"], story_team["ai_commits_lacking_signoff"]) == (1, 0)
    assert story_team["findings_ai"] >= 1  # Bandit's B602 on the AI-written line


def test_sql_parameters_survive_both_read_paths(collector, tmp_path):
    from aitrail.collector.query import read_only_query
    from aitrail.collector.store import StoreLocation

    value = "tab\there, back\\slash, quote' and newline\n"
    via_endpoint = read_only_query(StoreLocation(data_dir=tmp_path / "store"), "SELECT {v:String} AS v", "JSONEachRow", {"v": value})
    assert json.loads(via_endpoint) == {"v": value}


def test_sql_parameters_directly(data_dir):
    from aitrail.collector.query import read_only_query
    from aitrail.collector.store import StoreLocation

    value = "tab\there, back\\slash"
    direct = read_only_query(StoreLocation(data_dir=data_dir), "SELECT {v:String} AS v", "JSONEachRow", {"v": value})
    assert json.loads(direct) == {"v": value}


def test_values_and_errors_are_printed_as_text_not_rich_markup(data_dir):
    table = invoke("sql", "SELECT '[red]x[/red]' AS v", "--data-dir", data_dir)
    assert table.exit_code == 0 and "[red]x[/red]" in table.output
    refused = invoke("sql", "SELECT `[bold]x`", "--data-dir", data_dir)  # the engine names the unknown column
    assert refused.exit_code == 1 and "[bold]" in refused.output


def test_a_usage_error_is_one_unwrapped_line_with_a_hint_at_any_width(tmp_path):
    """Through the installed program (click's usage errors are raised outside the commands, past CliRunner's app)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    option = "--an-option-whose-name-is-much-longer-than-the-terminal-is-wide"
    program = Path(sys.executable).parent / "aitrail"
    done = subprocess.run([str(program), "sql", option], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "COLUMNS": "20", "TERM": "xterm"})
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and option in lines[0] and lines[0].startswith("error:"), done.stderr
    assert lines[1] == "hint: `aitrail sql --help` shows what it takes"
    assert "Traceback" not in done.stderr + done.stdout
