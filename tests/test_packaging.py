"""The package as pip builds it: every subpackage listed, and the light install free of the engine."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_directory_is_listed():
    setuptools = PROJECT["tool"]["setuptools"]
    found = {
        ".".join([package, *init.parent.relative_to(ROOT / folder).parts])
        for package, folder in setuptools["package-dir"].items()
        for init in (ROOT / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found == set(setuptools["packages"])


def test_the_light_install_never_pulls_the_engine():
    light = " ".join(PROJECT["project"]["dependencies"]).lower()
    for heavy in ("chdb", "pyarrow", "clickhouse", "aiohttp", "grpcio"):
        assert heavy not in light
