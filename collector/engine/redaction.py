"""Redaction in the engine: a SQL prefilter flags the few string values that may hold a secret, Python redacts
only those, and the statement that stores the batch substitutes the result.

The collector redacts again what any OTLP client sent (:func:`aitrail.sdk.redact.redact`, the SDK's own
table), but reading every string value in Python cost more than anything else per span. So, at drain time:

1. :func:`flag_sql` — one cheap statement over the spooled bytes (only keys and strings read) returns the
   distinct (key, value) pairs the prefilter flags: ``multiMatchAny`` (Hyperscan) over :data:`PATTERNS`,
   generated from the SDK's rules, never copied: every format's hints, the words the assignment layer starts
   at, and the candidate shape of the "looks random" layer (a run of its characters, long enough, with a
   digit). :func:`aitrail.sdk.redact.find` finds nothing in a value none of them matches, so the prefilter
   is a superset (``tests/collector/engine/test_redaction.py`` checks it on the secret corpus and on fuzzed
   text, through the engine).
2. :func:`replacements` — Python, on the flagged pairs only: the hex digest/id exemption, then the SDK's
   rules. A value with secrets becomes *pieces* — byte ranges of the value to keep, each followed by a
   placeholder — keyed by the SHA-256 of its key and value: neither the secret nor the value is ever in the
   statement's text (a server keeps its query log).
3. :func:`wrap` — the SQL of a string value in the storing statement, with the pieces substituted where its
   key and value hash to one (its length first, so other values cost a set lookup); :func:`with_clause`
   holds them. With no secret in a batch the storing statement is exactly as without redaction.

Signal-agnostic: a signal's statement wraps its string values with :func:`wrap` (the key a value is redacted
under: its attribute's name, an array item's attribute's, a key-value list item's own key) and its flag scan
lists the same pairs with :func:`strings` and :func:`flag_sql`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from aitrail.collector.store.base import literal
from aitrail.sdk import redact as sdk

MIN_LENGTH = 8
"""Shorter values hold no secret (:func:`aitrail.sdk.redact.find` returns nothing under 8 characters; bytes are
at least as many)."""


def _random_shapes() -> list[str]:
    """The "looks random" layer's candidates as patterns: a run of its characters, at least as long as it
    requires, holding a digit (:func:`aitrail.sdk.redact.looks_random` refuses anything else), read from the
    SDK's own candidate pattern."""
    shape = re.fullmatch(r"(\[[^\]]+\])\{(\d+),\}", sdk._RANDOM_CANDIDATE.pattern)
    if shape is None:  # pragma: no cover - the SDK changed its candidate's form: this must be told, not guessed
        raise RuntimeError(f"cannot read the random candidate's shape from {sdk._RANDOM_CANDIDATE.pattern!r}")
    chars, least = shape.group(1), int(shape.group(2))
    digit = sdk._DIGIT.pattern

    def run(n: int) -> str:
        return f"{chars}{{{n}}}" if n else ""  # Hyperscan refuses a repeat of zero

    return [f"{run(before)}{digit}{run(least - 1 - before)}" for before in range(least)]


def _patterns() -> tuple[str, ...]:
    """Every pattern one of which a value must match for the SDK's rules to find anything in it: the rules'
    hints and the assignment layer's words caseless (the SDK looks for them in the lower-cased text)."""
    if sdk._SECRET_RULES.always:  # pragma: no cover - a rule without hints could match anything
        return ("(?s).",)
    found = [f"(?i){re.escape(word)}" for word in sdk._ASSIGNMENT_WORDS]
    for rule in sdk._SECRET_RULES.rules:
        found += [f"(?i){re.escape(hint) if isinstance(hint, str) else hint.pattern}" for hint in rule.hints]
    return tuple(dict.fromkeys([*found, *_random_shapes()]))


PATTERNS: tuple[str, ...] = _patterns()
"""The prefilter's patterns (Hyperscan syntax), generated from :mod:`aitrail.sdk.redact`'s table."""


def flagged(value: str) -> str:
    """SQL: whether the string ``value`` may hold a secret (the prefilter)."""
    return f"(length({value}) >= {MIN_LENGTH} AND multiMatchAny({value}, [{', '.join(map(literal, PATTERNS))}]))"


def strings(keys: str, values: str, depth: int) -> tuple[str, str]:
    """SQL: two parallel Array(String) — the key each string is redacted under, and the string — of every string
    in the AnyValues ``values`` (an Array, parallel to the Array(String) ``keys``) read ``depth`` levels deep:
    strings inside arrays under their attribute's key, inside key-value lists under their own key; the pairs
    :func:`wrap` redacts. Non-strings come as empty strings. Columnar: each level is its array's flattened
    subcolumns, never a tuple per value."""
    found_keys, found = [keys], [f"{values}.string_value"]
    for _ in range(1, depth):
        items = f"{values}.array_value.values"
        entries = f"arrayFlatten({values}.kvlist_value.values)"
        item_keys = f"arrayFlatten(arrayMap((k, vs) -> arrayWithConstant(length(vs), k), {keys}, {items}))"
        keys = f"arrayConcat({item_keys}, {entries}.key)"
        values = f"arrayConcat(arrayFlatten({items}), {entries}.value)"
        found_keys.append(keys)
        found.append(f"{values}.string_value")
    return f"arrayConcat({', '.join(found_keys)})", f"arrayConcat({', '.join(found)})"


def flag_sql(source: str, key_values: str, depth: int) -> str:
    """SQL: the distinct (key, value) pairs the prefilter flags, and how many times each occurs, in the rows
    ``source`` reads: ``key_values``, an Array of KeyValues per row (a request's lists, flattened), read
    ``depth`` levels deep (:func:`strings`)."""
    keys, values = strings(f"{_KEY_VALUES}.key", f"{_KEY_VALUES}.value", depth)
    return (f"WITH {key_values} AS {_KEY_VALUES} SELECT key, value, count() AS times FROM {source} "
            f"ARRAY JOIN {keys} AS key, {values} AS value WHERE {flagged('value')} GROUP BY key, value")


_KEY_VALUES = "_key_values"


def _digest(key: str, value: str) -> str:
    """What the statement looks a replacement up by: SHA-256 of the key's length, the key and the value."""
    k = key.encode()
    return hashlib.sha256(str(len(k)).encode() + b":" + k + value.encode()).hexdigest().upper()


_DIGEST_SQL = "hex(SHA256(concat(toString(length({key})), ':', {key}, {value})))"

_DIGEST_NAMES = frozenset({"hash", "sha", "sha1", "sha256", "digest", "checksum", "revision", "commit", "id"})
_HEX = re.compile(r"[0-9a-fA-F]+")


def is_digest(key: str, text: str) -> bool:
    """A hex value under a name that says it is a digest or an id (``aitrail.prompt.hash``,
    ``vcs.ref.head.revision``, ``trace_id``): the collector must not destroy what the SDK hashed on purpose."""
    name = re.split(r"[._-]", key.lower())[-1] if key else ""
    return name in _DIGEST_NAMES and _HEX.fullmatch(text) is not None


@dataclass(frozen=True)
class Replacements:
    """What the storing statement substitutes: for each (key, value) with secrets, by :func:`_digest`, the pieces
    of the value to keep (1-based byte offset, byte length) each followed by a placeholder; how many secrets of
    which kinds."""

    pieces: dict[str, tuple[tuple[int, int, str], ...]] = field(default_factory=dict)
    lengths: frozenset[int] = frozenset()
    count: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def replacements(flagged_pairs: Iterable[tuple[str, str, int]]) -> Replacements:
    """The redactions of the flagged (key, value, times it occurs) pairs: the collector's logic (hex digests and
    ids under their names kept; :func:`aitrail.sdk.redact.find`, whose spans :func:`aitrail.sdk.redact.redact`
    replaces). The kinds count every occurrence."""
    pieces: dict[str, tuple[tuple[int, int, str], ...]] = {}
    lengths: set[int] = set()
    kinds: Counter[str] = Counter()
    for key, value, times in flagged_pairs:
        if is_digest(key, value):
            continue
        spans = sdk.find(value)
        if not spans:
            continue
        at, kept = 0, []  # offsets in bytes, as the engine's substring() counts them
        for start, end, kind in spans:
            byte_start = len(value[:start].encode())
            kept.append((at + 1, byte_start - at, sdk.PLACEHOLDER.format(kind=kind)))
            at = len(value[:end].encode())
        size = len(value.encode())
        kept.append((at + 1, size - at, ""))
        pieces[_digest(key, value)] = tuple(kept)
        lengths.add(size)
        for _, _, kind in spans:
            kinds[kind] += times
    return Replacements(pieces, frozenset(lengths), sum(kinds.values()), dict(sorted(kinds.items())))


_PIECES = "_redacted"
_LENGTHS = "_redacted_lengths"


def with_clause(found: Replacements) -> str:
    """SQL: the ``WITH`` clause a statement whose values :func:`wrap` redacts starts with ('' for no secrets)."""
    if not found.pieces:
        return ""
    entries = ", ".join(
        f"{literal(digest)}, [{', '.join(f'({start}, {size}, {literal(text)})' for start, size, text in kept)}]"
        for digest, kept in sorted(found.pieces.items())
    )
    return (f"WITH map({entries}) AS {_PIECES}, "
            f"[{', '.join(str(n) for n in sorted(found.lengths))}] AS {_LENGTHS} ")


MAX_QUERY_SIZE = 1 << 24
"""Room for a statement that holds many replacements (ClickHouse parses 256 KiB by default; a server's URL,
where the statement travels beside its body, holds 1 MiB by default: ~9,000 values with secrets per batch;
a batch past it is refused and stored request by request, as any batch the store refuses)."""


def settings(found: Replacements) -> dict[str, int]:
    """The settings a statement with :func:`with_clause` ``found`` needs (none without secrets)."""
    return {"max_query_size": MAX_QUERY_SIZE} if found.pieces else {}


def wrap(value: str, key: str) -> str:
    """SQL: the string ``value`` (an attribute's, or an item's inside one, redacted under ``key``) with its
    secrets replaced, in a statement that starts with :func:`with_clause`."""
    digest = _DIGEST_SQL.format(key=key, value=value)
    return (f"if(has({_LENGTHS}, length({value})) AND mapContains({_PIECES}, {digest}), "
            f"arrayStringConcat(arrayMap(r -> concat(substring({value}, r.1, r.2), r.3), {_PIECES}[{digest}])), "
            f"{value})")


def rows(raw: bytes) -> list[tuple[str, str, int]]:
    """The (key, value, times) rows of a :func:`flag_sql` result in ``JSONCompactEachRow``."""
    return [(key, value, int(times)) for key, value, times in (json.loads(line) for line in raw.splitlines()
                                                               if line.strip())]
