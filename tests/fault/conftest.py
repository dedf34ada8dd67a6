"""Fault tests: collectors killed at random moments, a store that goes away and comes back (helpers in faultkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# The test modules import faultkit.py; under --import-mode=importlib nothing puts this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
