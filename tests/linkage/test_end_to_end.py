"""End to end in a real git repository: generations through the SDK and ``aitrail wrap``, commits through the
installed hook, the hard cases of bench/history.py (moves, re-indents, renames, squash merge, rebase, human edits,
two generations writing one line), a real Bandit run, the SARIF imported, and every link checked against what
the test's own history says (bench.history keeps who wrote each line by applying each edit to its own model)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from typer.testing import CliRunner

import aitrail
from aitrail.cli import app
from aitrail.collector.imports import deliver
from aitrail.collector.store import StoreLocation
from aitrail.linkage.chain import Reader, blame_file
from aitrail.sdk import vocabulary as v
from aitrail.sdk.records import Record, record_id
from bench.history import HUMAN, History, score, scripted
from scanner_runs import bandit

OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES",
             "AITRAIL_DISABLED", "AITRAIL_TOKEN", "AITRAIL_DATA_DIR")
AI_SHELL = "    return subprocess.call(cmd, shell=True)"
HUMAN_EVAL = "    return eval(expression)"
PROMPT = "write a function that runs a shell command"


@pytest.fixture
def env(tmp_path, monkeypatch):
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal.jsonl"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in OTEL_VARS:
        monkeypatch.delenv(key, raising=False)
    yield tmp_path
    aitrail.shutdown()


def test_from_a_scanner_finding_to_the_prompt_and_the_people(env, collector, ch):
    h = History(env / "repo", collector.http_url)
    scripted(h)
    shell_gen = h.ai("app/run.py", 0, texts=["import subprocess", "def run(cmd):", AI_SHELL], prompt=PROMPT)
    h.human_new("app/calc.py", 0, texts=["def calc(expression):", HUMAN_EVAL])
    shell_commit = h.commit("run and calc")
    assert aitrail.flush() and collector.wait_drained(30)
    h.resolve_wraps(lambda prompt: ch.query("SELECT span_id FROM aitrail.ai_generations WHERE prompt = {p:String}",
                                            parameters={"p": prompt}).result_rows[0][0])
    location = StoreLocation(data_dir=env / "store")
    reader = Reader(location)

    # A wrapped assistant's committed work counts as accepted: every generation of the history was committed.
    wrapped = {ch.query("SELECT span_id FROM aitrail.ai_generations WHERE prompt = {p:String}",
                        parameters={"p": prompt}).result_rows[0][0] for prompt in h.wraps}
    linked = {g for (ids,) in ch.query("SELECT generation_ids FROM aitrail.ai_commits FINAL").result_rows for g in ids}
    assert wrapped and wrapped <= linked
    usage = json.loads(CliRunner().invoke(app, ["usage", "--days", "1", "--json", "--data-dir", str(env / "store")]).output)
    assert {row["team"]: row["accepted_share"] for row in usage["usage_by_team"]}["payments"] == 1.0

    # Every line of every file: AI lines to the generation that wrote them, human lines human.
    result = score(h, lambda path: blame_file(reader, path))
    assert result.lost == [] and result.ai_lines >= 30
    assert result.human_called_ai == 0 and result.human_lines >= 8

    # A real Bandit run, imported; each finding's chain against the history.
    sarif = bandit(h.root, env / "bandit.sarif")
    runner = CliRunner()
    imported = runner.invoke(app, ["findings", "import", str(sarif), "--repo", str(h.root), "--json"],
                             env={"AITRAIL_DATA_DIR": str(env / "store")})
    assert imported.exit_code == 0, imported.output
    listed = runner.invoke(app, ["findings", "list", "--json", "--data-dir", str(env / "store")])
    findings = json.loads(listed.output)
    # The scanner's findings (the AI-written lines were also scanned as they were born: source aitrail-scan).
    by_line = {(f["file_path"], f["line_text"]): f for f in findings if f["source"] == "bandit"}
    shell = by_line[("app/run.py", AI_SHELL.strip())]
    human = by_line[("app/calc.py", HUMAN_EVAL.strip())]
    assert (shell["rule"], shell["origin"], shell["generation_id"]) == ("B602", "ai", shell_gen)
    assert (shell["assistant"], shell["model"], shell["user_email"], shell["team"]) == (
        "sdk-bot", "m-1", "ana@example.com", "payments")
    assert (human["rule"], human["origin"], human["generation_id"]) == ("B307", "human", "")
    for finding in findings:  # every finding: origin as the history says
        path, number = finding["file_path"], finding["line_start"]
        owner = h.truth()[path][number - 1].owner
        assert finding["origin"] == ("human" if owner == HUMAN else "ai"), finding
        if owner != HUMAN:
            assert finding["generation_id"] == owner

    shown = runner.invoke(app, ["findings", "show", shell["finding_id"][:12], "--json", "--data-dir",
                                str(env / "store"), "--repo", str(h.root)])
    chain = json.loads(shown.output)
    assert chain["generation"]["prompt"] == PROMPT and chain["generation"]["cost_usd"] == pytest.approx(0.01)
    assert chain["commit"]["commit"] == shell_commit and chain["commit"]["author_email"] == "ana@example.com"
    assert AI_SHELL.strip() in h.git("show", shell_commit)  # the introducing commit adds that line
    assert chain["commit"]["signoffs"] == []
    # A reviewer's sign-off on that commit (as `aitrail signoff` records it: a record delivered like an import).
    signoff = Record(v.KIND_SIGNOFF, record_id("signoff", shell_commit, "bo@example.com"), time.time_ns(), {
        v.SIGNOFF_ID: record_id("signoff", shell_commit, "bo@example.com"), v.VCS_REF_HEAD_REVISION: shell_commit,
        v.SIGNOFF_ROLE: "reviewer", v.USER_EMAIL: "bo@example.com", v.SIGNOFF_SOURCE: "cli"})
    assert deliver([signoff], StoreLocation(data_dir=env / "store")).via == "collector"
    assert collector.wait_drained(30)
    shown = runner.invoke(app, ["findings", "show", shell["finding_id"], "--json", "--data-dir", str(env / "store")])
    assert [(s["role"], s["signer_email"]) for s in json.loads(shown.output)["commit"]["signoffs"]] == [
        ("reviewer", "bo@example.com")]
    human_only = json.loads(runner.invoke(app, ["findings", "list", "--origin", "human", "--json", "--data-dir",
                                                str(env / "store")]).output)
    assert human_only and {f["origin"] for f in human_only} == {"human"} and human["finding_id"] in {
        f["finding_id"] for f in human_only}
    high = json.loads(runner.invoke(app, ["findings", "list", "--severity", "high", "--team", "payments", "--json",
                                          "--data-dir", str(env / "store")]).output)
    assert [f["finding_id"] for f in high] == [f["finding_id"] for f in findings
                                               if f["severity"] == "high" and f["team"] == "payments"]
    assert shell["finding_id"] in {f["finding_id"] for f in high}
    commit_row = ch.query("SELECT generation_ids FROM aitrail.ai_commits FINAL WHERE commit = {c:String}",
                          parameters={"c": shell_commit}).result_rows
    assert shell_gen in commit_row[0][0]  # the hook linked the commit to the generation

    # Two generations wrote one line: the origin is the latest before the commit that introduced each copy.
    shared = "token = issue_token(user, scope='admin')"
    writers = [line.owner for path in ("app/auth.py", "app/admin.py") for line in h.truth()[path]
               if line.text.strip() == shared]
    assert len(set(writers)) == 2
    who = runner.invoke(app, ["who", shared, "--json", "--data-dir", str(env / "store")])
    answer = json.loads(who.output)
    assert answer["generation_id"] == writers[1] and set(answer["other_generation_ids"]) == {writers[0]}
    by_file = runner.invoke(app, ["who", "--file", str(h.root / "app/auth.py"), "--line", "2", "--json",
                                  "--data-dir", str(env / "store")])
    assert json.loads(by_file.output)["generation_id"] == writers[0]

    # aitrail blame --json: one object per line with the documented keys.
    blamed = runner.invoke(app, ["blame", str(h.root / "app/run.py"), "--json", "--data-dir", str(env / "store")])
    rows = json.loads(blamed.output)
    assert [r["line"] for r in rows] == [1, 2, 3]
    assert {"line", "text", "origin", "generation_id", "assistant", "model", "prompt", "user_email", "team",
            "time"} <= set(rows[2])
    assert subprocess.run(["git", "status", "--porcelain"], cwd=h.root, capture_output=True, text=True).stdout == ""
