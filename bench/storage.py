"""Storage: bytes per generation on disk, and the compression ratio, for ai_generations and otel_traces.

The 10x data set of ``bench/queries.py`` (1 million generations over 30 days; quick: tiny) is made the
same way — synthetic SDK spans into ``otel_traces``, the materialized views fill ``ai_generations`` and
the ``otel_traces_trace_id_ts`` lookup — and, once background merges settle, ``system.parts`` (active
parts: bytes on disk, compressed and uncompressed data) and ``system.columns`` (which columns weigh
most) say what it costs. Every generation is stored twice: as the raw span and as the typed row.

The baseline: Jaeger reports 8.6x compression for spans in ClickHouse; the target is >= 8x.
What compresses is data that repeats (names, models, paths, repositories); what does not is random by
nature: trace and span ids, prompt hashes, commits and line fingerprints (64-bit hashes, several per
generation). The synthetic prompts draw from a small vocabulary, so they compress better than real ones.

chDB opens one data directory per process: the work runs in a subprocess (``python -m bench.storage``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import isolated

TABLES = ("otel_traces", "ai_generations", "otel_traces_trace_id_ts", "ai_usage_daily", "ai_files_daily",
          "ai_repositories_daily")
RANDOM_BY_NATURE = ("trace_id", "span_id", "prompt_hash", "commit", "line_fingerprints")
"""ai_generations columns that are hashes or random ids: no codec can shrink them much."""
JAEGER_RATIO = 8.6
TARGET_RATIO = 8.0
SIZE = 10  # x the base size of bench/queries.py


def table_sizes(store: Any, generations: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table in TABLES:
        part = store.rows(
            "SELECT sum(rows) AS rows, count() AS parts, sum(bytes_on_disk) AS on_disk, "
            "sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed "
            "FROM system.parts WHERE active AND database = 'aitrail' AND table = {table:String}",
            {"table": table},
        )[0]
        columns = store.rows(
            "SELECT name, data_compressed_bytes AS compressed, data_uncompressed_bytes AS uncompressed "
            "FROM system.columns WHERE database = 'aitrail' AND table = {table:String} "
            "ORDER BY data_compressed_bytes DESC",
            {"table": table},
        )  # per column only for wide parts (compact parts, under 10 MB, report 0)
        columns = [c for c in columns if int(c["compressed"]) > 0]
        compressed, uncompressed = int(part["compressed"]), int(part["uncompressed"])
        out[table] = {
            "rows": int(part["rows"]),
            "parts": int(part["parts"]),
            "bytes_on_disk": int(part["on_disk"]),
            "bytes_per_generation": round(int(part["on_disk"]) / generations, 1),
            "compressed_bytes_per_generation": round(compressed / generations, 1),
            "uncompressed_bytes_per_generation": round(uncompressed / generations, 1),
            "compression_ratio": round(uncompressed / compressed, 2) if compressed else None,
            "heaviest_columns": [
                {"column": c["name"], "compressed_bytes_per_generation": round(int(c["compressed"]) / generations, 1),
                 "ratio": round(int(c["uncompressed"]) / int(c["compressed"]), 1) if int(c["compressed"]) else None}
                for c in columns[:6]
            ],
        }
        if table == "ai_generations" and columns:
            rest = [c for c in columns if c["name"] not in RANDOM_BY_NATURE]
            random_part = [c for c in columns if c["name"] in RANDOM_BY_NATURE]
            out[table]["random_by_nature_share_of_compressed"] = round(
                sum(int(c["compressed"]) for c in random_part) / sum(int(c["compressed"]) for c in columns), 3)
            out[table]["compression_ratio_without_random_by_nature"] = round(
                sum(int(c["uncompressed"]) for c in rest) / sum(int(c["compressed"]) for c in rest), 2)
    return out


def work(quick: bool, echo: bool) -> dict[str, Any]:
    from aitrail.collector.store import StoreLocation, open_store
    from bench.queries import BASE_ROWS, QUICK_BASE_ROWS, populate, settle

    generations = (QUICK_BASE_ROWS if quick else BASE_ROWS) * SIZE
    data_dir = Path(tempfile.mkdtemp(prefix="aitrail-bench-storage-"))
    try:
        store = open_store(StoreLocation(data_dir=data_dir))
        try:
            if echo:
                print(f"  storage: making {generations:,} generations ...", file=sys.stderr, flush=True)
            populate(store, 0, generations, echo)
            state = settle(store, timeout=5 if quick else 300)
            tables = table_sizes(store, generations)
        finally:
            store.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    both = sum(tables[t]["bytes_on_disk"] for t in TABLES)
    compressed = sum(tables[t]["compressed_bytes_per_generation"] for t in TABLES)
    uncompressed = sum(tables[t]["uncompressed_bytes_per_generation"] for t in TABLES)
    return {
        "generations": generations,
        "merges_running_when_measured": state["merges_running"],
        "tables": tables,
        "bytes_per_generation_all_tables": round(both / generations, 1),
        "compression_ratio_all_tables": round(uncompressed / compressed, 2) if compressed else None,
        "jaeger_ratio": JAEGER_RATIO,
        "target_ratio": TARGET_RATIO,
    }


def run(quick: bool = False, echo: bool = True) -> dict[str, Any]:
    result = isolated.in_subprocess("bench.storage", quick, echo)
    for table in ("otel_traces", "ai_generations"):
        result["tables"][table]["met_target"] = (result["tables"][table]["compression_ratio"] or 0) >= TARGET_RATIO
    if echo:
        print(f"storage at {result['generations']:,} generations "
              f"(compression target >= {TARGET_RATIO}x; Jaeger reports {JAEGER_RATIO}x for spans):")
        for table in TABLES:
            t = result["tables"][table]
            heavy = ", ".join(f"{c['column']} {c['compressed_bytes_per_generation']} B ({c['ratio']}x)"
                              for c in t["heaviest_columns"][:4])
            print(f"  {table:<24} {t['bytes_per_generation']:>7.1f} B/generation on disk, compression "
                  f"{t['compression_ratio']}x ({t['uncompressed_bytes_per_generation']:.0f} -> "
                  f"{t['compressed_bytes_per_generation']:.0f} B); heaviest: {heavy}")
        print(f"  all tables: {result['bytes_per_generation_all_tables']} B per generation on disk, "
              f"compression {result['compression_ratio_all_tables']}x")
        typed = result["tables"]["ai_generations"]
        if "random_by_nature_share_of_compressed" in typed:
            print(f"  ai_generations: ids, hashes and line fingerprints ({', '.join(RANDOM_BY_NATURE)}) are "
                  f"{typed['random_by_nature_share_of_compressed']:.0%} of its compressed bytes; the other columns "
                  f"compress {typed['compression_ratio_without_random_by_nature']}x")
    return result


def main() -> None:
    isolated.main(__doc__, work, run)


if __name__ == "__main__":
    main()
