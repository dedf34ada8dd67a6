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
