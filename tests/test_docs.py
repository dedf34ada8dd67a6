"""Docs that cannot rot: every command, option, environment variable and attribute is in the README."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from aitrail.cli import app
from aitrail.sdk import environment, vocabulary

ROOT = Path(__file__).parent.parent
README = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
"""The README and the user's manual beside it (docs/*.md): a command, option or setting may be documented in either."""


def test_quick_start_is_the_two_commands():
    assert "make demo" in README and "make test" in README


def test_every_command_and_option_is_documented():
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert f"aitrail {name}" in README, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in README, f"{name} {opt}"


def test_every_environment_variable_is_documented():
    for name in dir(environment):
        if name.isupper():
            assert getattr(environment, name) in README, name


def test_every_attribute_of_the_vocabulary_is_documented():
    for name in dir(vocabulary):
        value = getattr(vocabulary, name)
        if name.isupper() and isinstance(value, str) and "." in value:
            assert f"`{value}`" in README or value in README, name


def test_every_make_target_in_the_readme_exists():
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    commands = re.findall(r"`make (\w+)`", README) + re.findall(r"^make (\w+)", README, re.M)
    assert commands
    for target in set(commands):
        assert re.search(rf"^{target}:", makefile, re.M), target
