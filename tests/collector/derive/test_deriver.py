"""The deriver in a running collector, ``aitrail derive``, and the view that keeps assistants' spans out of ai_generations."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import replay
from replay import S
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.collector.derive import Deriver, Window, derive_once
from aitrail.collector.store import StoreLocation, open_store
from aitrail.collector.telemetry import SelfMetrics

RECORDING = "claude_code/write_edit.jsonl"


def _post(url: str, signal: str, body: dict) -> int:
    request = urllib.request.Request(f"{url}/v1/{signal}", json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def test_a_running_collector_derives_by_itself_and_counts_it(make_collector):
    collector = make_collector(derive_interval=0.2, derive_settle=0.5, derive_wait=2.0)
    for entry in replay.rebase(replay.load(RECORDING), time.time_ns() - 3 * S):
        assert _post(collector.http_url, entry["signal"], entry["body"]) == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and collector.metrics.snapshot()["inserted"].get("derived:claude_code", 0) < 3:
        time.sleep(0.2)
    rows = replay.derived(collector.store)
    assert len(rows) == 3 and {r["file_path"] for r in rows} == {"src/retry.py", ""}
    assert collector.metrics.snapshot()["inserted"]["derived:claude_code"] == 3
    assert 'aitrail_inserted_rows_total{table="derived:claude_code"} 3' in collector.metrics.prometheus()


def test_derivation_can_be_turned_off(make_collector):
    collector = make_collector(derive_interval=0)
    assert collector.deriver._task is None


def test_stop_waits_for_a_run_and_a_failed_run_is_counted(tmp_path):
    async def scenario() -> SelfMetrics:
        metrics = SelfMetrics()
        with open_store(StoreLocation(data_dir=tmp_path / "s")) as store:
            deriver = Deriver(store, metrics, interval=0.05)
            await deriver.start()
            await asyncio.sleep(0.5)  # a few runs, possibly one in progress now
            await deriver.stop()  # returns only once no run is in progress: the store may close
            store.command("DROP TABLE aitrail.otel_logs")
            assert deriver.run_once() == {}
        return metrics

    metrics = asyncio.run(scenario())
    assert metrics.snapshot()["rejected"]["derive_failed"] == 1


def test_a_second_run_in_a_round_stores_nothing_even_when_it_saw_nothing_derived(tmp_path):
    """Two collectors deriving in one round, the second selecting before the first's rows are stored (simulated:
    the first's spans deleted from otel_traces before the second runs, so it selects every row again): its insert,
    under the same round, stores nothing in otel_traces or ai_generations. Without the round, it would have."""
    entries = replay.rebase(replay.load(RECORDING), time.time_ns() - 10 * S)
    window, round_ns = Window(settle=0.5, wait=2.0), Deriver(None, SelfMetrics(), interval=2.0).round()  # type: ignore[arg-type]
    with open_store(StoreLocation(data_dir=tmp_path / "s")) as store:
        replay.ingest_all(store, entries)
        first = derive_once(store, window, now_ns=round_ns, once_per=f"derive.{round_ns}")
        assert first["claude_code"] == 3 and _generations(store) == 3
        store.command("DELETE FROM aitrail.otel_traces WHERE SpanName = 'aitrail.derived.generation'")
        second = derive_once(store, window, now_ns=round_ns, once_per=f"derive.{round_ns}")
        assert second["claude_code"] == 0 and _generations(store) == 3
        unnamed = derive_once(store, window, now_ns=round_ns)  # what the second run selected
        assert unnamed["claude_code"] == 3 and _generations(store) == 6


def _generations(store) -> int:  # noqa: ANN001
    return int(store.rows("SELECT count() AS n FROM aitrail.ai_generations")[0]["n"])


def test_what_a_dropped_run_alone_selected_is_derived_in_the_next_round(tmp_path):
    """The first collector's run derives one tenant's rows; the second's, in the same round, sees them stored and
    selects only another tenant's, which arrived meanwhile: dropped with its round, they are derived in the next
    round, once, by either collector."""
    entries = replay.rebase(replay.load(RECORDING), time.time_ns() - 10 * S)
    window, first, second = Window(settle=0.5, wait=2.0), Deriver(None, SelfMetrics(), interval=2.0), Deriver(  # type: ignore[arg-type]
        None, SelfMetrics(), interval=2.0)  # type: ignore[arg-type]
    round_ns = first.round()
    assert second.round(round_ns + 1_999_999_999) == round_ns and second.round(round_ns + 2 * S) == round_ns + 2 * S
    with open_store(StoreLocation(data_dir=tmp_path / "s")) as store:
        replay.ingest_all(store, entries, tenant="acme")
        derive_once(store, window, now_ns=round_ns, once_per=f"derive.{round_ns}")
        replay.ingest_all(store, entries, tenant="globex")
        assert derive_once(store, window, now_ns=round_ns, once_per=f"derive.{round_ns}")["claude_code"] == 0
        assert {r["tenant"] for r in replay.derived(store)} == {"acme"}
        later = round_ns + 2 * S
        assert derive_once(store, window, now_ns=later, once_per=f"derive.{later}")["claude_code"] == 3
        assert derive_once(store, window, now_ns=later, once_per=f"derive.{later}.other")["claude_code"] == 0
        tenants = [r["tenant"] for r in replay.derived(store)]
        assert sorted(tenants) == ["acme"] * 3 + ["globex"] * 3


def test_runs_happen_in_the_middle_of_their_round():
    """A round is ``interval`` of wall-clock time from the epoch; the next run is at the middle of a round, so two
    collectors whose clocks differ by less than half a round name the same round."""
    deriver = Deriver(None, SelfMetrics(), interval=2.0)  # type: ignore[arg-type]
    start = 1_733_400_000 * S
    assert deriver.round(start + 1_500_000_000) == start
    assert deriver.until_next_run(start) == 1.0 and deriver.until_next_run(start + 500_000_000) == 0.5
    assert deriver.until_next_run(start + 1_000_000_000) == 2.0 and deriver.until_next_run(start + 1_500_000_000) == 1.5
    for skew in (-400_000_000, 400_000_000):  # clocks 0.4 s apart, each running at its own round's middle
        ahead = start + 1_000_000_000 + skew
        assert deriver.round(ahead) == start


def test_aitrail_derive_goes_over_history_once(tmp_path):
    data_dir = tmp_path / "store"
    with open_store(StoreLocation(data_dir=data_dir)) as store:
        replay.ingest_all(store, replay.rebase(replay.load(RECORDING), time.time_ns() - 3 * 86_400 * S))
    runner = CliRunner()
    recent = runner.invoke(app, ["derive", "--data-dir", str(data_dir), "--json"])
    assert recent.exit_code == 0, recent.output
    assert json.loads(recent.output) == {"claude_code": 0, "codex": 0, "gemini_cli": 0, "genai": 0}  # three days ago: not in 1 day
    week = runner.invoke(app, ["derive", "--data-dir", str(data_dir), "--days", "7", "--json"])
    assert json.loads(week.output) == {"claude_code": 3, "codex": 0, "gemini_cli": 0, "genai": 0}
    again = runner.invoke(app, ["derive", "--data-dir", str(data_dir), "--days", "7"])
    assert again.exit_code == 0 and "claude_code" in again.output
    with open_store(StoreLocation(data_dir=data_dir)) as store:
        assert len(replay.derived(store)) == 3


def _span(name: str, scope: str = "app", **attributes: str) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                               "scopeSpans": [{"scope": {"name": scope}, "spans": [{
                                   "traceId": "1" * 32, "spanId": f"{abs(hash(name)) % 10**16:016d}", "name": name,
                                   "startTimeUnixNano": str(time.time_ns()), "endTimeUnixNano": str(time.time_ns()),
                                   "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()]}]}]}]}


def test_the_view_keeps_generic_genai_spans_and_leaves_the_assistants_own_out(store):
    model = {"gen_ai.request.model": "m"}
    replay.ingest(store, "traces", _span("chat m", **{"gen_ai.operation.name": "chat"}, **model))
    replay.ingest(store, "traces", _span("sdk generation", **{"aitrail.kind": "generation"}))
    replay.ingest(store, "traces", _span("claude_code.llm_request", "com.anthropic.claude_code.tracing",
                                         **{"gen_ai.operation.name": "chat"}, **model))
    replay.ingest(store, "traces", _span("llm_call", "gemini-cli", **{"gen_ai.operation.name": "generate_content",
                                                                       "gen_ai.agent.name": "gemini-cli"}, **model))
    replay.ingest(store, "traces", _span("claude_code.custom", **{"aitrail.kind": "generation"}))
    rows = store.rows("SELECT span_id FROM aitrail.ai_generations")
    names = store.rows("SELECT SpanName AS n FROM aitrail.otel_traces WHERE SpanId IN "
                       "(SELECT span_id FROM aitrail.ai_generations) ORDER BY n")
    assert len(rows) == 3 and [r["n"] for r in names] == ["chat m", "claude_code.custom", "sdk generation"]


def test_derive_once_reports_each_dialect(store):
    assert derive_once(store, Window()) == {"claude_code": 0, "codex": 0, "gemini_cli": 0, "genai": 0}


def test_the_deriver_runs_while_data_may_be_pending_and_rarely_otherwise(store):
    metrics = SelfMetrics()
    deriver = Deriver(store, metrics, interval=1.0, window=Window(settle=5, wait=60), recheck=30.0)
    assert deriver.due(now=1000.0)  # never ran
    deriver._last_run = 1000.0
    assert deriver.due(now=1001.0)  # first look: counts as new
    metrics.batch("otel_logs", 10, 0.01)
    assert deriver.due(now=1002.0)  # new rows arrived
    assert deriver.due(now=1002.0 + 61)  # ... and may be pending until they are due (wait)
    deriver._last_run = 1063.0
    assert not deriver.due(now=1065.0)  # then nothing can become due any more
    assert deriver.due(now=1063.0 + 30)  # except, every `recheck`, what other writers stored
