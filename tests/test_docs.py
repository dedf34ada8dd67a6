"""Docs that cannot rot: every command, option, setting, environment variable and attribute is documented
(in README.md or a page of docs/), as a whole token; and what the docs show as commands is real.

A name counts as documented only where it stands alone: ``AITRAIL_TOKEN`` is not documented by
``AITRAIL_TOKENS_FILE``, nor ``aitrail.team`` by ``aitrail.team.id``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import fields
from pathlib import Path

import pytest
import typer.main

from aitrail.cli import app
from aitrail.collector.config import CollectorConfig
from aitrail.sdk import environment, vocabulary

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DOCS = "\n".join(page.read_text() for page in PAGES)
README = (ROOT / "README.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()


def documented(name: str, text: str = DOCS) -> bool:
    """``name`` appears as a whole token: no letter, digit, ``_``, ``-`` or ``.`` glued to either side."""
    return re.search(rf"(?<![\w.\-]){re.escape(name)}(?![\w\-]|\.\w)", text) is not None


def _commands(command=None, path=()):
    command = command or typer.main.get_command(app)
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    yield path, command


COMMANDS = {" ".join(path): command for path, command in _commands() if path}


def test_the_documentation_matcher_takes_whole_tokens_only():
    text = "set `AITRAIL_TOKENS_FILE` and `aitrail.team.id`; run aitrail tokens-list"
    assert not documented("AITRAIL_TOKEN", text) and not documented("aitrail.team", text)
    assert not documented("aitrail tokens", text) and documented("AITRAIL_TOKENS_FILE", text)


def test_quick_start_is_in_the_readme():
    assert "make demo" in README and "make test" in README


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_option_is_documented(name):
    assert documented(f"aitrail {name}"), name
    for param in COMMANDS[name].params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert documented(opt), f"aitrail {name} {opt}"


def test_every_environment_variable_is_documented():
    missing = [getattr(environment, n) for n in dir(environment) if n.isupper() and not documented(getattr(environment, n))]
    assert not missing


def test_every_collector_setting_is_documented_on_the_configuration_page():
    missing = [f.name for f in fields(CollectorConfig) if f.name != "location" and not documented(f.name, CONFIGURATION)]
    assert not missing
    assert documented("data_dir", CONFIGURATION) and documented("clickhouse_url", CONFIGURATION)  # [store]


def test_every_attribute_of_the_vocabulary_is_documented():
    missing = [value for name in dir(vocabulary)
               if name.isupper() and isinstance(value := getattr(vocabulary, name), str) and "." in value
               and not documented(value)]
    assert not missing


def _code() -> list[str]:
    """Every line of code the docs show (fenced blocks, inline code spans); design notes, which describe
    what is planned, aside."""
    lines = []
    for text in (page.read_text() for page in PAGES if "design" not in page.relative_to(ROOT).parts):
        for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S):
            lines += block.splitlines()
        lines += re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
    return lines


def test_every_command_line_the_docs_show_is_real():
    """``aitrail X --opt`` in the docs: X is a command and --opt one of its options."""
    shown = 0
    for line in _code():
        found = re.search(r"(?:^|\s|\$ )aitrail ([a-z].*)", line)
        if not found:
            continue
        try:
            words = shlex.split(found.group(1).split("#")[0])
        except ValueError:
            words = found.group(1).split()
        path = []
        while words and " ".join([*path, words[0]]) in COMMANDS:
            path.append(words.pop(0))
        if not path:
            assert not re.match(r"^[a-z][\w-]*$", words[0]) or words[0] in ("and", "or", "is", "in"), line
            continue
        shown += 1
        command = COMMANDS[" ".join(path)]
        options = {opt for p in command.params for opt in p.opts} | {"--help"}
        for word in words:
            if word == "--":
                break
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"{line!r}: aitrail {' '.join(path)} has no {word}"
    assert shown > 10


def test_every_link_between_pages_leads_somewhere():
    for page in PAGES:
        for target in re.findall(r"\]\(((?!https?:|#)[^)#\s]+)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to {target}"


def test_every_make_target_in_the_docs_exists():
    makefile = (ROOT / "Makefile").read_text()
    commands = re.findall(r"`make (\w+)`", DOCS) + re.findall(r"^make (\w+)", DOCS, re.M)
    assert commands
    for target in set(commands):
        assert re.search(rf"^{target}:", makefile, re.M), target
