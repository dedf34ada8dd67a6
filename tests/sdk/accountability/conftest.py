"""Real repositories for the accountability tests (helpers and fixtures: accountability_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# Under --import-mode=importlib nothing puts this folder on sys.path; the test modules import accountability_support.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from accountability_support import env, repo, spans  # noqa: E402,F401  (fixtures)
