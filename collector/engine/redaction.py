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
    """SQL: the distinct (request, key, value) the prefilter flags, and how many times each occurs, in the rows
    ``source`` reads (one request each, numbered from 0 in order: run it on one stream): ``key_values``, an
    Array of KeyValues per row (a request's lists, flattened), read ``depth`` levels deep (:func:`strings`)."""
    keys, values = strings(f"{_KEY_VALUES}.key", f"{_KEY_VALUES}.value", depth)
    return (f"SELECT request, key, value, count() AS times FROM (SELECT rowNumberInAllBlocks() AS request, "
            f"{key_values} AS {_KEY_VALUES} FROM {source}) "
            f"ARRAY JOIN {keys} AS key, {values} AS value WHERE {flagged('value')} GROUP BY request, key, value")


SCAN_SETTINGS = {"max_threads": 1, "max_block_size": 16}
"""The flag scan numbers requests in the order they come: one stream; and holds few requests at a time
(16 per block: a batch of large ones otherwise grows the collector's memory by several times its size)."""


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


def _entry(digest: str, kept: tuple[tuple[int, int, str], ...]) -> str:
    """SQL: one value's entry in the map of :func:`with_clause`."""
    return f"{literal(digest)}, [{', '.join(f'({start}, {size}, {literal(text)})' for start, size, text in kept)}]"


def with_clause(found: Replacements) -> str:
    """SQL: the ``WITH`` clause a statement whose values :func:`wrap` redacts starts with ('' for no secrets)."""
    if not found.pieces:
        return ""
    entries = ", ".join(_entry(digest, kept) for digest, kept in sorted(found.pieces.items()))
    return (f"WITH map({entries}) AS {_PIECES}, "
            f"[{', '.join(str(n) for n in sorted(found.lengths))}] AS {_LENGTHS} ")


MAX_QUERY_SIZE = 1 << 24
"""Room to parse a statement that holds replacements (ClickHouse parses 256 KiB by default; :func:`split` keeps
their part of a statement within :data:`STATEMENT_BUDGET` but for a request that alone holds more)."""


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


def rows(raw: bytes) -> list[tuple[int, str, str, int]]:
    """The (request, key, value, times) rows of a :func:`flag_sql` result in ``JSONCompactEachRow``."""
    return [(int(request), key, value, int(times))
            for request, key, value, times in (json.loads(line) for line in raw.splitlines() if line.strip())]


STATEMENT_BUDGET = 1 << 17
"""How much of a statement's text its replacements may take (128 KiB): with the deep statement's own ~115 KB
it stays within the 256 KiB a ClickHouse server parses by default (``max_query_size``, raised anyway), and
within a server's 1 MiB URL, where the statement travels beside its body, once percent-encoded."""


def split(requests: list[bytes], flagged: Iterable[tuple[int, str, str, int]]) -> list[tuple[bytes, Replacements]]:
    """The requests (length-delimited messages, in order) in runs whose replacements (of the ``flagged`` rows of
    :func:`flag_sql`) fit :data:`STATEMENT_BUDGET` each: one statement per run. One run of them all when nothing is redacted;
    a request alone past the budget is a run of its own. Deterministic: a retry makes the same runs."""
    by_request: dict[int, list[tuple[str, str, int]]] = {}
    for request, key, value, times in flagged:
        by_request.setdefault(request, []).append((key, value, times))
    found = {n: replacements(pairs) for n, pairs in by_request.items()}
    runs: list[tuple[bytes, Replacements]] = []
    start, current = 0, Replacements()
    size = 0  # of current's with_clause, kept up to date without writing it again
    for n in range(len(requests)):
        own = found.get(n, Replacements())
        if n > start and size + _added(current, own) > STATEMENT_BUDGET:
            runs.append((b"".join(requests[start:n]), current))
            start, current, size = n, Replacements(), 0
        size += _added(current, own)
        current = merge(current, own)
    runs.append((b"".join(requests[start:]), current))
    return runs


def _added(current: Replacements, own: Replacements) -> int:
    """How much longer :func:`with_clause` of ``current`` becomes with ``own`` merged in."""
    entries = [len(_entry(digest, kept)) + 2 for digest, kept in own.pieces.items() if digest not in current.pieces]
    lengths = [len(str(n)) + 2 for n in own.lengths - current.lengths]
    # The clause's own text, less its one entry's and one length's (and the separators the first ones lack).
    fixed = len(with_clause(Replacements({"": ()}, frozenset({0})))) - len(_entry("", ())) - 1 - 4
    fixed = fixed if entries and not current.pieces else 0
    return sum(entries) + sum(lengths) + fixed


def merge(*found: Replacements) -> Replacements:
    """The replacements of several requests together (a value's count in each)."""
    kinds: Counter[str] = Counter()
    for each in found:
        kinds.update(each.kinds)
    return Replacements({k: v for each in found for k, v in each.pieces.items()},
                        frozenset().union(*(each.lengths for each in found)), sum(kinds.values()),
                        dict(sorted(kinds.items())))
