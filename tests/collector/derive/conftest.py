"""The derivation tests replay recorded assistant telemetry (tests/fixtures/native) into a real chDB store."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

NATIVE = Path(__file__).resolve().parents[2] / "fixtures" / "native"
if str(NATIVE) not in sys.path:  # --import-mode=importlib puts no test folder on sys.path
    sys.path.insert(0, str(NATIVE))


@pytest.fixture
def now() -> int:
    """The moment every test derives at (nanoseconds); recordings are rebased relative to it."""
    return time.time_ns()
