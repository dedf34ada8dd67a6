"""The package as pip builds it: every subpackage listed, and the light install free of the engine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


FOLDERS = ("sdk", "collector", "dashboards")
"""The top-level folders that are subpackages of ``aitrail`` (ARCHITECTURE.md)."""


def test_each_top_level_folder_is_its_import_path_on_disk():
    """``aitrail/sdk`` is a link to ``sdk/`` (and so on), so ``aitrail.sdk.x`` is the file ``aitrail/sdk/x.py``
    for any tool that reads the tree, installed or not."""
    for folder in FOLDERS:
        link = ROOT / "aitrail" / folder
        assert link.is_symlink() and link.resolve() == (ROOT / folder).resolve(), folder


def test_every_package_directory_is_packaged():
    from setuptools import find_packages

    found = set(find_packages(str(ROOT), include=["aitrail*"]))
    expected = {"aitrail"} | {
        ".".join(["aitrail", *init.parent.relative_to(ROOT).parts])
        for folder in ("aitrail", *FOLDERS)
        for init in (ROOT / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts and init.parent != ROOT / "aitrail"
    }
    expected = {name.replace("aitrail.aitrail.", "aitrail.") for name in expected}
    assert PROJECT["tool"]["setuptools"]["packages"] == {"find": {"include": ["aitrail*"]}}
    assert found == expected


def test_a_static_tool_resolves_every_aitrail_import_without_the_package_installed():
    """mypy, run on the tree with no site-packages (so not through the editable install's import hook), finds
    every module an ``import aitrail...`` names; third-party imports it cannot see are not the point here."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "aitrail", "--no-site-packages", "--follow-imports=silent",
         "--no-incremental", "--cache-dir=/dev/null", "--ignore-missing-imports"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    checked = re.search(r"\(checked (\d+) source files?\)", result.stdout)
    assert checked, result.stdout[-2000:] + result.stderr[-2000:]
    sources = sum(1 for folder in ("aitrail", *FOLDERS) for f in (ROOT / folder).rglob("*.py")
                  if "__pycache__" not in f.parts)
    assert int(checked[1]) >= sources, result.stdout[-2000:]  # it read the whole tree, through the links
    unresolved = [line for line in result.stdout.splitlines() if 'module named "aitrail' in line]
    assert not unresolved, unresolved


def test_the_light_install_never_pulls_the_engine():
    light = " ".join(PROJECT["project"]["dependencies"]).lower()
    for heavy in ("chdb", "pyarrow", "clickhouse", "aiohttp", "grpcio"):
        assert heavy not in light
