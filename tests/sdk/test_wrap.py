"""``aitrail.sdk.wrap``: a real assistant-like process edits a real git working tree; the rows come back from ClickHouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from opentelemetry.trace import SpanContext, TraceFlags

import aitrail
from developer_env import isolate  # tests/fixtures (conftest puts it on the path)
from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import fingerprints
from aitrail.sdk.journal import Journal
from aitrail.sdk.wrap import wrap
from aitrail.sdk.wrap.assistants import assistant_name, recognise_model, recognise_prompt, recognise_session
from aitrail.sdk.wrap.child import child_environment
from aitrail.sdk.wrap.snapshot import Snapshot, changes, similarity, snapshot

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Human", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Human", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
             "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_EXPORTER",
             "OTEL_LOGS_EXPORTER", "OTEL_METRICS_EXPORTER", "CLAUDE_CODE_ENABLE_TELEMETRY", "TRACEPARENT",
             "TRACESTATE", "OTEL_EXPORTER_OTLP_HEADERS", "AITRAIL_DISABLED")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private HOME and journal, git identity by environment, no OTEL_* from the outside."""
    return isolate(tmp_path, monkeypatch, GIT_ENV, OTEL_VARS)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(env):
    root = env / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


@pytest.fixture
def sdk(collector, env):
    runtime = aitrail.configure(endpoint=collector.http_url, prompt_policy="full")
    yield runtime
    aitrail.shutdown()


def rows(ch, query: str, expected: int, timeout: float = 10.0) -> list[dict]:
    """The query's rows once there are ``expected`` of them (the collector batches for a few milliseconds)."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(ch.query(query).named_results())
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


# --- recognising assistants, prompts, models ----------------------------------------------


@pytest.mark.parametrize(("command", "name"), [
    (["claude", "-p", "x"], "claude-code"),
    (["/usr/local/bin/codex", "exec", "x"], "codex"),
    (["gemini"], "gemini-cli"),
    (["aider", "--message", "x"], "aider"),
    (["C:\\tools\\codex.exe"], "codex"),
    (["./my-agent", "go"], "my-agent"),
    (["sh", "-c", "claude -p x"], "unknown"),
    (["/bin/bash", "agent.sh"], "unknown"),
    (["python3.12", "agent.py"], "unknown"),
    (["npx", "some-agent"], "unknown"),
])
def test_assistant_name_from_the_executable(command, name):
    assert assistant_name(command) == name


@pytest.mark.parametrize(("command", "prompt"), [
    (["claude", "-p", "add input validation"], "add input validation"),
    (["claude", "--print", "add input validation"], "add input validation"),
    (["claude", "add input validation"], "add input validation"),
    (["claude", "--model", "opus", "-p", "--output-format", "json", "fix the bug"], "fix the bug"),
    (["claude", "--permission-mode=acceptEdits", "-p", "refactor"], "refactor"),
    (["claude", "-p", "--", "-starts with a dash"], "-starts with a dash"),
    (["claude"], None),
    (["claude", "-p"], None),  # prompt on standard input
    (["claude", "mcp", "list"], None),
    (["codex", "exec", "write the tests"], "write the tests"),
    (["codex", "exec", "--full-auto", "-m", "gpt-5", "write the tests"], "write the tests"),
    (["codex", "e", "-C", "/src", "do it"], "do it"),
    (["codex", "write the tests"], "write the tests"),
    (["codex", "-m", "o3", "write the tests"], "write the tests"),
    (["codex", "exec", "-"], None),
    (["codex", "login"], None),
    (["codex", "exec", "resume", "--last", "continue please"], "continue please"),
    (["gemini", "-p", "explain this"], "explain this"),
    (["gemini", "--prompt", "explain this"], "explain this"),
    (["gemini", "--prompt=explain this"], "explain this"),
    (["gemini", "-m", "gemini-2.5-pro", "-p", "explain this"], "explain this"),
    (["gemini", "-i", "start here"], "start here"),
    (["gemini"], None),
    (["aider", "--message", "add docstrings", "app.py"], "add docstrings"),
    (["aider", "-m", "add docstrings"], "add docstrings"),
    (["aider", "--msg", "add docstrings"], "add docstrings"),
    (["aider", "app.py", "utils.py"], None),
    (["my-agent", "--prompt", "anything"], None),
    ([sys.executable, "-c", "print(1)"], None),
])
def test_prompt_recognised_from_the_assistants_arguments(command, prompt):
    assert recognise_prompt(command) == prompt


def test_aider_message_file_is_the_prompt(tmp_path):
    message = tmp_path / "msg.txt"
    message.write_text("rename the helper")
    assert recognise_prompt(["aider", "--message-file", str(message)]) == "rename the helper"


def test_an_explicit_assistant_name_picks_the_grammar():
    assert recognise_prompt(["/opt/bin/claude-wrapper", "-p", "hello"], "claude-code") == "hello"


def test_model_and_session_recognised():
    assert recognise_model(["claude", "--model", "claude-opus-4-1", "-p", "x"]) == "claude-opus-4-1"
    assert recognise_model(["codex", "exec", "-m", "gpt-5", "x"]) == "gpt-5"
    assert recognise_model(["gemini", "--model=gemini-2.5-pro"]) == "gemini-2.5-pro"
    assert recognise_model(["aider", "-m", "not a model", "--model", "sonnet"]) == "sonnet"
    assert recognise_model(["claude", "-p", "x"]) is None
    assert recognise_session(["claude", "--session-id", "6f1c0e8e-1111-4222-8333-444455556666", "-p", "x"]) == \
        "6f1c0e8e-1111-4222-8333-444455556666"
    assert recognise_session(["codex", "x"]) is None


# --- snapshots and changes ----------------------------------------------------------------


def test_changes_pair_renames_and_ignore_what_did_not_change():
    before = Snapshot(root=Path("."), files={
        "same.py": "a = 1\n",
        "edit.py": "x = 1\ny = 2\n",
        "gone.py": "print('bye')\n",
        "moved.py": "".join(f"line_{i} = {i}\n" for i in range(10)),
        "exact.txt": "identical content\n",
        "empty_old": "",
    })
    after = Snapshot(root=Path("."), files={
        "same.py": "a = 1\n",
        "edit.py": "x = 1\ny = 3\nz = 4\n",
        "pkg/moved.py": "".join(f"line_{i} = {i}\n" for i in range(8)) + "extra = True\n",
        "renamed.txt": "identical content\n",
        "new.py": "fresh = 'file'\n",
        "empty_new": "",
    })
    found = {c.path: c for c in changes(before, after)}
    assert set(found) == {"edit.py", "gone.py", "pkg/moved.py", "renamed.txt", "new.py", "empty_new", "empty_old"}
    assert found["edit.py"].kind == "modified"
    assert found["gone.py"].kind == "deleted" and found["gone.py"].after is None
    assert found["pkg/moved.py"].renamed_from == "moved.py"
    assert found["renamed.txt"].renamed_from == "exact.txt"
    assert found["new.py"].kind == "added" and found["new.py"].before is None
    assert found["empty_new"].kind == "added" and found["empty_old"].kind == "deleted"  # empty files are not renames


def test_a_file_less_than_half_similar_is_a_delete_and_an_add():
    before = Snapshot(root=Path("."), files={"a.py": "".join(f"old_{i} = {i}\n" for i in range(10))})
    after = Snapshot(root=Path("."), files={"b.py": "".join(f"old_{i} = {i}\n" for i in range(4))
                                            + "".join(f"new_{i} = {i}\n" for i in range(6))})
    assert similarity(before.files["a.py"], after.files["b.py"]) < 0.5
    assert {(c.path, c.kind) for c in changes(before, after)} == {("a.py", "deleted"), ("b.py", "added")}


def test_snapshot_reads_tracked_and_untracked_text_files_only(repo):
    (repo / ".gitignore").write_text("build/\n")
    (repo / "tracked.py").write_text("t = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    (repo / "untracked.py").write_text("u = 2\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.py").write_text("ignored = True\n")
    (repo / "image.bin").write_bytes(b"\x89PNG\x00\x01\x02")
    (repo / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (repo / "big.txt").write_text("x" * ((1 << 20) + 1))
    (repo / "link.py").symlink_to("tracked.py")
    index_before = (repo / ".git" / "index").read_bytes()
    snap = snapshot(repo)
    assert snap is not None
    assert snap.files == {".gitignore": "build/\n", "tracked.py": "t = 1\n", "untracked.py": "u = 2\n"}
    assert snap.skipped == {"image.bin", "latin1.txt", "big.txt", "link.py"}
    assert (repo / ".git" / "index").read_bytes() == index_before  # read only: the index is untouched


# --- the child's environment -----------------------------------------------------------------


def test_child_environment_points_native_telemetry_here_without_overriding_the_user():
    ctx = SpanContext(trace_id=0x0123456789ABCDEF0123456789ABCDEF, span_id=0x1122334455667788, is_remote=False,
                      trace_flags=TraceFlags(TraceFlags.SAMPLED))
    settings = aitrail.sdk.runtime.Settings(endpoint="http://collector:4318/", headers={"authorization": "Bearer t"})
    env = child_environment({"PATH": "/bin", "OTEL_RESOURCE_ATTRIBUTES": "team=payments,deployment.environment=dev"},
                            ctx, session_id="sess 1", settings=settings)
    assert env["PATH"] == "/bin"
    assert env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["OTEL_EXPORTER_OTLP_HEADERS"] == "authorization=Bearer%20t"
    assert (env["OTEL_TRACES_EXPORTER"], env["OTEL_LOGS_EXPORTER"], env["OTEL_METRICS_EXPORTER"]) == ("otlp",) * 3
    assert env["TRACEPARENT"] == "00-0123456789abcdef0123456789abcdef-1122334455667788-01"
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == (
        "team=payments,deployment.environment=dev,"
        "aitrail.wrap.trace_id=0123456789abcdef0123456789abcdef,session.id=sess%201"
    )

    mine = {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://mine:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "CLAUDE_CODE_ENABLE_TELEMETRY": "0", "OTEL_LOGS_EXPORTER": "none", "TRACEPARENT": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
            "OTEL_RESOURCE_ATTRIBUTES": "aitrail.wrap.trace_id=kept"}
    env = child_environment(mine, ctx, settings=aitrail.sdk.runtime.Settings())
    for key, value in mine.items():
        assert env[key] == value, key
    assert env["GEMINI_TELEMETRY_OTLP_PROTOCOL"] == "grpc"


def test_child_environment_gives_the_assistant_the_person_and_the_team():
    who = {"user.id": "ana", "user.email": "ana@example.com", "user.name": "Ana Lima", "aitrail.team": "payments",
           "aitrail.identity.source": "user_id=git-config"}
    env = child_environment({}, None, identity=who)
    assert env["OTEL_RESOURCE_ATTRIBUTES"] == (
        "user.id=ana,user.email=ana@example.com,user.name=Ana%20Lima,aitrail.team=payments")
    named = child_environment({"OTEL_RESOURCE_ATTRIBUTES": "team=growth,user.email=me@example.com"}, None, identity=who)
    assert named["OTEL_RESOURCE_ATTRIBUTES"] == "team=growth,user.email=me@example.com,user.id=ana,user.name=Ana%20Lima"


def test_child_environment_defaults_to_the_local_collector():
    env = child_environment({}, None)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert "TRACEPARENT" not in env and "OTEL_RESOURCE_ATTRIBUTES" not in env
    env = child_environment({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:9999/v1/traces"}, None)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://c:9999"


# --- the whole run, read back from the collector --------------------------------------------------

BEFORE_APP = textwrap.dedent("""\
    import os


    def load(path):
        with open(path) as handle:
            return handle.read()


    def save(path, text):
        with open(path, "w") as handle:
            handle.write(text)
""")
# Uncommitted before the run: the person's own work, not the assistant's.
DIRTY_APP_LINE = "DEBUG = os.environ.get('APP_DEBUG') == '1'\n"
MOVED = "".join(f"VALUE_{i} = compute_value({i})\n" for i in range(12))

ASSISTANT = textwrap.dedent('''\
    import json, os, sys
    from pathlib import Path

    root = Path(sys.argv[1])
    app = root / "app.py"
    text = app.read_text()
    text = text.replace("return handle.read()\\n", "return handle.read().strip()\\n")
    text += "\\n\\ndef exists(path):\\n    return os.path.exists(path)\\n}\\n"
    app.write_text(text)
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "client.py").write_text("class Client:\\n    def __init__(self, url):\\n        self.url = url\\n\\n")
    (root / "obsolete.py").unlink()
    moved = (root / "constants.py").read_text().replace("VALUE_3 = compute_value(3)", "VALUE_3 = compute_value(33)")
    (root / "constants.py").unlink()
    (root / "pkg" / "settings.py").write_text(moved + "VALUE_EXTRA = compute_value(99)\\n")
    (root / "build").mkdir(exist_ok=True)
    (root / "build" / "generated.py").write_text("ignored = True\\n")
    (root / "logo.png").write_bytes(b"\\x89PNG\\x00binary")
    names = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_RESOURCE_ATTRIBUTES",
             "TRACEPARENT", "CLAUDE_CODE_ENABLE_TELEMETRY", "OTEL_TRACES_EXPORTER", "OTEL_LOGS_EXPORTER",
             "OTEL_METRICS_EXPORTER", "USER_SET"]
    print(json.dumps({name: os.environ.get(name) for name in names}))
    sys.stdout.flush()
    sys.exit(3)
''')


def _prepare(repo: Path) -> None:
    (repo / ".gitignore").write_text("build/\n")
    (repo / "app.py").write_text(BEFORE_APP)
    (repo / "obsolete.py").write_text("def old_helper():\n    return 'unused'\n")
    (repo / "constants.py").write_text(MOVED)
    (repo / "untouched.py").write_text("STAYS = 'the same'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    # Pre-existing uncommitted work: a changed tracked file and an untracked one, both left alone by the run...
    (repo / "untouched.py").write_text("STAYS = 'the same'\nMINE = 'uncommitted human work'\n")
    (repo / "notes_untracked.py").write_text("TODO = 'my own notes'\n")
    # ... and a dirty line in the file the assistant will edit.
    (repo / "app.py").write_text(BEFORE_APP.replace("import os\n", "import os\n" + DIRTY_APP_LINE))


def test_wrap_records_one_generation_per_changed_file(sdk, ch, repo, env, capfd, monkeypatch):
    _prepare(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    app_before = (repo / "app.py").read_text()
    script = env / "assistant.py"  # outside the working tree
    script.write_text(ASSISTANT)
    monkeypatch.setenv("USER_SET", "kept")
    status_before = git(repo, "status", "--porcelain")
    index_before = (repo / ".git" / "index").read_bytes()

    code = wrap([sys.executable, str(script), str(repo)], prompt="tidy the app module", model="claude-sonnet-4-5",
                assistant="aider", cwd=repo)

    assert code == 3
    out = capfd.readouterr().out
    child_env = json.loads(out)
    assert aitrail.flush()
    # The wrapper changed nothing in git: no stash, no index change.
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git(repo, "stash", "list") == ""
    assert status_before != git(repo, "status", "--porcelain")  # only the assistant's changes

    found = rows(ch, "SELECT * FROM aitrail.ai_generations ORDER BY file_path", 4)
    by_path = {r["file_path"]: r for r in found}
    assert sorted(by_path) == ["app.py", "obsolete.py", "pkg/client.py", "pkg/settings.py"]
    assert len(found) == 4  # untouched.py, notes, build/ (ignored) and logo.png (binary) are not rows

    app_after = (repo / "app.py").read_text()
    expected = {
        "app.py": set(fingerprints([
            "        return handle.read().strip()", "def exists(path):", "    return os.path.exists(path)", "}",
        ])),
        "pkg/client.py": set(fingerprints(["class Client:", "    def __init__(self, url):", "        self.url = url"])),
        "obsolete.py": set(),
        "pkg/settings.py": set(fingerprints(["VALUE_3 = compute_value(33)", "VALUE_EXTRA = compute_value(99)"])),
    }
    for path, prints in expected.items():
        assert set(by_path[path]["line_fingerprints"]) == prints, path
    # The person's uncommitted line in app.py is not the assistant's.
    assert fingerprints([DIRTY_APP_LINE])[0] not in set(by_path["app.py"]["line_fingerprints"])
    assert DIRTY_APP_LINE in app_before and DIRTY_APP_LINE in app_after
    assert by_path["obsolete.py"]["lines_removed"] == 2 and by_path["obsolete.py"]["lines_added"] == 0
    assert by_path["pkg/client.py"]["lines_added"] == 4  # the blank line is added, but has no fingerprint
    assert by_path["app.py"]["lines_removed"] == 1

    for row in found:
        assert row["assistant"] == "aider"
        assert row["prompt"] == "tidy the app module"
        assert row["model"] == "claude-sonnet-4-5"
        assert row["commit"] == head
        assert row["status"] == "Error"  # the assistant exited with 3
        assert row["duration_ns"] > 0
    assert len({r["trace_id"] for r in found}) == 1 and len({r["span_id"] for r in found}) == 4
    durations = {r["duration_ns"] for r in found}
    assert len(durations) == 1  # every file of the run spans the whole run

    spans = rows(ch, "SELECT SpanAttributes AS a FROM aitrail.otel_traces WHERE SpanAttributes['aitrail.kind'] = 'generation'", 4)
    attributes = {s["a"]["code.file.path"]: s["a"] for s in spans}
    assert attributes["pkg/settings.py"][v.RENAMED_FROM] == "constants.py"
    assert all(v.RENAMED_FROM not in a for path, a in attributes.items() if path != "pkg/settings.py")
    assert {a[v.PROCESS_EXIT_CODE] for a in attributes.values()} == {"3"}

    trace_id = found[0]["trace_id"]
    assert child_env["OTEL_EXPORTER_OTLP_ENDPOINT"] == sdk.settings.endpoint.rstrip("/")
    assert child_env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert child_env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    assert child_env["OTEL_TRACES_EXPORTER"] == child_env["OTEL_LOGS_EXPORTER"] == child_env["OTEL_METRICS_EXPORTER"] == "otlp"
    resource = dict(item.split("=", 1) for item in child_env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
    from urllib.parse import unquote

    assert resource["aitrail.wrap.trace_id"] == trace_id
    assert unquote(resource["aitrail.repo.root"]) == str(repo)  # native telemetry's absolute paths become relative
    assert resource["vcs.ref.head.revision"] == found[0]["commit"]
    assert child_env["TRACEPARENT"].startswith(f"00-{trace_id}-")
    assert child_env["TRACEPARENT"].split("-")[2] in {r["span_id"] for r in found}
    assert child_env["USER_SET"] == "kept"

    # The journal knows the assistant's lines, for the commit hook.
    index = Journal().index(str(repo))
    assert set().union(*expected.values()) <= set(index)
    assert fingerprints([DIRTY_APP_LINE])[0] not in index


def test_prompt_and_model_recognised_from_the_assistants_arguments(sdk, ch, repo, env):
    (repo / "a.py").write_text("first = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    fake = env / "bin" / "aider"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nopen('a.py', 'a').write('second = 2\\n')\n")
    fake.chmod(0o755)

    code = wrap([str(fake), "--model", "claude-opus-4-1", "--message", "add a second constant"], cwd=repo)

    assert code == 0
    assert aitrail.flush()
    (row,) = rows(ch, "SELECT * FROM aitrail.ai_generations", 1)
    assert (row["assistant"], row["prompt"], row["model"]) == ("aider", "add a second constant", "claude-opus-4-1")
    assert row["status"] != "Error"
    assert list(row["line_fingerprints"]) == fingerprints(["second = 2"])


def test_outside_a_repository_the_command_runs_and_one_generation_is_recorded(sdk, ch, env, capfd, monkeypatch):
    plain = env / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(env))
    code = wrap([sys.executable, "-c", "open('x.py', 'w').write('x = 1\\n'); print('ran')"], prompt="p", cwd=plain)
    assert code == 0
    captured = capfd.readouterr()
    assert captured.out == "ran\n"
    assert captured.err.count("not in a git repository") == 1
    assert aitrail.flush()
    (row,) = rows(ch, "SELECT * FROM aitrail.ai_generations", 1)
    assert row["file_path"] == "" and list(row["line_fingerprints"]) == []
    assert row["assistant"] == "unknown"  # an interpreter says nothing of the assistant it runs


def test_a_command_that_cannot_start_returns_127_and_records_nothing(sdk, ch, repo, capfd):
    assert wrap(["/nonexistent/assistant", "-p", "x"], cwd=repo) == 127
    assert "cannot run" in capfd.readouterr().err
    assert aitrail.flush()  # everything sent is acknowledged, and the endpoint reads after the drain
    assert rows(ch, "SELECT * FROM aitrail.ai_generations", 0) == []


def test_a_child_killed_by_a_signal_gives_128_plus_the_signal(env, repo, monkeypatch):
    monkeypatch.setenv("AITRAIL_DISABLED", "1")
    aitrail.configure(disabled=True)
    try:
        code = wrap([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"], cwd=repo)
    finally:
        aitrail.shutdown()
    assert code == 128 + 9


def test_aitrail_failing_never_stops_the_assistant(env, repo, monkeypatch, capfd):
    import aitrail.sdk.wrap as wrap_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(wrap_module, "_Recording", broken)
    assert wrap([sys.executable, "-c", "print('still runs'); raise SystemExit(5)"], cwd=repo) == 5
    captured = capfd.readouterr()
    assert captured.out == "still runs\n" and "boom" in captured.err


def test_recorded_paths_match_what_the_run_changed_when_run_from_a_subdirectory(sdk, ch, repo):
    (repo / "src").mkdir()
    (repo / "src" / "m.py").write_text("a = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    code = wrap([sys.executable, "-c", "open('m.py', 'a').write('b = compute(2)\\n')"], prompt="p", cwd=repo / "src")
    assert code == 0
    assert aitrail.flush()
    (row,) = rows(ch, "SELECT * FROM aitrail.ai_generations", 1)
    assert row["file_path"] == "src/m.py"
    assert list(row["line_fingerprints"]) == fingerprints(["b = compute(2)"])


def test_no_file_changed_still_records_the_run(sdk, ch, repo):
    (repo / "a.py").write_text("a = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    assert wrap([sys.executable, "-c", "pass"], prompt="just asking", cwd=repo) == 0
    assert aitrail.flush()
    (row,) = rows(ch, "SELECT * FROM aitrail.ai_generations", 1)
    assert row["file_path"] == "" and row["prompt"] == "just asking"


@pytest.mark.skipif(not hasattr(os, "getpgrp"), reason="POSIX signals")
def test_sigterm_is_forwarded_to_the_assistant(env, repo, monkeypatch):
    import signal
    import threading

    aitrail.configure(disabled=True)
    ready = env / "ready"
    child = (
        "import signal, sys, time, pathlib\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
        f"pathlib.Path({str(ready)!r}).write_text('x')\n"
        "time.sleep(30)\n"
    )

    def terminate_when_ready():
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=terminate_when_ready)
    killer.start()
    try:
        code = wrap([sys.executable, "-c", child], cwd=repo)
    finally:
        killer.join()
        aitrail.shutdown()
    assert code == 42


def test_disabled_is_a_plain_pass_through(env, repo, monkeypatch, capfd):
    monkeypatch.setenv("AITRAIL_DISABLED", "1")
    aitrail.configure()
    try:
        code = wrap([sys.executable, "-c", "import os; print(os.environ.get('TRACEPARENT')); open('n.py', 'w').write('n = 1\\n')"],
                    cwd=repo)
    finally:
        aitrail.shutdown()
    assert code == 0
    captured = capfd.readouterr()
    assert captured.out == "None\n" and captured.err == ""
    assert not Journal().path.exists()


def test_claude_code_under_wrap_reports_natively_and_is_not_counted_twice(tmp_path):
    from aitrail.sdk import runtime as runtime_module
    from aitrail.sdk.wrap import _Recording

    rt = runtime_module.Runtime(runtime_module.Settings(disabled=True))
    recording = _Recording(rt, str(tmp_path), "claude-code", "add a test", None, None)
    env = recording.environment({"PATH": "/bin", "OTEL_LOG_USER_PROMPTS": "0"})
    assert recording.native
    assert env["OTEL_LOG_TOOL_DETAILS"] == "1" and env["OTEL_LOG_USER_PROMPTS"] == "0"  # the user's choice stands
    other = _Recording(rt, str(tmp_path), "aider", "x", None, None)
    other.environment({"PATH": "/bin"})
    assert not other.native
