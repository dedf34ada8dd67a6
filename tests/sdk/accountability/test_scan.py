"""The generation-time scan: real Bandit on what the SDK and ``aitrail wrap`` record, off the caller's thread; its
findings become finding records linked to their generation (read back from ClickHouse), and ``aitrail wrap`` names
them. Expected rules and lines are the ones the test wrote."""

from __future__ import annotations

import shutil
import sys
import threading
import time

import pytest
from accountability_support import ai_write

import aitrail
from aitrail.sdk import vocabulary as v
from aitrail.sdk.accountability import scan
from aitrail.sdk.accountability.scan import ScanJob, Scanner, bandit_scan

HUMAN = ["import subprocess", "", "def old(cmd):", "    return subprocess.call(cmd, shell=True)", ""]
AI = ["def run(cmd):", "    return subprocess.call(cmd, shell=True)", "", "def calc(expr):", "    return eval(expr)", ""]


def test_bandit_finds_only_what_the_ai_wrote_and_the_finding_spans_point_at_the_generation(repo, spans):
    (repo / "tools.py").write_text("\n".join(HUMAN) + "\n")
    new_text = "\n".join(HUMAN + AI) + "\n"
    with aitrail.track(assistant="codex", prompt="add helpers", cwd=repo) as generation:
        (repo / "tools.py").write_text(new_text)
        generation.record_edit(repo / "tools.py", new_text, old_text="\n".join(HUMAN) + "\n")
    assert aitrail.flush()
    finished = spans.get_finished_spans()
    (gen,) = [s for s in finished if s.attributes.get(v.KIND) == v.KIND_GENERATION]
    found = sorted((s.attributes[v.FINDING_RULE], s.attributes[v.LINE_START], s.attributes[v.FINDING_CAUGHT_AT],
                    s.attributes[v.GENERATION_SPAN_ID], s.attributes[v.FINDING_SOURCE])
                   for s in finished if s.attributes.get(v.KIND) == v.KIND_FINDING)
    span_id = format(gen.context.span_id, "016x")
    shell_line = len(HUMAN) + AI.index("    return subprocess.call(cmd, shell=True)") + 1
    eval_line = len(HUMAN) + AI.index("    return eval(expr)") + 1
    assert found == [("bandit:B307", eval_line, "generation", span_id, "aitrail-scan"),
                     ("bandit:B602", shell_line, "generation", span_id, "aitrail-scan")]  # not the human's line 4


def test_the_scan_runs_on_its_own_thread_and_the_caller_only_enqueues(repo, spans, monkeypatch):
    threads = []
    real = scan.bandit_scan

    def watched(path: str, text: str):  # noqa: ANN202
        threads.append(threading.current_thread().name)
        return real(path, text)

    monkeypatch.setattr(scan, "bandit_scan", watched)
    ai_write(repo, "job.py", AI)
    assert threads == ["aitrail-scanner"]


def test_a_missing_scanner_is_skipped_with_a_note(monkeypatch):
    for name in ("bandit", "bandit.core", "bandit.core.config", "bandit.core.manager"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: importing it fails
    scanner = Scanner()
    assert scanner.scan(ScanJob("ab" * 16, "cd" * 8, (("x.py", "\n".join(AI), ((1, 6),)),))) == []
    assert any("Bandit is not installed" in note for note in scanner.notes)
    if shutil.which("semgrep") is None:
        assert any("Semgrep is not installed" in note for note in scanner.notes)


def test_text_that_is_not_python_or_too_large_is_not_scanned():
    scanner = Scanner()
    assert bandit_scan("broken.py", "def (:\n") == []  # a syntax error: Bandit skips the file
    big = "x = 1\n" * (scan.MAX_BYTES // 4)
    assert scanner.scan(ScanJob("ab" * 16, "cd" * 8, (("big.py", big, ((1, 2),)),))) == []
    assert any("big.py: not scanned" in note for note in scanner.notes)


def test_wrap_names_the_findings_of_what_the_assistant_wrote(repo, spans, capfd):
    from aitrail.sdk.wrap import wrap

    code = "\\n".join(AI)
    status = wrap([sys.executable, "-c", f"open('gen.py', 'w').write('import subprocess\\n{code}\\n')"],
                  prompt="write gen.py", assistant="aider", cwd=repo)
    assert status == 0
    err = capfd.readouterr().err
    assert "3 finding(s) from the generation-time scan" in err  # the import, the shell call and the eval it wrote
    assert "bandit:B404 (low) gen.py:1" in err and "bandit:B602 (high) gen.py:3" in err
    assert "bandit:B307 (medium) gen.py:6" in err


def test_findings_land_in_ai_findings_linked_to_their_generation(collector, ch, repo):
    aitrail.configure(endpoint=collector.http_url)
    try:
        ai_write(repo, "calc.py", AI)
    finally:
        aitrail.shutdown()
    deadline = time.monotonic() + 10
    while True:
        rows = ch.query("SELECT f.rule, f.caught_at, f.severity, g.file_path FROM aitrail.ai_findings AS f FINAL "
                        "INNER JOIN aitrail.ai_generations AS g ON g.span_id = f.generation_span_id "
                        "ORDER BY f.rule").result_rows
        if len(rows) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [tuple(r) for r in rows] == [("bandit:B307", "generation", "medium", "calc.py"),
                                        ("bandit:B602", "generation", "high", "calc.py")]


@pytest.fixture(autouse=True)
def _fresh_scanner(monkeypatch):
    """Each test starts with its own scanner (its notes and recent findings)."""
    monkeypatch.setattr(scan, "_scanner", None)
