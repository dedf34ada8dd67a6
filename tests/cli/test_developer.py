"""``aitrail wrap`` and ``aitrail hook``, driven as a developer drives them: the real executable and typer's runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.sdk.fingerprint import fingerprints
from aitrail.sdk.hooks import BACKUP_SUFFIX, MARKER

AITRAIL = str(Path(sys.executable).parent / "aitrail")
runner = CliRunner()

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Author", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
DROPPED = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
           "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_RESOURCE_ATTRIBUTES", "TRACEPARENT", "AITRAIL_DISABLED",
           "OTEL_TRACES_EXPORTER", "OTEL_LOGS_EXPORTER", "OTEL_METRICS_EXPORTER", "CLAUDE_CODE_ENABLE_TELEMETRY")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The environment of every subprocess: private HOME and journal, git identity, nothing of the outside OTEL_*."""
    home = tmp_path / "home"
    home.mkdir()
    values = {**GIT_ENV, "HOME": str(home), "AITRAIL_JOURNAL": str(tmp_path / "journal.jsonl"),
              "AITRAIL_PROMPT_POLICY": "full"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in DROPPED:
        monkeypatch.delenv(key, raising=False)
    return {k: val for k, val in os.environ.items() if k not in DROPPED}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path, env):
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("def main():\n    return 0\n")
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


CHILD = """\
import os, sys
data = sys.stdin.read()
with open("app.py", "a") as handle:
    handle.write("\\n\\ndef helper(value):\\n    return value * 2\\n")
with open("new_module.py", "w") as handle:
    handle.write("CONSTANT = 'from the assistant'\\n")
sys.stdout.write("stdout line 1\\n" + "stdin was: " + data + "\\n")
sys.stderr.write("child stderr\\n")
print("resource=" + os.environ.get("OTEL_RESOURCE_ATTRIBUTES", ""))
sys.exit(3)
"""


def test_wrap_passes_status_and_streams_through_and_records_the_files(repo, env, collector, ch, tmp_path):
    script = tmp_path / "assistant.py"
    script.write_text(CHILD)
    done = subprocess.run(
        [AITRAIL, "wrap", "--prompt", "add a helper", "--model", "claude-sonnet-4-5", "--", sys.executable, str(script)],
        cwd=repo, input=b"piped input", capture_output=True, env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_url},
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[:2] == ["stdout line 1", "stdin was: piped input"]
    assert lines[2].startswith("resource=aitrail.wrap.trace_id=")
    assert done.stderr.decode() == "child stderr\n"  # aitrail said nothing: all went well

    found = rows(ch, "SELECT * FROM aitrail.ai_generations ORDER BY file_path", 2)
    assert [r["file_path"] for r in found] == ["app.py", "new_module.py"]
    assert [set(r["line_fingerprints"]) for r in found] == [
        set(fingerprints(["def helper(value):", "    return value * 2"])),
        set(fingerprints(["CONSTANT = 'from the assistant'"])),
    ]
    for row in found:
        assert (row["assistant"], row["prompt"], row["model"]) == ("unknown", "add a helper", "claude-sonnet-4-5")
    assert lines[2].startswith(f"resource=aitrail.wrap.trace_id={found[0]['trace_id']},aitrail.repo.root=")


def test_wrap_without_a_separator_recognises_the_assistant_and_its_prompt(repo, env, collector, ch, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gemini"
    fake.write_text(f"#!{sys.executable}\nimport sys\nopen('app.py', 'a').write('EXTRA = compute_extra()\\n')\nprint(sys.argv[1:])\n")
    fake.chmod(0o755)
    done = subprocess.run(
        [AITRAIL, "wrap", "gemini", "-m", "gemini-2.5-pro", "-p", "add an extra"],
        cwd=repo, capture_output=True, text=True, timeout=60,
        env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_url, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['-m', 'gemini-2.5-pro', '-p', 'add an extra']\n"
    (row,) = rows(ch, "SELECT * FROM aitrail.ai_generations", 1)
    assert (row["assistant"], row["prompt"], row["model"]) == ("gemini-cli", "add an extra", "gemini-2.5-pro")
    assert list(row["line_fingerprints"]) == fingerprints(["EXTRA = compute_extra()"])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_wrap_forwards_signals_to_the_assistant(repo, env, tmp_path, signum):
    ready = tmp_path / "ready"
    child = (
        "import signal, sys, time, pathlib\n"
        f"signal.signal({int(signum)}, lambda *a: (print('got', {int(signum)}, flush=True), sys.exit(42)))\n"
        f"pathlib.Path({str(ready)!r}).write_text('x')\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.Popen([AITRAIL, "wrap", "--", sys.executable, "-c", child], cwd=repo, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**env, "AITRAIL_DISABLED": "1"})
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 42, err
    assert out.decode() == f"got {int(signum)}\n"


def test_wrap_exits_promptly_when_no_collector_listens(repo, env, tmp_path):
    started = time.monotonic()
    done = subprocess.run([AITRAIL, "wrap", "--", sys.executable, "-c", "open('app.py', 'a').write('late = True\\n')"],
                          cwd=repo, capture_output=True, text=True, timeout=60,
                          env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert done.returncode == 0
    assert time.monotonic() - started < 10
    assert "could not be sent" in done.stderr


def test_wrap_reports_a_command_that_does_not_exist(repo, env):
    done = subprocess.run([AITRAIL, "wrap", "--", "definitely-not-an-assistant-xyz"], cwd=repo, capture_output=True,
                          text=True, timeout=60, env={**env, "AITRAIL_DISABLED": "1"})
    assert done.returncode == 127
    assert "cannot run" in done.stderr


def test_hook_commands(repo, env, monkeypatch):
    monkeypatch.chdir(repo)
    original = b"#!/bin/sh\necho mine\n"
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_bytes(original)
    hook.chmod(0o755)

    installed = runner.invoke(app, ["hook", "install", "--trailer"], catch_exceptions=False)
    assert installed.exit_code == 0, installed.output
    assert "post-commit: chained" in installed.output and "prepare-commit-msg: installed" in installed.output
    assert MARKER in hook.read_text() and (hook.parent / f"post-commit{BACKUP_SUFFIX}").read_bytes() == original

    status = runner.invoke(app, ["hook", "status", "--repo", str(repo)], catch_exceptions=False)
    assert "post-commit: aitrail+original" in status.output and "prepare-commit-msg: aitrail" in status.output

    ran = runner.invoke(app, ["hook", "run", "post-commit"], catch_exceptions=False, env={"AITRAIL_DISABLED": "1"})
    assert ran.exit_code == 0
    wrong = runner.invoke(app, ["hook", "run", "no-such-hook", "--flag"], catch_exceptions=False)
    assert wrong.exit_code == 0  # a hook never fails

    removed = runner.invoke(app, ["hook", "uninstall"], catch_exceptions=False)
    assert removed.exit_code == 0
    assert "post-commit: restored" in removed.output and "prepare-commit-msg: removed" in removed.output
    assert hook.read_bytes() == original


def test_hook_install_outside_a_repository_fails_with_a_message(tmp_path, env, monkeypatch):
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = runner.invoke(app, ["hook", "install", "--repo", str(plain)])
    assert result.exit_code == 1
    assert "not in a git repository" in result.output


def test_hook_run_by_the_real_executable_records_nothing_and_exits_zero_outside_a_repo(tmp_path, env):
    done = subprocess.run([AITRAIL, "hook", "run", "post-commit"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**env, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent),
                                               "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert done.returncode == 0
    assert "post-commit hook:" in done.stderr


def test_help_lists_the_developer_commands():
    result = runner.invoke(app, ["--help"])
    assert "wrap" in result.output and "hook" in result.output


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_ctrl_c_at_the_terminal_reaches_the_assistant_once_and_the_wrapper_survives(repo, env, tmp_path):
    import pty
    import select

    ready = tmp_path / "ready"
    child = (
        "import signal, sys, time, pathlib\n"
        "count = [0]\n"
        "signal.signal(signal.SIGINT, lambda *a: count.__setitem__(0, count[0] + 1))\n"
        f"pathlib.Path({str(ready)!r}).write_text('x')\n"
        "time.sleep(1.5)\n"
        "print('interrupts', count[0], flush=True)\n"
        "sys.exit(10 + count[0])\n"
    )
    pid, fd = pty.fork()
    if pid == 0:  # the wrapper, in the foreground of its own terminal, like a developer's shell would run it
        try:
            os.chdir(repo)
            os.execve(AITRAIL, [AITRAIL, "wrap", "--", sys.executable, "-c", child], {**env, "AITRAIL_DISABLED": "1"})
        finally:
            os._exit(99)
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.write(fd, b"\x03")  # Ctrl-C: the terminal signals the whole foreground group
    out = b""
    while True:
        try:
            readable, _, _ = select.select([fd], [], [], 20)
            data = os.read(fd, 1024) if readable else b""
        except OSError:
            data = b""
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert b"interrupts 1" in out  # once, not once from the terminal and once more from the wrapper
    assert os.waitstatus_to_exitcode(status) == 11
