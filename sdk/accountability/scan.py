"""The early safeguard: AI-written code is scanned as it is born.

When the SDK records a generation (``aitrail.track``, ``aitrail wrap``), its finisher thread — never the caller's
— hands the written text to the :class:`Scanner`: one daemon thread behind a bounded queue
(:class:`aitrail.sdk.background.Worker`; a full queue drops the scan, counted). Each file the generation wrote is
scanned

- by **Bandit** for Python, through its API, on the written text (nothing is written to disk);
- by **Semgrep** when the ``semgrep`` command is installed, with the rules kept in this package
  (``rules/semgrep.yml``; no rule is fetched from the network, no metrics sent), under a time limit.

Only results on the lines the AI wrote count. Each becomes a finding record (``aitrail.kind=finding``,
``caught_at=generation``, source ``aitrail-scan``, rule ``bandit:B602`` or ``semgrep:<id>``) linked to its
generation by ``aitrail.generation.trace_id``/``span_id``, sent through the SDK like every record. A scanner
that is missing is skipped with a note (:attr:`Scanner.notes`); the scanners are the optional extra
``pip install 'aitrail[scan]'``. Files over :data:`MAX_BYTES` are not scanned (the time stays bounded).
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aitrail.sdk import vocabulary as v
from aitrail.sdk.background import Worker

log = logging.getLogger("aitrail.sdk")

SOURCE = "aitrail-scan"
"""``aitrail.finding.source`` of generation-time findings."""
MAX_BYTES = 256 * 1024
"""Files larger than this are not scanned at generation time."""
SEMGREP_TIMEOUT = 20.0
"""Seconds a Semgrep run may take before it is abandoned."""
_SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low", "ERROR": "high", "WARNING": "medium", "INFO": "low"}


@dataclass(frozen=True)
class ScanFinding:
    """One scanner result on a line the AI wrote."""

    tool: str
    rule: str
    severity: str
    message: str
    path: str
    line: int
    line_text: str
    cwe: tuple[str, ...] = ()
    generation_trace_id: str = ""
    generation_span_id: str = ""

    @property
    def label(self) -> str:
        return f"{self.tool}:{self.rule}"


@dataclass(frozen=True)
class ScanJob:
    """What one generation wrote: (path relative to the repository, full new text, AI-written line ranges)."""

    trace_id: str
    span_id: str
    files: tuple[tuple[str, str, tuple[tuple[int, int], ...]], ...]
    attributes: dict[str, Any] = field(default_factory=dict)
    """The generation's place and team (repository, branch, commit, team), repeated on its findings."""


def _on_ai_lines(line: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(start <= line <= end for start, end in ranges)


def bandit_scan(path: str, text: str) -> list[ScanFinding]:
    """Bandit's results on ``text`` (Python), without touching the disk. Raises ImportError without Bandit."""
    from bandit.core import config as b_config
    from bandit.core import manager as b_manager

    bandit_log = logging.getLogger("bandit")
    bandit_log.setLevel(logging.CRITICAL)  # Bandit logs a line per file it reads; not the caller's business
    bandit = b_manager.BanditManager(b_config.BanditConfig(), "file", quiet=True)
    # The manager's per-file step (what run_tests calls for each file it opens), given the text in memory: the
    # AI's code never touches the disk. A syntax error is Bandit's "skipped" list, not an exception.
    bandit._parse_file(path, io.BytesIO(text.encode("utf-8", "surrogateescape")), [path])
    lines = text.splitlines()
    found = []
    for issue in bandit.get_issue_list():
        cwe = getattr(issue, "cwe", None)
        cwe_id = getattr(cwe, "id", 0) if cwe is not None else 0
        number = int(issue.lineno)
        found.append(ScanFinding(
            "bandit", issue.test_id, _SEVERITY.get(str(issue.severity).upper(), "low"), issue.text, path, number,
            lines[number - 1].strip() if 0 < number <= len(lines) else "", (f"CWE-{cwe_id}",) if cwe_id else ()))
    return found


def semgrep_rules() -> str:
    """The local Semgrep rules file (a path inside the installed package)."""
    return str(resources.files("aitrail.sdk.accountability").joinpath("rules", "semgrep.yml"))


def semgrep_scan(path: str, text: str, executable: str, timeout: float = SEMGREP_TIMEOUT) -> list[ScanFinding]:
    """Semgrep's results on ``text`` with the local rules (a private temporary copy, removed after)."""
    suffix = os.path.splitext(path)[1] or ".txt"
    with tempfile.TemporaryDirectory(prefix="aitrail-scan-") as folder:
        target = os.path.join(folder, f"generated{suffix}")
        with open(target, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        done = subprocess.run(
            [executable, "scan", "--config", semgrep_rules(), "--json", "--metrics=off", "--disable-version-check",
             "--quiet", target], capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    results = json.loads(done.stdout or b"{}").get("results", [])
    lines = text.splitlines()
    found = []
    for result in results:
        number = int(result.get("start", {}).get("line", 0))
        extra = result.get("extra", {})
        cwe = [str(c).split(":")[0] for c in extra.get("metadata", {}).get("cwe", [])]
        found.append(ScanFinding(
            "semgrep", str(result.get("check_id", "")).rsplit(".", 1)[-1], _SEVERITY.get(str(extra.get("severity", "")).upper(), "low"),
            str(extra.get("message", "")), path, number,
            lines[number - 1].strip() if 0 < number <= len(lines) else "", tuple(cwe)))
    return found


class Scanner:
    """One background thread scanning what generations wrote (bounded queue; overflow counted, never blocking)."""

    def __init__(self, max_queue: int = 1000, keep: int = 1000) -> None:
        self.recent: deque[ScanFinding] = deque(maxlen=keep)
        self.notes: set[str] = set()
        self.scanned = 0
        self.seconds = 0.0
        """Processor time spent scanning, on this thread (the benchmark reports it per generation)."""
        self._semgrep = shutil.which("semgrep")
        self._worker: Worker[tuple[Any, ScanJob]] = Worker("aitrail-scanner", self._scan_and_emit, max_queue)

    @property
    def dropped(self) -> int:
        """Generations not scanned because the queue was full."""
        return self._worker.dropped

    def submit(self, rt: Any, job: ScanJob) -> None:
        self._worker.submit((rt, job))

    def wait(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far is scanned (at most ``timeout`` seconds)."""
        return self._worker.wait(timeout)

    def findings_of(self, span_ids: Sequence[str]) -> list[ScanFinding]:
        """The findings of these generations, among the recent ones."""
        wanted = set(span_ids)
        return [f for f in list(self.recent) if f.generation_span_id in wanted]

    def scan(self, job: ScanJob) -> list[ScanFinding]:
        """Every result on AI-written lines of ``job``'s files; missing scanners noted, errors logged."""
        found: list[ScanFinding] = []
        for path, text, ranges in job.files:
            if len(text) > MAX_BYTES:
                self.notes.add(f"{path}: not scanned at generation time (over {MAX_BYTES // 1024} KB)")
                continue
            results: list[ScanFinding] = []
            if path.endswith((".py", ".pyw")):
                try:
                    results += bandit_scan(path, text)
                except ImportError:
                    self.notes.add("Bandit is not installed: Python is not scanned (pip install 'aitrail[scan]')")
                except Exception:  # noqa: BLE001 - a scanner's failure is a note, never the caller's problem
                    log.debug("aitrail: bandit failed on %s", path, exc_info=True)
            if self._semgrep:
                try:
                    results += semgrep_scan(path, text, self._semgrep)
                except (OSError, ValueError, subprocess.SubprocessError):
                    log.debug("aitrail: semgrep failed on %s", path, exc_info=True)
            else:
                self.notes.add("Semgrep is not installed: only Bandit scans (install semgrep to add its rules)")
            found += [ScanFinding(**{**r.__dict__, "generation_trace_id": job.trace_id,
                                     "generation_span_id": job.span_id})
                      for r in results if _on_ai_lines(r.line, ranges)]
        return found

    def _scan_and_emit(self, item: tuple[Any, ScanJob]) -> None:
        rt, job = item
        started = time.thread_time()
        try:
            findings = self.scan(job)
            self.recent.extend(findings)
            emit(rt, job, findings)
        finally:
            self.seconds += time.thread_time() - started
            self.scanned += 1


def emit(rt: Any, job: ScanJob, findings: Sequence[ScanFinding]) -> None:
    """Each finding as a record span, a child of its generation's span (the same trace)."""
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    from aitrail.sdk.fingerprint import line_fingerprint
    from aitrail.sdk.records import finding_record
    from aitrail.sdk.redact import redact

    if not findings:
        return
    generation = SpanContext(int(job.trace_id, 16), int(job.span_id, 16), is_remote=False,
                             trace_flags=TraceFlags(TraceFlags.SAMPLED))
    parent = trace.set_span_in_context(NonRecordingSpan(generation))
    for finding in findings:
        fingerprint = line_fingerprint(finding.line_text)
        # The one finding model (id, attribute names); the generation's span id makes the same result on another
        # generation's line another finding.
        record = finding_record(
            source=SOURCE, rule=finding.label, severity=finding.severity, message=finding.message,
            repository=str(job.attributes.get(v.VCS_REPOSITORY_URL_FULL, "")),
            commit=str(job.attributes.get(v.VCS_REF_HEAD_REVISION, "")), file_path=finding.path,
            line_start=finding.line, line_end=finding.line, fingerprints=[fingerprint] if fingerprint is not None else [],
            line_text=redact(finding.line_text).text, resolved=True, time_ns=time.time_ns(), cwe=finding.cwe,
            caught_at="generation", team=str(job.attributes.get(v.TEAM, "")), generation=(job.trace_id, job.span_id),
            extra_identity=job.span_id,
        )
        # A child of its generation's span (the same trace), with the generation's place repeated on it.
        attributes = {**job.attributes, **record.span_attributes()}
        rt.tracer.start_span(f"finding {finding.label}", context=parent, attributes=attributes).end()


_scanner: Scanner | None = None
_lock = threading.Lock()


def scanner() -> Scanner:
    """The process's scanner, started on first use."""
    global _scanner
    if _scanner is None:
        with _lock:
            if _scanner is None:
                _scanner = Scanner()
    return _scanner


def warning(findings: Sequence[ScanFinding], limit: int = 5) -> str | None:
    """The short warning ``aitrail wrap`` prints, naming the findings; None when there are none."""
    if not findings:
        return None
    named = [f"{f.label} ({f.severity}) {f.path}:{f.line}: {f.message}" for f in findings[:limit]]
    more = f"; and {len(findings) - limit} more" if len(findings) > limit else ""
    return (f"the AI-written code has {len(findings)} finding(s) from the generation-time scan: "
            + "; ".join(named) + more)
