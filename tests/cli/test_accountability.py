"""``aitrail signoff`` and ``aitrail check`` as a developer and a CI job drive them: exit statuses, messages,
JSON, the pre-push hook stopping a real ``git push``, and sign-offs through a running collector."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk" / "accountability"))

from accountability_support import ANA, BO, CY, ai_write, commit, env, git, repo, spans  # noqa: E402,F401

import aitrail  # noqa: E402
from aitrail.cli import app  # noqa: E402
from aitrail.sdk.hooks import record_commit  # noqa: E402

runner = CliRunner()
REVIEWS = Path(__file__).parents[1] / "fixtures" / "github" / "pull_reviews.json"
LINES = ["def refund(order):", "    return order.total - order.fees", ""]


def run(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args))


def test_check_exits_0_1_and_2_with_a_clear_list_and_json(repo, monkeypatch):
    ai_write(repo, "refund.py", LINES)
    sha = commit(repo, "refund")
    monkeypatch.chdir(repo)
    failing = run("check", "HEAD")
    assert failing.exit_code == 1
    assert f"FAIL {sha[:12]}  2 AI lines, prompted by {ANA[1]}" in failing.stdout
    assert "missing reviewers: 0 of 1" in failing.stdout and "missing approvers: 0 of 1" in failing.stdout
    parent = git(repo, "rev-parse", "HEAD^")
    assert f"0 of 1 commits meet the policy; policy: defaults: no .aitrail/policy.toml at HEAD^ ({parent[:12]})" \
        in failing.stdout

    as_json = json.loads(run("check", "HEAD", "--json").stdout)
    assert as_json["ok"] is False
    assert (as_json["policy_file"], as_json["policy_revision"]) == (None, parent)
    assert [(c["commit"], c["ok"], c["ai_lines"], len(c["missing"])) for c in as_json["commits"]] == [(sha, False, 2, 2)]

    for who, role in ((BO, "reviewer"), (CY, "approver")):
        monkeypatch.setenv("AITRAIL_USER_EMAIL", who[1])
        signed = run("signoff", "HEAD", "--role", role, "--answer", "tests=yes")
        assert signed.exit_code == 0, signed.output
        assert f"{role} {who[1]} signed off {sha[:12]} (cli; identity: user_id=environment:AITRAIL_USER_EMAIL" in signed.stdout
    passing = run("check", "HEAD", "--json")
    assert passing.exit_code == 0 and json.loads(passing.stdout)["ok"] is True

    assert run("check", "no-such-ref").exit_code == 2
    assert "unknown revision 'no-such-ref'" in run("check", "no-such-ref").output
    assert run("check", "--no-such-option").exit_code == 2


def write_policy(repo: Path, text: str) -> None:
    (repo / ".aitrail").mkdir(exist_ok=True)
    (repo / ".aitrail" / "policy.toml").write_text(text)


def test_a_bad_policy_file_is_a_usage_error_naming_the_key_and_the_revision(repo, monkeypatch):
    write_policy(repo, "[signoff]\napprovers = \"all of them\"\n")
    commit(repo, "policy")
    ai_write(repo, "refund.py", LINES)
    commit(repo, "refund")
    monkeypatch.chdir(repo)
    result = run("check", "HEAD")
    parent = git(repo, "rev-parse", "HEAD^")
    assert result.exit_code == 2
    assert f".aitrail/policy.toml at HEAD^ ({parent[:12]}): signoff.approvers: must be a whole number" in result.output
    assert "Traceback" not in result.output


def test_a_range_is_checked_against_the_policy_committed_where_it_starts_not_one_it_edits(repo, monkeypatch):
    """main asks two reviewers; the branch's first commit lowers that to none and its second is AI-written with
    one approver: checked as a range, the branch still needs two reviewers (main's policy); an uncommitted edit
    changes nothing either. Once the lowered policy is on main, the commits after it are held to it."""
    write_policy(repo, "[signoff]\nreviewers = 2\napprovers = 1\n")
    commit(repo, "policy: two reviewers")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "-c", "feature")
    write_policy(repo, "[signoff]\nreviewers = 0\napprovers = 1\n")
    commit(repo, "policy: no reviewers")
    ai_write(repo, "refund.py", LINES)
    sha = commit(repo, "refund", f"Approved-by: {CY[0]} <{CY[1]}>")
    write_policy(repo, "[signoff]\nreviewers = 0\napprovers = 0\n")  # in the working tree only
    monkeypatch.chdir(repo)

    checked = run("check", "main..feature", "--json")
    assert checked.exit_code == 1, checked.output
    found = json.loads(checked.stdout)
    assert (found["policy"], found["policy_file"], found["policy_revision"]) == (
        f".aitrail/policy.toml at main ({base[:12]})", ".aitrail/policy.toml", base)
    assert [(c["commit"], c["ok"], c["missing"]) for c in found["commits"] if c["needs_signoff"]] == [
        (sha, False, [f"reviewers: 0 of 2 (a reviewer other than the prompter ({ANA[1]}) and the other signers)"])]
    said = run("check", "main..feature")
    assert f"policy: .aitrail/policy.toml at main ({base[:12]})" in said.stdout

    lowered = git(repo, "rev-parse", "HEAD^")
    held = json.loads(run("check", "HEAD", "--json").stdout)  # the policy commit is HEAD's parent
    assert (held["ok"], held["policy_revision"]) == (True, lowered)


def test_a_first_commit_is_checked_against_the_defaults_whatever_policy_it_adds(env, spans, monkeypatch):
    fresh = env / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", "-b", "main")
    write_policy(fresh, "[signoff]\nreviewers = 0\napprovers = 0\n")
    ai_write(fresh, "refund.py", LINES)
    sha = commit(fresh, "first")
    monkeypatch.chdir(fresh)
    result = run("check", "HEAD", "--json")
    found = json.loads(result.stdout)
    assert result.exit_code == 1
    assert (found["policy"], found["policy_file"], found["policy_revision"]) == (
        "defaults: no commit before the commits checked", None, None)
    assert [(c["commit"], len(c["missing"])) for c in found["commits"]] == [(sha, 2)]  # a reviewer, an approver


def test_signoff_usage_errors_are_exit_2_with_what_to_do(repo, monkeypatch):
    monkeypatch.chdir(repo)
    assert "--role reviewer or --role approver" in run("signoff", "HEAD").output
    assert run("signoff", "HEAD").exit_code == 2
    assert run("signoff", "HEAD", "--role", "boss").exit_code == 2
    assert "KEY=yes" in run("signoff", "HEAD", "--role", "reviewer", "--answer", "tests").output
    misspelt = run("signoff", "HEAD", "--role", "reviewer", "--answer", "test=yes")
    assert misspelt.exit_code == 2
    assert "checklist answer 'test': the policy asks no such question; its keys: tests, security" in misspelt.output
    missing = run("signoff", "import", str(repo / "nothing.json"), "--range", "HEAD~1..HEAD")
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_signoff_import_of_github_reviews_satisfies_the_policy(repo, env, monkeypatch):
    ai_write(repo, "refund.py", LINES)
    sha = commit(repo, "refund")
    reviews = env / "reviews.json"
    reviews.write_text(REVIEWS.read_text().replace("HEAD_SHA", sha))
    monkeypatch.chdir(repo)
    assert run("check", "HEAD").exit_code == 1
    imported = run("signoff", "import", str(reviews), "--range", "HEAD~1..HEAD", "--json")
    assert imported.exit_code == 0, imported.output
    assert sorted((s["role"], s["signer"]) for s in json.loads(imported.stdout)) == [
        ("approver", "cy-approver"), ("reviewer", "bo-li")]
    again = run("signoff", "import", str(reviews), "--range", "HEAD~1..HEAD")
    parent = git(repo, "rev-parse", "HEAD^")
    assert f"policy: defaults: no .aitrail/policy.toml at the parent of {sha[:12]} ({parent[:12]})" in again.stdout
    assert run("check", "HEAD").exit_code == 0


def test_the_pre_push_hook_stops_a_push_that_misses_sign_offs(repo, env, monkeypatch):
    remote = env / "remote.git"
    git(env, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    assert run("hook", "install", "--pre-push", "--repo", str(repo)).exit_code == 0
    ai_write(repo, "refund.py", LINES)
    sha = commit(repo, "refund")

    push = subprocess.run(["git", "push", "origin", "main"], cwd=repo, capture_output=True, text=True)
    assert push.returncode != 0
    assert f"FAIL {sha[:12]}" in push.stderr and "push stopped" in push.stderr
    assert git(remote, "rev-parse", "main") != sha

    monkeypatch.chdir(repo)
    for who, role in ((BO, "reviewer"), (CY, "approver")):
        monkeypatch.setenv("AITRAIL_USER_EMAIL", who[1])
        assert run("signoff", "HEAD", "--role", role).exit_code == 0
    push = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=repo, capture_output=True, text=True)
    assert push.returncode == 0, push.stderr
    assert git(remote, "rev-parse", "main") == sha


def test_sign_offs_and_prompters_come_from_the_collector_when_one_is_reachable(repo, env, collector, monkeypatch):
    """The generation was prompted by Pat (not the commit's author); Pat's sign-off does not count, and the
    sign-offs recorded through the collector are found after the local journal is gone."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.http_url)
    monkeypatch.setenv("AITRAIL_USER_EMAIL", "pat@example.com")
    aitrail.configure()
    ai_write(repo, "refund.py", LINES)
    sha = commit(repo, "refund")
    record_commit(repo)
    assert aitrail.flush()
    monkeypatch.chdir(repo)
    for who, role in (("pat@example.com", "reviewer"), (CY[1], "approver")):
        monkeypatch.setenv("AITRAIL_USER_EMAIL", who)
        assert run("signoff", "HEAD", "--role", role).exit_code == 0
    (env / "journal" / "signoffs.jsonl").unlink()

    deadline = time.monotonic() + 10
    while True:
        found = json.loads(run("check", "HEAD", "--json", "--sql-url", collector.sql_url).stdout)["commits"][0]
        if len(found["signoffs"]) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert found["prompters"] == sorted([ANA[1], "pat@example.com"])
    assert sorted((s["role"], s["signer"], s["source"]) for s in found["signoffs"]) == [
        ("approver", CY[1], "cli"), ("reviewer", "pat@example.com", "cli")]
    assert found["missing"] == [f"reviewers: 0 of 1 (a reviewer other than the prompter ({ANA[1]}, pat@example.com) "
                                "and the other signers)"]
    assert found["commit"] == sha


def reviews_for(env: Path, sha: str) -> tuple[Path, list[tuple]]:
    """The fixture's reviews of ``sha`` in a file, and the ai_signoffs rows they must give, read from the fixture
    itself: GitHub's default states (COMMENTED: reviewer, APPROVED: approver), the login as signer id."""
    reviews = env / "reviews.json"
    reviews.write_text(REVIEWS.read_text().replace("HEAD_SHA", sha))
    roles = {"COMMENTED": "reviewer", "APPROVED": "approver"}
    want = sorted((sha, roles[r["state"]], r["user"]["login"], "github", r["pull_request_url"], r["body"])
                  for r in json.loads(reviews.read_text()) if r["state"] in roles)
    return reviews, want


SIGNOFF_ROWS = ("SELECT commit, role, signer_id, source, change, note FROM aitrail.ai_signoffs FINAL "
                "ORDER BY commit, role, signer_id")


def test_signoff_import_with_no_collector_running_writes_the_store_directly(repo, env, monkeypatch):
    from aitrail.collector.store import StoreLocation, open_store

    ai_write(repo, "refund.py", LINES)
    reviews, want = reviews_for(env, commit(repo, "refund"))
    monkeypatch.chdir(repo)
    store = env / "store"
    imported = run("signoff", "import", str(reviews), "--range", "HEAD~1..HEAD", "--data-dir", str(store))
    assert imported.exit_code == 0, imported.output
    with open_store(StoreLocation(data_dir=store)) as opened:
        assert [tuple(r.values()) for r in opened.rows(SIGNOFF_ROWS)] == want


def test_signoff_import_goes_through_the_collector_that_owns_the_data_directory(repo, env, collector, ch, tmp_path,
                                                                                 monkeypatch):
    ai_write(repo, "refund.py", LINES)
    reviews, want = reviews_for(env, commit(repo, "refund"))
    monkeypatch.chdir(repo)
    imported = run("signoff", "import", str(reviews), "--range", "HEAD~1..HEAD", "--data-dir", str(tmp_path / "store"))
    assert imported.exit_code == 0, imported.output  # not refused by the collector's lock on the store
    assert [tuple(r.values()) for r in ch.query(SIGNOFF_ROWS).named_results()] == want
    assert collector.store.rows("SELECT count() AS n FROM aitrail.otel_traces")[0]["n"] == len(want)


def test_a_signoff_import_the_named_collector_cannot_take_fails_saying_so_and_keeps_the_journal(repo, env, monkeypatch):
    import socket

    ai_write(repo, "refund.py", LINES)
    reviews, want = reviews_for(env, commit(repo, "refund"))
    monkeypatch.chdir(repo)
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
        imported = run("signoff", "import", str(reviews), "--range", "HEAD~1..HEAD", "--endpoint", endpoint)
    assert imported.exit_code == 1
    assert f"cannot reach the collector at {endpoint}" in imported.output and "Traceback" not in imported.output
    journal = [json.loads(line) for line in (env / "journal" / "signoffs.jsonl").read_text().splitlines()]
    assert sorted((j["commit"], j["role"], j["signer_id"]) for j in journal) == [w[:3] for w in want]
