"""SIGKILL at random moments, restart on the same data directory, many times: nothing acknowledged is lost, nothing is stored twice.

A load generator sends OTLP continuously to an ``aitrail serve`` subprocess
(embedded store), which is killed — mostly SIGKILL, sometimes SIGTERM — at
random moments: while starting and recovering, while accepting, while
inserting, with rows waiting in the spool. ``AITRAIL_FAULT_CYCLES`` sets how
many times (5 in ``make test``, 1000 in ``make fault``).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest
from faultkit import CYCLES, Collector, Load, account, free_port

SEED = int(os.environ.get("AITRAIL_FAULT_SEED", "0")) or random.randrange(1, 1 << 30)


@pytest.mark.timeout(300 + CYCLES * 15)
def test_sigkill_at_random_moments_loses_nothing_acknowledged_and_duplicates_nothing(tmp_path):
    import clickhouse_connect

    rng = random.Random(SEED)
    data, log, port = tmp_path / "store", tmp_path / "collector.log", free_port()
    load = Load(f"http://127.0.0.1:{port}", threads=4, spans=5, seed=SEED).start()
    started = time.monotonic()
    kills = {"SIGKILL": 0, "SIGTERM": 0, "during_start": 0, "with_spool_pending": 0}
    collector = final = None
    final_ready = False
    try:
        for cycle in range(CYCLES):
            collector = Collector(log, port, "--data-dir", str(data),
                                  "--flush-interval", rng.choice(["0.05", "0.2", "1"])).start()
            ready = False
            if rng.random() < 0.15:  # while starting: opening the store, recovering the spool, draining it
                time.sleep(rng.uniform(0, 2.0))
                kills["during_start"] += 1
            else:
                ready = True
                assert collector.wait_ready(), f"cycle {cycle}: the collector did not start\n{collector.tail()}"
                time.sleep(rng.uniform(0.05, 1.5))
                try:
                    kills["with_spool_pending"] += collector.health()["spool"]["pending_records"] > 0
                except OSError:
                    pass
            sig = signal.SIGTERM if rng.random() < 0.1 else signal.SIGKILL
            code = collector.kill(sig)
            kills[sig.name] += 1
            if sig == signal.SIGTERM:  # graceful once serving (before Python is up, SIGTERM just ends it)
                assert code == 0 or (not ready and code == -signal.SIGTERM), \
                    f"cycle {cycle}: SIGTERM exit {code}\n{collector.tail()}"
        final = Collector(log, port, "--data-dir", str(data), "--flush-interval", "0.2").start()
        final_ready = final.wait_ready()
        assert final_ready, final.tail()
        time.sleep(1.0)  # a last stretch of load against a collector that is not killed
    finally:
        figures = load.stop()
        # A failed cycle leaves no collector behind (the final one, once ready, is stopped below).
        for left in (collector, None if final_ready else final):
            if left is not None and left.alive():
                left.kill(signal.SIGKILL)
    try:
        final.wait_drained()
        sql_url = json.loads((data / "aitrail.lock").read_text())["sql_url"]
        client = clickhouse_connect.get_client(dsn=sql_url)
        result = account(client, load.run_id, figures.acked)
        client.close()
    finally:
        assert final.kill(signal.SIGTERM) == 0, final.tail()
    report = {"cycles": CYCLES, "seed": SEED, "seconds": round(time.monotonic() - started, 1), "kills": kills,
              "requests": figures.requests, "acked_requests": figures.acked_requests,
              "spans_sent": figures.spans_sent, "statuses": dict(figures.statuses), **result,
              "torn_records_cut": log.read_text(errors="replace").count("cut a torn record"),
              "recoveries_with_spooled_rows": log.read_text(errors="replace").count("left by the last run"),
              "batches_in_flight_redone": log.read_text(errors="replace").count("inserting again the batch in flight"),
              "restores": log.read_text(errors="replace").count("restoring them")}
    print(f"\ncrash test: {json.dumps(report)}")
    assert result["acked"] > 0
    assert result["lost"] == 0, report
    assert result["duplicates"] == 0 and result["generation_duplicates"] == 0, report
    assert result["generation_rows"] == result["stored"], report  # the materialized view saw each span once
    assert result["rollup_generations"] == result["generation_rows"], report  # and so did the rollup's view
