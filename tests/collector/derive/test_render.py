"""The derivation SQL's macros compute exactly what the Python side computes, in the real engine."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitrail.collector.derive import DIALECTS
from aitrail.collector.derive.render import MACROS, expand, statement
from aitrail.sdk.edits import language_of
from aitrail.sdk.fingerprint import fingerprints, to_signed

LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=24)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _python_lines(text: str) -> list[str]:
    """What git counts as the lines of a text (as aitrail.sdk.edits does), without terminators or a final \\r."""
    if not text:
        return []
    return [line.removesuffix("\r") for line in (text[:-1] if text.endswith("\n") else text).split("\n")]


def _one(store, expression: str, **params):
    return json.loads(store.rows(f"SELECT toJSONString({expand(expression)}) AS v", params)[0]["v"])


@SLOW
@given(lines=st.lists(LINE, max_size=8))
def test_fingerprints_in_sql_equal_the_sdk(store, lines):
    assert _one(store, "FINGERPRINTS({lines:Array(String)})", lines=lines) == [to_signed(f) for f in fingerprints(lines)]


@SLOW
@given(text=TEXT)
def test_lines_in_sql_are_the_lines_git_counts(store, text):
    assert _one(store, "LINES({text:String})", text=text) == _python_lines(text)


@pytest.mark.parametrize("text, lines", [("", []), ("a\nb\n", ["a", "b"]), ("a\nb", ["a", "b"]), ("\n", [""]),
                                         ("a\r\nb\r\n", ["a", "b"]), ("x\n\n", ["x", ""])])
def test_lines_examples(store, text, lines):
    assert _one(store, "LINES({text:String})", text=text) == lines


def test_added_and_removed_lines_of_a_replacement(store):
    old, new = "def f():\n    return 1\n", "def f():\n    x = 2\n    return x\n"
    assert _one(store, "ADDED({new:String}, {old:String})", new=new, old=old) == ["    x = 2", "    return x"]
    assert _one(store, "REMOVED({new:String}, {old:String})", new=new, old=old) == 1


@pytest.mark.parametrize("path", ["src/app.py", "a/b/Main.JAVA", "Dockerfile", "build/Makefile.inc", "x.tar.gz",
                                  ".bashrc", "noext", "web/App.tsx", "C:\\repo\\main.go", "docs/README.md", "a.b.rs"])
def test_language_in_sql_equals_the_sdk(store, path):
    assert _one(store, "LANGUAGE({path:String})", path=path) == language_of(path)


@pytest.mark.parametrize(
    "path, root, relative",
    [("/repo/src/a.py", "/repo", "src/a.py"), ("/repo/src/a.py", "/repo/", "src/a.py"),
     ("/repository/a.py", "/repo", "/repository/a.py"), ("src/a.py", "/repo", "src/a.py"),
     ("/other/a.py", "/repo", "/other/a.py"), ("/repo/a.py", "", "/repo/a.py"),
     ("/my repo/a.py", "%2Fmy%20repo", "a.py"), ("/100%/a.py", "/100%", "a.py")],
)
def test_paths_become_relative_only_under_the_root(store, path, root, relative):
    assert _one(store, "RELATIVE({path:String}, {root:String})", path=path, root=root) == relative


def test_span_ids_are_16_hex_digits_and_deterministic(store):
    ids = {_one(store, "SPAN_ID('a', {x:String})", x="toolu_1") for _ in range(2)}
    assert len(ids) == 1 and re.fullmatch(r"[0-9a-f]{16}", ids.pop())


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_statement_renders_to_plain_sql_with_parameters_only(dialect):
    sql = statement(dialect, DIALECTS[dialect], "aitrail")
    assert sql.startswith("INSERT INTO `aitrail`.otel_traces")
    assert "${" not in sql and not re.search(r"\b(" + "|".join(MACROS) + r")\(", sql)
    assert set(re.findall(r"\{(\w+):", sql)) == {"window_start", "settled", "given_up"}


def test_the_attributes_the_derivation_writes_are_the_vocabulary():
    from importlib import resources

    from aitrail.sdk import vocabulary

    names = {value for name, value in vars(vocabulary).items() if name.isupper() and isinstance(value, str)}
    emit = resources.files("aitrail.collector.derive").joinpath("_emit.sql").read_text()
    written = re.findall(r"^\s+'([a-z_.]+)', ", emit[emit.index("mapFilter"):], re.M)
    assert len(written) > 20 and set(written) <= names, set(written) - names
