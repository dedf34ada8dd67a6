"""The store goes away and comes back: the collector spools, refuses with 503 once the spool is full, drains once.

The store is a ClickHouse server stand-in (chserver.py: ClickHouse's HTTP
interface over chDB, in a subprocess) that is killed and started again; the
collector is ``aitrail serve --clickhouse-url`` in a subprocess, with a small
spool so that it fills up during the outage.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from faultkit import Collector, Load, account, chserver, free_port, wait_port

SPOOL_BYTES = 16 << 20


def _config(tmp_path, **settings):
    path = tmp_path / "collector.toml"
    path.write_text("[collector]\n" + "".join(f"{k} = {v!r}\n" for k, v in settings.items()))
    return str(path)


@pytest.mark.timeout(600)
def test_store_outage_spools_then_refuses_then_drains_everything_once_in_bounded_memory(tmp_path):
    import clickhouse_connect

    ch_port, port = free_port(), free_port()
    store = chserver(tmp_path / "chserver.log", tmp_path / "ch", ch_port).start()
    wait_port(ch_port)
    collector = Collector(
        tmp_path / "collector.log", port, "--clickhouse-url", f"http://default:@127.0.0.1:{ch_port}",
        "--spool-dir", str(tmp_path / "spool"),
        "--config", _config(tmp_path, max_spool_bytes=SPOOL_BYTES, flush_interval=0.2, derive_interval=0.0),
    ).start()
    assert collector.wait_ready(), collector.tail()
    load = Load(collector.url, threads=4, spans=20, payload=1024, seed=7).start()
    figures = None
    try:
        time.sleep(3)
        rss_before = max(collector.rss_kb() for _ in range(5) if time.sleep(0.1) is None)
        store.kill(signal.SIGKILL)  # the outage
        outage = time.monotonic()
        peak_rss, peak_spool, refused_at = rss_before, 0, None
        while time.monotonic() - outage < 180:
            peak_rss = max(peak_rss, collector.rss_kb())
            health = collector.health()
            peak_spool = max(peak_spool, health["spool"]["pending_bytes"])
            if refused_at is None and load.figures.statuses["503"]:
                refused_at = time.monotonic()
            if refused_at is not None and time.monotonic() - refused_at > 3:
                break
            time.sleep(0.2)
        during = dict(load.figures.statuses)
        degraded = health["status"]
        store.start()  # the store comes back, on the same data
        wait_port(ch_port)
        time.sleep(3)
    finally:
        figures = load.stop()
    health = collector.wait_drained(180)
    assert collector.kill(signal.SIGTERM) == 0, collector.tail()
    client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
    result = account(client, load.run_id, figures.acked)
    client.close()
    store.kill(signal.SIGTERM)
    report = {"requests": figures.requests, "acked_requests": figures.acked_requests, "spans_sent": figures.spans_sent,
              "statuses": dict(figures.statuses), "statuses_during_outage": during, **result,
              "outage_seconds": round(refused_at - outage + 3, 1) if refused_at else None,
              "peak_spool_bytes": peak_spool, "max_spool_bytes": SPOOL_BYTES,
              "rss_kb_before": rss_before, "rss_kb_peak": peak_rss,
              "insert_retries": health["metrics"]["spool"].get("insert_retries", 0)}
    print(f"\noutage test: {json.dumps(report)}")
    assert refused_at is not None, f"never refused while the store was down: {report}"
    assert figures.retry_after_missing == 0
    assert degraded == "degraded"
    assert peak_spool <= SPOOL_BYTES
    assert result["lost"] == 0 and result["duplicates"] == 0 and result["generation_duplicates"] == 0, report
    assert result["generation_rows"] == result["stored"], report
    assert result["rollup_generations"] == result["generation_rows"], report
    # The spooled rows live on disk, not in memory: filling a 16 MiB spool grows the process far less than that.
    assert peak_rss - rss_before < (SPOOL_BYTES >> 10) // 2, report


@pytest.mark.timeout(600)
def test_a_killed_collector_drains_its_spool_when_started_again(tmp_path):
    """Rows acknowledged while the store was down, then SIGKILL: the next start stores them, once."""
    import clickhouse_connect

    ch_port, port = free_port(), free_port()
    store = chserver(tmp_path / "chserver.log", tmp_path / "ch", ch_port).start()
    wait_port(ch_port)
    options = ("--clickhouse-url", f"http://default:@127.0.0.1:{ch_port}", "--spool-dir", str(tmp_path / "spool"),
               "--config", _config(tmp_path, flush_interval=0.1, derive_interval=0.0))
    collector = Collector(tmp_path / "collector.log", port, *options).start()
    assert collector.wait_ready(), collector.tail()
    load = Load(collector.url, threads=2, spans=5, seed=11).start()
    time.sleep(1)
    store.kill(signal.SIGKILL)
    time.sleep(2)
    figures = load.stop()
    spooled = collector.health()["spool"]
    collector.kill(signal.SIGKILL)
    assert spooled["pending_records"] > 0, spooled
    store.start()
    wait_port(ch_port)
    collector = Collector(tmp_path / "collector.log", port, *options).start()
    assert collector.wait_ready(), collector.tail()
    collector.wait_drained(120)
    assert collector.kill(signal.SIGTERM) == 0, collector.tail()
    client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
    result = account(client, load.run_id, figures.acked)
    client.close()
    store.kill(signal.SIGTERM)
    print(f"\nrestart test: spooled at the kill {spooled['pending_records']} records; {json.dumps(result)}")
    assert result["acked"] > 0 and result["lost"] == 0 and result["duplicates"] == 0, result
    assert result["generation_duplicates"] == 0 and result["generation_rows"] == result["stored"], result
    assert result["rollup_generations"] == result["generation_rows"], result
