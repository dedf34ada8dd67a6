"""Benchmarks that open a store do their measuring in a fresh process: chDB opens one data directory per process.

``python -m bench.<name>`` runs one benchmark and prints its figures; the parent then calls
``python -m bench.<name> --work --out FILE`` to measure in a process of its own, and reads FILE.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def in_subprocess(module: str, quick: bool, echo: bool, timeout: float = 7200) -> dict[str, Any]:
    """Run ``python -m <module> --work`` (its own chDB data directory) and return the dict it writes."""
    with tempfile.TemporaryDirectory(prefix="aitrail-bench-") as scratch:
        out = Path(scratch) / "result.json"
        argv = [sys.executable, "-m", module, "--work", "--out", str(out)]
        argv += ["--quick"] if quick else []
        argv += ["--echo"] if echo else []
        done = subprocess.run(argv, cwd=ROOT, timeout=timeout, stdout=sys.stderr)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"{module} failed (exit {done.returncode})")
        return json.loads(out.read_text())


def main(doc: str | None, work: Callable[[bool, bool], dict[str, Any]],
         run: Callable[..., dict[str, Any]]) -> None:
    """The command line of a benchmark module: measure here (``--work``), or run it and print its figures."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--work", action="store_true", help="do the measuring here (a fresh process)")
    parser.add_argument("--out", type=Path, help="with --work: write the figures there as JSON")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark runs")
    parser.add_argument("--echo", action="store_true", help="with --work: say what is being done")
    args = parser.parse_args()
    if not args.work:
        run(args.quick, echo=True)
        return
    result = work(args.quick, args.echo)
    if args.out:
        args.out.write_text(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
