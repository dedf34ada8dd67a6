"""The benchmarks still run (tiny sizes, nothing timed or asserted about speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent


def test_every_benchmark_runs_quick():
    result = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["machine"]
    assert figures["sdk"]["bare_span_us"] > 0 and figures["sdk"]["track_caller_us"] > 0

    ingest = figures["ingest"]
    for protocol in ("http", "grpc"):  # every span sent was counted in otel_traces
        assert ingest[protocol]["spans"] > 0 and ingest[protocol]["spans_per_s"] > 0
    assert ingest["floor_parse_only"]["spans_per_s"] > 0
    assert abs(sum(ingest["profile"]["stages_share"].values()) - 1) < 0.01
    for workload in ("generations", "genai"):  # a live aitrail serve under load of each, beside its floor
        serve, floors = ingest["serve"][workload], ingest["floors"][workload]
        assert serve["spans"] > 0 and serve["vm_hwm_mib"] > 0 and serve["of_floor"] > 0
        assert serve["cpu_us_per_span_by_thread"]["python"] > 0  # the collector's own threads
        assert serve["batches"] > 0 and serve["rows_per_batch"] * serve["batches"] >= serve["spans"] // 2
        ceiling = ingest["serve_ceiling"][workload]  # the same load without the per-item checks: all stored too
        assert ceiling["spans"] == serve["spans"] and ceiling["of_floor"] > 0
        assert floors["arrays_as_json"]["fixed_s_per_statement"] >= 0
        assert floors["arrays_as_json"]["spans"] == floors["scalars_only"]["spans"] > 0
        costs = ingest["engine_costs"][workload]
        assert costs["spans"] == floors["arrays_as_json"]["spans"] and costs["view_us_per_span"]
    # the fair floor's generations carry their fingerprints, as the collector's do; the scalar-only floor's do not
    generations = ingest["floors"]["generations"]
    assert generations["arrays_as_json"]["generations_with_fingerprints_per_round"] == generations["arrays_as_json"]["spans"]
    assert generations["scalars_only"]["generations_with_fingerprints_per_round"] == 0
    assert ingest["clickhouse_native"]["spans"] == ingest["profile"]["spans"]
    assert ingest["engine_path"]["spans"] == ingest["profile"]["spans"]  # no valid span refused
    remote = ingest["serve_to_server"]  # a collector in front of the server stand-in: both sides' CPU, apart
    assert remote["spans"] > 0 and remote["collector_cpu_us_per_span"] > 0 and remote["server_cpu_us_per_span"] > 0
    trickle = ingest["trickle"]  # a trickle of small requests: the collector's CPU with small batches waiting and not
    assert trickle["default"]["share_of_a_core"] > 0 and trickle["no_wait"]["min_batch_rows"] == 0
    logs = ingest["logs"]  # Claude Code events: every record sent was counted in otel_logs, the same by every path
    assert logs["serve"]["spans"] > 0 and logs["serve"]["vm_hwm_mib"] > 0
    assert logs["serve_ceiling"]["spans"] == logs["serve"]["spans"]
    assert logs["engine_path"]["records"] == logs["clickhouse_native"]["records"] == logs["python"]["records"] > 0

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
