"""The tracking API end to end: spans over real OTLP to a real collector, read back from ClickHouse."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest

import aitrail
from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import fingerprints
from aitrail.sdk.journal import Journal


@pytest.fixture
def sdk(collector, tmp_path, monkeypatch):
    """The SDK configured to export to the test's collector, with a private journal."""
    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal.jsonl"))
    monkeypatch.setenv("AITRAIL_USER_ID", "u-test")
    monkeypatch.setenv("AITRAIL_TEAM", "platform")
    runtime = aitrail.configure(endpoint=collector.http_url, prompt_policy="full")
    yield runtime
    aitrail.shutdown()


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    git = ["git", "-c", "user.name=Test", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://bot:s3cret@git.example.com/acme/shop.git"], cwd=root, check=True)
    (root / "README.md").write_text("shop\n")
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=root, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    return root, head


def generations(ch):
    return list(ch.query("SELECT * FROM aitrail.ai_generations ORDER BY file_path").named_results())


def test_a_tracked_generation_with_edits_lands_as_rows(sdk, ch, repo):
    root, head = repo
    code = "def add(a, b):\n    return a + b\n}\n"
    second = "x = compute_total(items)\n"
    with aitrail.track(assistant="my-tool", prompt="write add()", model="claude-sonnet-4-5", provider="anthropic",
                       session_id="s-1", cwd=root) as gen:
        gen.record_edit(root / "src" / "math.py", code)
        gen.record_edit(root / "src" / "other.py", second, old_text="")
        gen.usage(input_tokens=100, output_tokens=20, cost=0.01)
        gen.usage(input_tokens=5, output_tokens=1)
        gen.decision("accepted")
    assert aitrail.flush(timeout=60)
    rows = generations(ch)
    assert [r["file_path"] for r in rows] == ["src/math.py", "src/other.py"]
    first, other = rows
    assert first["line_fingerprints"] == fingerprints(code.splitlines())
    assert other["line_fingerprints"] == fingerprints(second.splitlines())
    assert first["lines_added"] == 3 and first["line_start"] == 1 and first["line_end"] == 3
    assert (first["input_tokens"], first["output_tokens"], first["cost_usd"]) == (105, 21, 0.01)
    assert (other["input_tokens"], other["cost_usd"]) == (0, 0)  # usage counted once, on the first file
    for row in rows:
        assert row["assistant"] == "my-tool" and row["model"] == "claude-sonnet-4-5" and row["provider"] == "anthropic"
        assert row["prompt"] == "write add()" and row["prompt_policy"] == "full"
        assert row["session_id"] == "s-1" and row["decision"] == "accepted"
        assert row["repository"] == "https://git.example.com/acme/shop.git"  # credentials stripped
        assert row["branch"] == "main" and row["commit"] == head
        assert row["user_id"] == "u-test" and row["team"] == "platform"
    journal = Journal().index(str(root))
    assert set(journal) == set(fingerprints(code.splitlines()) + fingerprints(second.splitlines()))


def test_exceptions_are_recorded_and_reraised(sdk, ch):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with aitrail.track(assistant="t", prompt="p", model="m"):
            raise Boom("nope")
    assert aitrail.flush(timeout=60)
    rows = generations(ch)
    assert len(rows) == 1 and rows[0]["status"] == "Error"


def test_decorator_and_async_and_nesting(sdk, ch):
    @aitrail.track(assistant="deco", prompt="sync", model="m1")
    def sync_job(x):
        return x * 2

    @aitrail.track(assistant="deco", prompt="async", model="m2")
    async def async_job(x):
        await asyncio.sleep(0)
        return x + 1

    async def nested():
        async with aitrail.track(assistant="outer", prompt="outer", model="m3") as outer:
            async with aitrail.track(assistant="inner", prompt="inner", model="m4"):
                pass
            return outer

    assert sync_job(21) == 42
    assert asyncio.run(async_job(1)) == 2
    asyncio.run(nested())
    asyncio.run(_concurrent(async_job))
    assert aitrail.flush(timeout=60)
    rows = list(ch.query("SELECT SpanName, TraceId, SpanId, ParentSpanId, SpanAttributes['aitrail.prompt.text'] AS p FROM aitrail.otel_traces").named_results())
    by_prompt = {r["p"]: r for r in rows}
    assert sorted(r["p"] for r in rows) == sorted(["sync", "async", "outer", "inner", "async", "async", "async"])
    assert by_prompt["inner"]["ParentSpanId"] == by_prompt["outer"]["SpanId"]
    assert by_prompt["inner"]["TraceId"] == by_prompt["outer"]["TraceId"]
    assert by_prompt["sync"]["ParentSpanId"] == ""


async def _concurrent(job):
    return await asyncio.gather(*(job(i) for i in range(3)))


def test_a_missing_collector_costs_nothing_but_counted_drops(tmp_path, monkeypatch):
    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal.jsonl"))
    runtime = aitrail.configure(endpoint="http://127.0.0.1:9")  # nothing listens there
    try:
        with aitrail.track(assistant="t", prompt="p", model="m") as gen:
            gen.usage(1, 1)
        aitrail.flush(timeout=15)
        assert runtime.stats.dropped == 1 and runtime.stats.exported == 0
    finally:
        aitrail.shutdown()


def test_hash_and_none_policies_keep_the_prompt_home(collector, ch, tmp_path, monkeypatch):
    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal.jsonl"))
    for policy in ("hash", "none"):
        aitrail.configure(endpoint=collector.http_url, prompt_policy=policy, salt="pepper")
        with aitrail.track(assistant=policy, prompt="the secret plan", model="m"):
            pass
        assert aitrail.flush(timeout=60)
        aitrail.shutdown()
    rows = {r["assistant"]: r for r in generations(ch)}
    assert rows["hash"]["prompt"] == "" and len(rows["hash"]["prompt_hash"]) == 64
    assert rows["none"]["prompt"] == "" and rows["none"]["prompt_hash"] == ""
    raw = json.dumps([list(r) for r in ch.query("SELECT SpanAttributes FROM aitrail.otel_traces").result_rows])
    assert "the secret plan" not in raw


def test_a_bad_policy_setting_warns_once_records_without_the_prompt_and_never_raises(collector, ch, tmp_path, monkeypatch):
    from aitrail.sdk.policy import SettingWarning

    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal.jsonl"))
    monkeypatch.setenv("AITRAIL_PROMPT_POLICY", "bogus")
    monkeypatch.setattr("aitrail.sdk.policy._warned", set())
    with pytest.warns(SettingWarning, match="bogus") as warned:
        aitrail.configure(endpoint=collector.http_url)
        for _ in range(2):
            with aitrail.track(assistant="tool", prompt="the secret plan", model="m"):
                pass
        aitrail.configure(endpoint=collector.http_url)  # read again: no second warning
    try:
        assert len([w for w in warned if issubclass(w.category, SettingWarning)]) == 1
        assert aitrail.flush(timeout=60)
    finally:
        aitrail.shutdown()
    rows = generations(ch)
    assert len(rows) == 2 and {r["prompt_policy"] for r in rows} == {"none"} and {r["prompt"] for r in rows} == {""}


def test_a_generation_that_writes_no_file_takes_the_repositorys_default_team(sdk, ch, repo, monkeypatch):
    root, _ = repo
    monkeypatch.delenv("AITRAIL_TEAM")
    (root / ".aitrail").mkdir()
    (root / ".aitrail" / "teams").write_text("*  support\n/src/  backend\n")
    with aitrail.track(assistant="chat-tool", prompt="explain the retry policy", model="m", cwd=root):
        pass  # an answer, no file
    assert aitrail.flush(timeout=60)
    (row,) = generations(ch)
    assert (row["file_path"], row["team"]) == ("", "support")
