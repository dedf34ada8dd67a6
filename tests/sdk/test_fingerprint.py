"""The Python fingerprint and the SQL one must agree on every line, or linkage silently breaks."""

from __future__ import annotations

import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitrail.sdk.fingerprint import fingerprint_sql, fingerprints, line_fingerprint, to_signed, to_unsigned

LINES = [
    "def handler(event, context):",
    "    return {'statusCode': 200}",
    "\t\tif (x > 0) {  ",
    "}",
    "  });",
    "",
    "   ",
    "x=1",
    "ab",
    "naïve = 'café'  # ünïcödé",
    "const 日本 = 42;",
    "\x0bvalue = compute()\x0c\r",
]


def test_fingerprint_ignores_surrounding_whitespace_only():
    assert line_fingerprint("    total += price") == line_fingerprint("total += price\t\r")
    assert line_fingerprint("total += price") != line_fingerprint("total +=  price")


def test_fingerprint_is_xxhash64_of_the_trimmed_utf8_line():
    assert line_fingerprint("  return a + b  ") == xxhash.xxh64_intdigest(b"return a + b")


def test_trivial_lines_have_no_fingerprint():
    for line in ["", "   ", "}", "  });", "*/", "ab", "{ }"]:
        assert line_fingerprint(line) is None, line
    assert fingerprints(["}", "value = 1", ""]) == [line_fingerprint("value = 1")]


def test_signed_round_trip():
    for fp in [0, 1, 2**63 - 1, 2**63, 2**64 - 1]:
        signed = to_signed(fp)
        assert -(2**63) <= signed < 2**63
        assert to_unsigned(signed) == fp


def _sql_fingerprints(store, lines):
    rows = store.rows(f"SELECT {fingerprint_sql('line')} AS fp FROM (SELECT arrayJoin({{lines:Array(String)}}) AS line)", {"lines": lines})
    return [r["fp"] for r in rows]


def test_sql_and_python_agree_on_real_lines(store):
    assert _sql_fingerprints(store, LINES) == [line_fingerprint(line) for line in LINES]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), min_size=1, max_size=20))
def test_sql_and_python_agree_on_generated_lines(store, lines):
    assert _sql_fingerprints(store, lines) == [line_fingerprint(line) for line in lines]
