"""``aitrail.sdk.hooks``: real repositories, real ``git commit`` running the installed hooks, spans read back from ClickHouse."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import aitrail
from developer_env import isolate  # tests/fixtures (conftest puts it on the path)
from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.hooks import (
    BACKUP_SUFFIX,
    MARKER,
    Attribution,
    attribute_diff,
    hooks_dir,
    install,
    record_commit,
    run_hook,
    status,
    trailer_text,
    uninstall,
)
from aitrail.sdk.journal import Entry, Journal

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Carl Committer", "GIT_COMMITTER_EMAIL": "carl@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
             "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_RESOURCE_ATTRIBUTES", "TRACEPARENT", "AITRAIL_DISABLED")

ORIGINAL_HOOK = b"#!/bin/sh\n# the team's own post-commit hook\necho \"original ran $#\" >> \"$(git rev-parse --show-toplevel)/.git/original-ran\"\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    return isolate(tmp_path, monkeypatch, GIT_ENV, OTEL_VARS)


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def repo(env):
    root = env / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# shop\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")
    return root


def rows(ch, query: str, expected: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = list(ch.query(query).named_results())
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def commit_spans(ch, expected: int = 1) -> list[dict]:
    return rows(ch, "SELECT SpanName, SpanAttributes AS a, Links.SpanId AS links FROM aitrail.otel_traces "
                    "WHERE SpanAttributes['aitrail.kind'] = 'commit' ORDER BY Timestamp", expected)


# --- install / uninstall --------------------------------------------------------------------------


def test_install_chains_an_existing_hook_and_uninstall_restores_it_byte_for_byte(repo):
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_bytes(ORIGINAL_HOOK)
    hook.chmod(0o750)
    mode = stat.S_IMODE(hook.stat().st_mode)

    changes = install(repo, trailer=True)

    assert [(c.hook, c.action) for c in changes] == [("post-commit", "chained"), ("prepare-commit-msg", "installed")]
    assert MARKER in hook.read_text()
    assert (repo / ".git" / "hooks" / f"post-commit{BACKUP_SUFFIX}").read_bytes() == ORIGINAL_HOOK
    assert status(repo) == {"post-commit": "aitrail+original", "prepare-commit-msg": "aitrail", "pre-push": "none"}
    assert [c.action for c in install(repo, trailer=True)] == ["unchanged", "unchanged"]  # idempotent

    (repo / "a.py").write_text("value = compute()\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "second", env={**os.environ, "AITRAIL_DISABLED": "1"})
    assert (repo / ".git" / "original-ran").read_text() == "original ran 0\n"  # the original still runs

    assert [(c.hook, c.action) for c in uninstall(repo)] == [("post-commit", "restored"), ("prepare-commit-msg", "removed"),
                                                            ("pre-push", "absent")]
    assert hook.read_bytes() == ORIGINAL_HOOK
    assert stat.S_IMODE(hook.stat().st_mode) == mode
    assert sorted(p.name for p in (repo / ".git" / "hooks").iterdir() if not p.name.endswith(".sample")) == ["post-commit"]
    assert status(repo) == {"post-commit": "other", "prepare-commit-msg": "none", "pre-push": "none"}


def test_install_respects_core_hooks_path_and_uninstall_leaves_nothing(repo):
    git(repo, "config", "core.hooksPath", ".githooks")
    assert hooks_dir(repo) == (repo / ".githooks").resolve()
    install(repo)
    assert MARKER in (repo / ".githooks" / "post-commit").read_text()
    assert not (repo / ".git" / "hooks" / "post-commit").exists()
    uninstall(repo)
    assert list((repo / ".githooks").iterdir()) == []


def test_a_failing_original_prepare_commit_msg_still_aborts_the_commit(repo):
    hook = repo / ".git" / "hooks" / "prepare-commit-msg"
    hook.write_text("#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    install(repo, trailer=True)
    (repo / "b.py").write_text("b = 2\n")
    git(repo, "add", ".")
    done = subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "AITRAIL_DISABLED": "1"})
    assert done.returncode != 0 and "refused by policy" in done.stderr


# --- attribution --------------------------------------------------------------------------------------


def test_attribute_diff_counts_fingerprinted_lines_only():
    ai = "total = sum(prices)"
    entry = Entry(time=time.time(), repo="/r", path="x.py", fingerprints=(line_fingerprint(ai),), trace_id="1" * 32,
                  span_id="2" * 16, assistant="claude-code", model="m")
    diff = (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,0 +1,5 @@\n"
        f"+{ai}\n+\n+}}\n+    {ai}  \n+human_line = 1\n"
        "diff --git a/blank.txt b/blank.txt\nnew file mode 100644\n--- /dev/null\n+++ b/blank.txt\n@@ -0,0 +1,2 @@\n+\n+)\n"
    )
    found = attribute_diff(diff, {line_fingerprint(ai): entry})
    assert (found.added, found.ai) == (3, 2)  # the blank line and "}" count on neither side
    assert json.loads(found.files_json()) == [{"path": "x.py", "added": 3, "ai": 2}]
    assert found.assistants == ("claude-code",)
    assert trailer_text(found) == "AI-Assisted: 2/3 lines (claude-code)"
    assert trailer_text(Attribution(())) is None


def _journal_ai_lines(repo: Path, collector, lines: list[str], also_codex: list[str]) -> None:
    """Journal entries as real generations write them (track + record_edit), plus one appended directly."""
    aitrail.configure(endpoint=collector.http_url)
    try:
        with aitrail.track(assistant="claude-code", prompt="write pricing", cwd=repo) as gen:
            gen.record_edit(repo / "pricing.py", "\n".join(lines) + "\n")
        assert aitrail.flush()
    finally:
        aitrail.shutdown()
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()
    Journal().append([Entry(time=time.time(), repo=root, path="util.py",
                            fingerprints=tuple(fp for fp in map(line_fingerprint, also_codex) if fp is not None),
                            trace_id="ab" * 16, span_id="cd" * 8, assistant="codex", model="gpt-5")])


AI_PRICING = [
    "def price_with_tax(price, rate):",
    "    if rate < 0:",
    "        raise ValueError('negative rate')",
    "    return round(price * (1 + rate), 2)",
    "",
    "}",
]
AI_UTIL = ["def clamp(value, low, high):", "    return max(low, min(value, high))"]
HUMAN_PRICING = ["# pricing rules, reviewed by finance", "DEFAULT_RATE = 0.2", "", "x"]


def _expected(files: dict[str, list[str]], ai_lines: set[str]) -> dict[str, dict[str, int]]:
    """Line by line: every fingerprinted added line counts, AI when its text is one of the assistant's lines."""
    ai_prints = {line_fingerprint(line) for line in ai_lines} - {None}
    expected = {}
    for path, lines in files.items():
        prints = [line_fingerprint(line) for line in lines]
        counted = [fp for fp in prints if fp is not None]
        expected[path] = {"added": len(counted), "ai": sum(fp in ai_prints for fp in counted)}
    return expected


def test_a_commit_mixing_ai_and_human_lines_is_attributed_by_the_installed_hook(repo, collector, ch, env):
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_bytes(ORIGINAL_HOOK)
    hook.chmod(0o755)
    install(repo, trailer=True)
    _journal_ai_lines(repo, collector, AI_PRICING, AI_UTIL)

    pricing = HUMAN_PRICING[:2] + AI_PRICING + HUMAN_PRICING[2:]
    util = ["import math", *AI_UTIL, "    # tuned by hand", "HAND_WRITTEN = math.pi"]
    (repo / "pricing.py").write_text("\n".join(pricing) + "\n")
    (repo / "util.py").write_text("\n".join(util) + "\n")
    (repo / "README.md").write_text("# shop\n\nPrices include tax.\n")
    git(repo, "add", ".")
    hook_env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_url}
    git(repo, "commit", "-q", "-m", "Add pricing", "-m", "Co-authored-by: Bob <bob@example.com>", env=hook_env)
    sha = git(repo, "rev-parse", "HEAD").strip()

    assert (repo / ".git" / "original-ran").exists()
    expected = _expected({"README.md": ["", "Prices include tax."], "pricing.py": pricing, "util.py": util},
                         set(AI_PRICING) | set(AI_UTIL))
    expected = {path: counts for path, counts in expected.items() if counts["added"]}
    added = sum(c["added"] for c in expected.values())
    ai = sum(c["ai"] for c in expected.values())
    assert (added, ai) == (12, 6)  # sanity of the expectation itself

    message = git(repo, "log", "-1", "--format=%B")
    assert f"AI-Assisted: {ai}/{added} lines (claude-code, codex)" in message

    (span,) = commit_spans(ch)
    a = span["a"]
    assert a[v.KIND] == v.KIND_COMMIT
    assert a[v.VCS_REF_HEAD_REVISION] == sha
    assert a[v.VCS_REF_HEAD_NAME] == "main"
    assert (a[v.USER_EMAIL], a[v.USER_NAME]) == ("ada@example.com", "Ada Author")  # the author, not the committer
    assert a[v.USER_ID] == "ada@example.com"
    assert a[v.COMMITTER_EMAIL] == "carl@example.com"
    assert json.loads(a[v.COMMIT_PARENTS]) == [git(repo, "rev-parse", "HEAD^").strip()]
    (row,) = rows(ch, "SELECT parents, committer_email, generation_ids FROM aitrail.ai_commits FINAL", 1)
    assert (row["parents"], row["committer_email"]) == (json.loads(a[v.COMMIT_PARENTS]), "carl@example.com")
    assert sorted(row["generation_ids"]) == sorted(span["links"])
    assert (int(a[v.LINES_ADDED]), int(a[v.AI_LINES])) == (added, ai)
    assert {f["path"]: {"added": f["added"], "ai": f["ai"]} for f in json.loads(a[v.COMMIT_FILES])} == expected
    assert json.loads(a[v.COMMIT_ASSISTANTS]) == ["claude-code", "codex"]
    trailers = json.loads(a[v.COMMIT_TRAILERS])
    assert "Co-authored-by: Bob <bob@example.com>" in trailers
    assert f"AI-Assisted: {ai}/{added} lines (claude-code, codex)" in trailers
    generation = rows(ch, "SELECT span_id FROM aitrail.ai_generations WHERE assistant = 'claude-code'", 1)[0]["span_id"]
    assert generation in list(span["links"])  # the commit links to the generations it contains

    uninstall(repo)
    assert hook.read_bytes() == ORIGINAL_HOOK


def test_record_commit_of_a_root_commit_and_of_a_human_only_commit(env, collector, ch):
    root = env / "fresh"
    root.mkdir()
    git(root, "init", "-q", "-b", "trunk")
    ai_line = "answer = deep_thought()"
    top = git(root, "rev-parse", "--show-toplevel").strip()
    Journal().append([Entry(time=time.time(), repo=top, path="a.py", fingerprints=(line_fingerprint(ai_line),),
                            trace_id="ef" * 16, span_id="01" * 8, assistant="aider", model="")])
    Journal().append([Entry(time=time.time(), repo="/some/other/repo", path="a.py",
                            fingerprints=(line_fingerprint("human = typed_this()"),),
                            trace_id="ef" * 16, span_id="02" * 8, assistant="codex", model="")])
    (root / "a.py").write_text(f"{ai_line}\nhuman = typed_this()\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "root")
    aitrail.configure(endpoint=collector.http_url)
    try:
        first = record_commit(root)
        (root / "a.py").write_text(f"{ai_line}\nhuman = typed_this()\nmore = by_hand()\n")
        git(root, "commit", "-q", "-am", "second")
        second = record_commit(root)
        assert aitrail.flush()
    finally:
        aitrail.shutdown()
    assert first.parent == "" and (first.attribution.added, first.attribution.ai) == (2, 1)  # other repos don't count
    assert second.parent == first.sha and (second.attribution.added, second.attribution.ai) == (1, 0)
    spans = commit_spans(ch, 2)
    assert [(int(s["a"][v.LINES_ADDED]), int(s["a"][v.AI_LINES])) for s in spans] == [(2, 1), (1, 0)]
    assert json.loads(spans[1]["a"][v.COMMIT_ASSISTANTS]) == []
    assert [json.loads(s["a"][v.COMMIT_PARENTS]) for s in spans] == [[], [first.sha]]


def test_the_trailer_counts_the_whole_commit_when_amending(repo, env):
    ai_line = "result = model_wrote_this()"
    top = git(repo, "rev-parse", "--show-toplevel").strip()
    Journal().append([Entry(time=time.time(), repo=top, path="m.py", fingerprints=(line_fingerprint(ai_line),),
                            trace_id="ef" * 16, span_id="01" * 8, assistant="gemini-cli", model="")])
    install(repo, trailer=True)
    quiet = {**os.environ, "AITRAIL_DISABLED": "1"}
    (repo / "m.py").write_text(f"{ai_line}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "model work", env=quiet)
    assert "AI-Assisted: 1/1 lines (gemini-cli)" in git(repo, "log", "-1", "--format=%B")
    (repo / "m.py").write_text(f"{ai_line}\nfixed = by_a_person()\n")
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit", env=quiet)
    message = git(repo, "log", "-1", "--format=%B")
    assert "AI-Assisted: 1/2 lines (gemini-cli)" in message and message.count("AI-Assisted") == 1
    (repo / "m.py").write_text(f"{ai_line}\nfixed = by_a_person()\nalso = by_a_person_too()\n")
    git(repo, "commit", "-q", "-a", "--amend", "-m", "model work, reworded", env=quiet)  # git says "message", not "commit"
    message = git(repo, "log", "-1", "--format=%B")
    assert "AI-Assisted: 1/3 lines (gemini-cli)" in message and message.count("AI-Assisted") == 1
    (repo / "h.py").write_text("only = human_lines()\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "by hand", env=quiet)
    assert "AI-Assisted" not in git(repo, "log", "-1", "--format=%B")


def test_a_hook_never_fails(env, capsys, monkeypatch):
    outside = env / "not-a-repo"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(env))
    assert run_hook("post-commit", [], repo=outside) == 0
    assert run_hook("prepare-commit-msg", [], repo=outside) == 0
    assert run_hook("post-merge", [], repo=outside) == 0
    err = capsys.readouterr().err
    assert err.count("aitrail:") == 3 and "not in a git repository" in err and "unknown hook" in err
    # pre-push is the one hook that stops what git does: a push it cannot check is refused, in one line
    assert run_hook("pre-push", [], repo=outside) == 1
    assert capsys.readouterr().err.count("aitrail: pre-push: cannot check the push") == 1


def test_the_hook_returns_quickly_when_no_collector_listens(repo, env):
    install(repo)
    (repo / "c.py").write_text("c = compute_c()\n")
    git(repo, "add", ".")
    hook_env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}  # nothing listens on port 9
    started = time.monotonic()
    done = subprocess.run(["git", "commit", "-q", "-m", "c"], cwd=repo, capture_output=True, text=True, env=hook_env)
    elapsed = time.monotonic() - started
    assert done.returncode == 0
    assert elapsed < 8, elapsed
    assert "could not be sent" in done.stderr
    assert sys.executable in (repo / ".git" / "hooks" / "post-commit").read_text()


def test_a_commit_span_carries_the_team_of_its_author(repo, env, collector, ch, monkeypatch):
    """The repository's default team (``*``) for this machine's user; another author's team by e-mail rule."""
    monkeypatch.delenv("AITRAIL_TEAM", raising=False)
    (repo / ".aitrail").mkdir()
    (repo / ".aitrail" / "teams").write_text("*  platform\nzed@example.com  zed-team\n")
    (repo / "a.py").write_text("total = compute_total(items)\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "mine")
    (repo / "b.py").write_text("other = compute_other(items)\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "theirs", "--author", "Zed <zed@example.com>")
    aitrail.configure(endpoint=collector.http_url)
    try:
        record_commit(repo, git(repo, "rev-parse", "HEAD~1").strip())
        record_commit(repo)
        assert aitrail.flush()
    finally:
        aitrail.shutdown()
    teams = [(s["a"][v.USER_EMAIL], s["a"].get(v.TEAM)) for s in commit_spans(ch, 2)]
    assert teams == [(GIT_ENV["GIT_AUTHOR_EMAIL"], "platform"), ("zed@example.com", "zed-team")]
