"""Line fingerprints: the link between a line of code and the generation that wrote it.

A fingerprint is xxHash64 of the line with surrounding white space removed, so
a finding reported months later on a moved or re-indented line still finds the
generation that wrote it. The same function exists in ClickHouse SQL
(:func:`fingerprint_sql`), and the tests hold the two identical.

Lines that carry no information (blank, a lone brace, ``});``) get no
fingerprint: they would match everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import xxhash

WHITESPACE = " \t\r\n\x0b\x0c"
"""Characters trimmed from both ends of a line (ASCII white space)."""

MIN_LINE_BYTES = 3
"""Trimmed lines shorter than this (in UTF-8 bytes) are too trivial to fingerprint."""

_HAS_ALNUM = re.compile(rb"[A-Za-z0-9]")


def line_fingerprint(line: str) -> int | None:
    """The unsigned 64-bit fingerprint of one line, or None for a trivial line."""
    body = line.strip(WHITESPACE).encode("utf-8", "surrogatepass")
    if len(body) < MIN_LINE_BYTES or not _HAS_ALNUM.search(body):
        return None
    return xxhash.xxh64_intdigest(body)


def fingerprints(lines: Iterable[str]) -> list[int]:
    """Fingerprints of the non-trivial lines, in order."""
    return [fp for fp in map(line_fingerprint, lines) if fp is not None]


def to_signed(fingerprint: int) -> int:
    """OTLP integers are signed 64-bit: carry an unsigned fingerprint as its two's complement."""
    return fingerprint - (1 << 64) if fingerprint >= 1 << 63 else fingerprint


def to_unsigned(value: int) -> int:
    """Inverse of :func:`to_signed`."""
    return value + (1 << 64) if value < 0 else value


def fingerprint_sql(line_expr: str) -> str:
    """The same fingerprint as a ClickHouse expression over ``line_expr`` (NULL for trivial lines)."""
    trimmed = f"trimBoth({line_expr}, ' \\t\\r\\n\\v\\f')"
    return (
        f"if(length({trimmed}) >= {MIN_LINE_BYTES} AND match({trimmed}, '[A-Za-z0-9]'), "
        f"xxHash64({trimmed}), NULL)"
    )
