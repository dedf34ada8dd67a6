"""Run every benchmark: ``python -m bench [--quick] [name ...]``."""

from __future__ import annotations

import argparse
import json
import platform
import os

from bench import attribution, ingest, ingest_metrics, interop, linkage, queries, sdk_overhead, storage

# Each benchmark that needs a store runs it in a subprocess of its own (chDB: one data directory per process).
BENCHMARKS = {"sdk": sdk_overhead.run, "ingest": ingest.run, "queries": queries.run, "storage": storage.run,
              "linkage": linkage.run, "attribution": attribution.run, "interop": interop.run,
              "ingest_metrics": ingest_metrics.run}


def machine() -> str:
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmarks run, measures nothing")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)
    results = {"machine": machine()}
    for name in names:
        results[name] = BENCHMARKS[name](quick=args.quick, echo=not args.json)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
