"""The real Claude Code CLI, its own OpenTelemetry pointed at a real collector: its file edits become generations.

Claude Code is installed from the npm registry once, into a cache that later runs reuse
(``$XDG_CACHE_HOME/aitrail-tests/claude-code``, or ``AITRAIL_CLAUDE_CODE=/path/to/claude``); without
npm or the registry the test is skipped, saying why. It runs in print mode against a local
stand-in of the Anthropic Messages API (tests/integration/anthropic_standin.py) that asks it to
Write a file and then Edit it; nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib puts no test folder on sys.path

from anthropic_standin import AnthropicStandin, ToolUse  # noqa: E402

from aitrail.collector.derive import Window, derive_once  # noqa: E402
from aitrail.sdk.fingerprint import fingerprints  # noqa: E402

PACKAGE = "@anthropic-ai/claude-code"
PROMPT = "Add a retry policy for the card gateway in src/retry.py"
DERIVING = {"derive_interval": 0.2, "derive_settle": 4.0, "derive_wait": 30.0}
"""The collector derives as it would live, sooner. An Edit's line numbers come from its span (the tool's structured
patch), exported apart from the log events: derivation waits derive_settle for it. At 1 s a loaded machine
sometimes derived the Edit before its span came (line_start 0); 4 s is still below the 6 s default that covers the
assistants' 5 s export interval."""
CONTENT = "\n".join([
    '"""Payments: retry policy for the card gateway."""',
    "",
    "import time",
    "",
    "",
    "MAX_ATTEMPTS = 5",
    "BASE_DELAY_SECONDS = 0.2",
    "",
    "",
    "def backoff(attempt: int) -> float:",
    '    """Seconds to wait before the given attempt (1-based)."""',
    "    return BASE_DELAY_SECONDS * (2 ** (attempt - 1))",
    "",
    "",
    "def charge_with_retry(gateway, card, amount_cents: int):",
    "    last_error = None",
    "    for attempt in range(1, MAX_ATTEMPTS + 1):",
    "        try:",
    "            return gateway.charge(card=card, amount_cents=amount_cents)",
    "        except TimeoutError as exc:  # the gateway is slow, not failing",
    "            last_error = exc",
    "            time.sleep(backoff(attempt))",
    '    raise RuntimeError(f"charge failed after {MAX_ATTEMPTS} attempts") from last_error',
    "",
])  # 703 characters: more than Claude Code puts in a log record, so the content comes from its span
OLD, NEW = "MAX_ATTEMPTS = 5\n", "MAX_ATTEMPTS = 7  # raised after the outage review\nJITTER_SECONDS = 0.05\n"


def _lines(text: str) -> list[str]:
    return (text[:-1] if text.endswith("\n") else text).split("\n")


@pytest.fixture(scope="session")
def claude() -> Path:
    """The ``claude`` executable: given, cached, or installed from the npm registry now (else skip)."""
    given = os.environ.get("AITRAIL_CLAUDE_CODE")
    if given:
        return Path(given)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aitrail-tests" / "claude-code"
    executable = cache / "node_modules" / ".bin" / "claude"
    if not executable.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install Claude Code from the npm registry")
        cache.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run([npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", PACKAGE],
                                  capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm install {PACKAGE} took more than 5 minutes (registry unreachable?)")
        if done.returncode != 0 or not executable.exists():
            pytest.skip(f"npm install {PACKAGE} failed (registry unreachable?): {(done.stderr or done.stdout)[-600:]}")
    version = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=60)
    if version.returncode != 0:
        pytest.skip(f"{executable} does not run here: {(version.stderr or version.stdout)[-600:]}")
    print(f"Claude Code {version.stdout.strip()} from {executable}")
    return executable


def test_claude_codes_own_telemetry_becomes_generations(claude, make_collector, tmp_path):
    repo, home = tmp_path / "repo", tmp_path / "home"
    (repo / "src").mkdir(parents=True)
    home.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    target = str(repo / "src" / "retry.py")
    script = [ToolUse("Write", {"file_path": target, "content": CONTENT}),
              ToolUse("Edit", {"file_path": target, "old_string": OLD, "new_string": NEW})]
    collector = make_collector(**DERIVING)

    with AnthropicStandin(script) as api:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": api.url, "ANTHROPIC_API_KEY": "sk-ant-test-key",
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1", "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp", "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_url,
            "OTEL_LOG_USER_PROMPTS": "1", "OTEL_LOG_TOOL_DETAILS": "1", "OTEL_LOG_TOOL_CONTENT": "1",
            "OTEL_RESOURCE_ATTRIBUTES": f"team=payments,aitrail.repo.root={repo}",
            "OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_LOGS_EXPORT_INTERVAL": "500", "OTEL_TRACES_EXPORT_INTERVAL": "500",
        }
        run = subprocess.run([str(claude), "-p", PROMPT, "--allowedTools", "Write,Edit", "--permission-mode", "acceptEdits"],
                             cwd=repo, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        model = next(r["body"]["model"] for r in api.requests if "body" in r)
    assert (repo / "src" / "retry.py").read_text() == CONTENT.replace(OLD, NEW)

    store = collector.store
    query = ("SELECT * FROM aitrail.ai_generations WHERE assistant = 'claude-code' AND file_path != '' "
             "ORDER BY timestamp")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(store.rows(query)) < 2:
        time.sleep(0.25)
    write, edit = store.rows(query)

    assert write["file_path"] == edit["file_path"] == "src/retry.py"  # absolute in the telemetry
    assert write["line_fingerprints"] == fingerprints(_lines(CONTENT))  # exactly the lines written
    assert (write["line_start"], write["line_end"], write["lines_added"]) == (1, len(_lines(CONTENT)), len(_lines(CONTENT)))
    added = [line for line in _lines(NEW) if line not in _lines(OLD)]
    assert edit["line_fingerprints"] == fingerprints(added)
    first = _lines(CONTENT).index(OLD.rstrip("\n")) + 1
    assert (edit["line_start"], edit["line_end"], edit["lines_removed"]) == (first, first + 1, 1)
    for row in (write, edit):
        assert row["prompt"] == PROMPT and row["prompt_policy"] == "full"
        assert row["model"] == model and row["provider"] == "anthropic"
        assert (row["input_tokens"], row["output_tokens"]) == (321, 54)  # the stand-in's usage, one answer each
        assert row["cost_usd"] > 0 and row["team"] == "payments" and row["tenant"] == "default"
        assert row["decision"] == "accepted" and row["language"] == "python"
        assert row["user_id"] and row["session_id"] and row["trace_id"]

    # Every answer Claude Code logged is counted once, on a write or as an answer of its own.
    deadline = time.monotonic() + 30
    requests = lambda: store.rows("SELECT count() AS n FROM aitrail.otel_logs WHERE EventName = 'api_request'")[0]["n"]  # noqa: E731
    total = lambda: store.rows("SELECT sum(input_tokens) AS n FROM aitrail.ai_generations WHERE assistant = 'claude-code'")[0]["n"]  # noqa: E731
    while time.monotonic() < deadline and total() < 321 * requests():
        time.sleep(0.25)
    assert total() == 321 * requests()


def _wrapped_claude(claude: Path, collector, tmp_path: Path, settings: dict | None = None) -> Path:
    """``aitrail wrap -- claude -p ...`` in a fresh repository (git user.email and user.name set, AITRAIL_TEAM=payments)
    that Claude Code, given ``settings`` as its ~/.claude/settings.json, answers with a Write; the repository."""
    repo, home = tmp_path / "repo", tmp_path / "home"
    (repo / "src").mkdir(parents=True)
    (home / ".claude").mkdir(parents=True)
    if settings is not None:
        (home / ".claude" / "settings.json").write_text(json.dumps(settings))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.email", "ana@example.com"], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "Ana Lima"], check=True)
    aitrail = Path(sys.executable).with_name("aitrail")
    with AnthropicStandin([ToolUse("Write", {"file_path": str(repo / "src" / "retry.py"), "content": CONTENT})]) as api:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": api.url, "ANTHROPIC_API_KEY": "sk-ant-test-key",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
            "OTEL_LOG_TOOL_CONTENT": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_url,
            "OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_LOGS_EXPORT_INTERVAL": "500", "OTEL_TRACES_EXPORT_INTERVAL": "500",
            "AITRAIL_TEAM": "payments", "AITRAIL_JOURNAL": str(tmp_path / "journal.jsonl"),
        }
        run = subprocess.run([str(aitrail), "wrap", "--", str(claude), "-p", PROMPT, "--allowedTools", "Write",
                              "--permission-mode", "acceptEdits"], cwd=repo, env=env, capture_output=True, text=True,
                             timeout=180)
        assert run.returncode == 0, run.stderr[-2000:]
    return repo


def test_under_aitrail_wrap_the_generations_carry_the_author_and_the_team(claude, make_collector, tmp_path):
    """``aitrail wrap -- claude -p ...``: Claude Code knows an opaque id at best; the wrap gives it the person
    (git's user.email) and the team (AITRAIL_TEAM) in its resource, and the derived generations carry them."""
    collector = make_collector(**DERIVING)
    _wrapped_claude(claude, collector, tmp_path)

    query = ("SELECT user_email, user_name, team FROM aitrail.ai_generations "
             "WHERE assistant = 'claude-code' AND file_path = 'src/retry.py'")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not collector.store.rows(query):
        time.sleep(0.25)
    assert collector.store.rows(query) == [{"user_email": "ana@example.com", "user_name": "Ana Lima", "team": "payments"}]


def test_when_claude_codes_settings_replace_its_resource_the_wrap_still_names_the_author(claude, make_collector, tmp_path):
    """An organisation's ~/.claude/settings.json sets OTEL_RESOURCE_ATTRIBUTES (its "env" wins over the process's):
    the person, the team, the repository root and the wrap's trace id never reach Claude Code's telemetry. It still
    joins the wrap's trace (TRACEPARENT), and the derivation takes from the wrap's span what its events lack."""
    collector = make_collector(derive_interval=0)  # derived below, once everything is stored
    repo = _wrapped_claude(claude, collector, tmp_path, {"env": {"OTEL_RESOURCE_ATTRIBUTES": "department=engineering"}})
    store = collector.store
    arrived = ("SELECT (SELECT count() FROM aitrail.otel_traces WHERE SpanName = 'generation claude-code') AS wrap, "
               "(SELECT count() FROM aitrail.otel_traces WHERE SpanName = 'claude_code.tool') AS tool, "
               "(SELECT count() FROM aitrail.otel_logs WHERE EventName = 'tool_result') AS result, "
               "(SELECT count() FROM aitrail.otel_logs WHERE ResourceAttributes['department'] = 'engineering') AS own")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(store.rows(arrived)[0].values()):
        time.sleep(0.25)
    assert all(store.rows(arrived)[0].values()), store.rows(arrived)
    derive_once(store, Window(settle=0.0))

    branch = subprocess.run(["git", "-C", str(repo), "symbolic-ref", "--short", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    rows = store.rows("SELECT user_email, user_name, team, branch, file_path FROM aitrail.ai_generations "
                      "WHERE assistant = 'claude-code' AND file_path != ''")
    assert rows == [{"user_email": "ana@example.com", "user_name": "Ana Lima", "team": "payments", "branch": branch,
                     "file_path": "src/retry.py"}]
