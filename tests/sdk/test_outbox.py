"""The outbox: what the SDK could not send is kept on disk, bounded, and sent by a later run or ``aitrail flush``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from aitrail.sdk.outbox import Outbox, report


def test_a_batch_is_held_while_exported_removed_when_taken_and_kept_when_not(tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    taken = outbox.hold(b"first", 3)
    outbox.done(taken)
    assert outbox.state().spans == 0
    refused = outbox.hold(b"second", 2)
    assert outbox.state().spans == 2  # held by this process: it waits too once the process ends
    outbox.keep(refused)
    bodies: list[bytes] = []
    assert outbox.send(lambda body: bodies.append(body) or False) == (0, 0)  # the collector is still down
    assert outbox.state().spans == 2
    assert outbox.send(lambda body: bodies.append(body) or True) == (1, 2)
    assert bodies == [b"second", b"second"] and outbox.state().spans == 0


def test_past_the_bound_the_oldest_are_dropped_counted_and_reported_once(tmp_path):
    outbox = Outbox(tmp_path / "outbox", max_bytes=250)
    for n in range(5):
        outbox.keep(outbox.hold(bytes([n]) * 100, 10))
    sent: list[bytes] = []
    assert outbox.state().spans == 20 and outbox.state().dropped == 30
    assert "30 older span(s) were dropped" in report(outbox)
    assert outbox.take_dropped() == 0  # reported once
    outbox.send(lambda body: sent.append(body) or True)
    assert sent == [bytes([3]) * 100, bytes([4]) * 100]  # the newest stayed, oldest first


def test_a_batch_held_by_a_process_that_died_waits_again(tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / f"00000000000000000001-1-00000000-4.otlp.{dead.stdout.strip()}").write_bytes(b"x")
    assert outbox.state().spans == 4


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wrap_with_the_collector_down_keeps_the_record_and_flush_sends_it_later(tmp_path, make_collector):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=ana@example.com", "-c", "user.name=Ana"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "init"], check=True)
    aitrail = str(Path(sys.executable).with_name("aitrail"))
    env = {**os.environ, "AITRAIL_JOURNAL": str(tmp_path / "journal.jsonl"),
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    down = subprocess.run([aitrail, "wrap", "--assistant", "my-agent", "--prompt", "add the constant", "--",
                           sys.executable, "-c", "open('a.py', 'w').write('ANSWER = compute_answer()\\n')"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0
    assert "could not be sent yet" in down.stderr and "kept on disk in" in down.stderr and "aitrail flush" in down.stderr

    collector = make_collector()
    sent = subprocess.run([aitrail, "flush", "--json"], env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_url},
                          capture_output=True, text=True, timeout=120)
    assert sent.returncode == 0, sent.stderr
    assert '"waiting_spans": 0' in sent.stdout and '"sent_spans": 0' not in sent.stdout
    assert collector.wait_drained()
    rows = collector.store.rows("SELECT assistant, prompt, file_path FROM aitrail.ai_generations")
    assert rows == [{"assistant": "my-agent", "prompt": "add the constant", "file_path": "a.py"}]
