"""pcommon.Value.AsString in ClickHouse SQL: every OTLP attribute value as the contrib exporter writes it.

The same conversions as :mod:`aitrail.collector.rows.common` (the reference,
kept for the SDK-side tests and the bench's baseline), as SQL expressions over
the columns :mod:`aitrail.collector.engine.schema` gives an ``AnyValue``:
bool -> ``true``/``false``, int -> decimal, double -> Go's JSON number text,
bytes -> base64, arrays and key-value lists -> JSON text as Go's
``encoding/json`` writes it (keys sorted, the last of duplicate keys winning,
``<``, ``>``, ``&`` and the JS line separators escaped); a NaN or an infinity
inside an array or a list makes the whole value ``''``, as ``json.Marshal``
failing does in pdata.

The JSON escapes are generated from the reference's own escaping function, so
the two cannot disagree on a character.
"""

from __future__ import annotations

from functools import cache

from aitrail.collector.rows.common import _go_json_string
from aitrail.collector.store.base import literal

_ASCII_ESCAPED = "\\" + '"' + "".join(chr(c) for c in range(0x20)) + "<>&"
"""The ASCII characters Go's JSON encoder writes as escapes (it also escapes U+2028 and U+2029)."""

_NEEDS_ESCAPE = r'[\x00-\x1f"\\<>&]|\xE2\x80[\xA8\xA9]'
"""RE2 over bytes: a character Go escapes (a cheap test before escaping byte by byte)."""

_FAILED = "\\0"
"""What a NaN or an infinity renders as inside JSON: a NUL byte, which escaped JSON text never holds."""


def json_string(text: str) -> str:
    """SQL: ``text`` as a JSON string literal, as Go writes it (ClickHouse's regular expressions see bytes)."""
    escapes = [_go_json_string(char)[1:-1] for char in _ASCII_ESCAPED]
    escaped = (f"arrayStringConcat(arrayMap(c -> transform(c, [{', '.join(map(literal, _ASCII_ESCAPED))}], "
               f"[{', '.join(map(literal, escapes))}], c), extractAll({text}, '(?s).')))")
    for char in "\u2028\u2029":
        escaped = f"replaceAll({escaped}, {literal(char)}, {literal(_go_json_string(char)[1:-1])})"
    return f"concat('\"', if(match({text}, {literal(_NEEDS_ESCAPE)}), {escaped}, {text}), '\"')"


def go_float(number: str) -> str:
    """SQL: a finite Float64 as Go's JSON number text (ClickHouse's shortest digits, an exponent's sign added)."""
    return f"replaceRegexpOne(toString({number}), 'e([0-9])', 'e+\\\\1')"


def _double(number: str) -> str:
    """SQL: AsString of a double attribute (pdata's error text for NaN and infinities)."""
    return (f"multiIf(isFinite({number}), {go_float(number)}, isNaN({number}), 'json: unsupported value: NaN', "
            f"{number} > 0, 'json: unsupported value: +Inf', 'json: unsupported value: -Inf')")


def _scalar_json(value: str) -> list[str]:
    """multiIf branches: the JSON text of an AnyValue that is not an array or a list."""
    kind = f"{value}.value"
    return [
        f"{kind} = 'string_value'", json_string(f"{value}.string_value"),
        f"{kind} = 'int_value'", f"toString({value}.int_value)",
        f"{kind} = 'bool_value'", f"if({value}.bool_value, 'true', 'false')",
        f"{kind} = 'double_value'", f"if(isFinite({value}.double_value), {go_float(value + '.double_value')}, "
                                    f"'{_FAILED}')",
        f"{kind} = 'bytes_value'", f"if({value}.bytes_value = '', 'null', "
                                   f"concat('\"', base64Encode({value}.bytes_value), '\"'))",
    ]


_NESTED = "('array_value', 'kvlist_value')"


def _let(body: str, **bindings: str) -> str:
    """SQL: ``body`` with each name bound to the value of its SQL, written once.

    The analyser resolves an expression at every place it is written, and a statement is planned at every batch
    (docs/ingest-engine.md, "What remains", 1): a value used twice is bound instead, as the argument of a lambda
    applied to a one-item array. The lambda copies every column it captures once per row, so this is for values
    built from a few small columns (an array or a list being rendered), not for a whole attribute list. The names
    must not be columns of the query."""
    names = ", ".join(bindings)
    return f"arrayMap(({names}) -> {body}, {', '.join(f'[{value}]' for value in bindings.values())})[1]"


def _container(value: str, level: int, depth: int) -> str:
    """SQL: the JSON text of an AnyValue at ``level`` that is an array or a key-value list (``depth``: the levels
    the columns hold; an array or a list at the last one renders as a failure, and is never sent there).

    Both become one list of (sort key, prefix, value): an array's items keyed by their zero-padded position
    (so they keep their order), a list's by their key (sorted, the last of duplicates winning) and prefixed
    ``"key":``. Scalars and containers are rendered apart, each over only its own items: ClickHouse evaluates
    a branch holding lambdas for every row, so the recursion must never see a scalar.
    """
    q, p, items, unique = f"q{level}", f"p{level}", f"items{level}", f"unique{level}"
    listed = (f"arrayConcat(arrayMap(({q}, n{level}) -> (leftPad(toString(n{level}), 10, '0'), '', {q}), "
              f"{value}.array_value.values, arrayEnumerate({value}.array_value.values)), "
              f"arrayMap({q} -> ({q}.key, concat({json_string(f'{q}.key')}, ':'), {q}.value), "
              f"{value}.kvlist_value.values))")
    # one per key, the last one sent (as in a Go map)
    last = f"arrayFilter((item, n) -> n = 1, {items}, arrayReverse(arrayEnumerateUniq(arrayReverse({items}.1))))"
    if level + 1 < depth:
        deeper = _container(f"{q}.3", level + 1, depth)
    else:  # deeper than the columns hold: cannot be rendered (such values go to a deeper reader)
        deeper = f"'{_FAILED}'"
    scalars = (f"arrayMap({q} -> ({q}.1, concat({q}.2, multiIf({', '.join(_scalar_json(f'{q}.3'))}, 'null'))), "
               f"arrayFilter({q} -> {q}.3.value NOT IN {_NESTED}, {unique}))")
    containers = (f"arrayMap({q} -> ({q}.1, concat({q}.2, {deeper})), "
                  f"arrayFilter({q} -> {q}.3.value IN {_NESTED}, {unique}))")
    is_array = f"{value}.value = 'array_value'"
    rendered = (f"concat(if({is_array}, '[', '{{'), arrayStringConcat(arrayMap({p} -> {p}.2, "
                f"arraySort({p} -> {p}.1, arrayConcat({scalars}, {containers}))), ','), if({is_array}, ']', '}}'))")
    return _let(_let(rendered, **{unique: last}), **{items: listed})


def _scalar_as_string_of(kind: str, string: str, integer: str, boolean: str, double: str, raw: str) -> str:
    """SQL: ``AsString()`` of an AnyValue that is not an array or a list, from its kind and its scalar fields."""
    return (f"multiIf({kind} = 'string_value', {string}, {kind} = 'int_value', toString({integer}), "
            f"{kind} = 'bool_value', if({boolean}, 'true', 'false'), {kind} = 'double_value', {_double(double)}, "
            f"{kind} = 'bytes_value', base64Encode({raw}), '')")


def _rendered(nested: str, depth: int) -> str:
    """SQL: the JSON text of each of an array of AnyValues that are arrays or lists (``''`` for one holding a NaN
    or an infinity, as ``json.Marshal`` failing leaves it in pdata)."""
    return f"arrayMap(x -> arrayFilter(j -> position(j, '{_FAILED}') = 0, [{_container('x', 1, depth)}])[1], {nested})"


@cache
def as_string(value: str, depth: int) -> str:
    """SQL: ``AsString()`` of one AnyValue (a log record's body), ``''`` when unset; ``depth``: the levels the
    columns hold. An array or a list is rendered only when the value is one (see :func:`_container`)."""
    scalar = _scalar_as_string_of(f"{value}.value", f"{value}.string_value", f"{value}.int_value",
                                  f"{value}.bool_value", f"{value}.double_value", f"{value}.bytes_value")
    return f"concat({scalar}, {_rendered(f'arrayFilter(x -> x.value IN {_NESTED}, [{value}])', depth)}[1])"


@cache
def attributes(key_values: str, depth: int, drop: str = "") -> str:
    """SQL: a Map(String, String) of an array of KeyValues, the last of duplicate keys winning.

    ``drop``: a SQL Array(String) of keys to leave out (a payload's tenant claim); ``depth``: the AnyValue levels
    the columns hold. Scalars are read through their flat subcolumns (arrays of kinds, strings, ints, ...
    parallel to the keys), never by copying the KeyValue tuples; arrays and lists are rendered apart, over only
    the values that are one (see :func:`_container`), after the scalars (a map's order means nothing).
    """
    keys, value = f"{key_values}.key", f"{key_values}.value"
    last = f"arrayReverse(arrayEnumerateUniq(arrayReverse({keys})))"
    dropped = f" AND NOT has({drop}, k)" if drop else ""
    kept = f"arrayMap((k, t, n) -> n = 1 AND t NOT IN {_NESTED}{dropped}, {keys}, {value}.value, {last})"
    nested = f"arrayMap((k, t, n) -> n = 1 AND t IN {_NESTED}{dropped}, {keys}, {value}.value, {last})"
    scalars = (f"arrayMap((k, s, i, b, d, y) -> {_scalar_as_string_of('k', 's', 'i', 'b', 'd', 'y')}, "
               f"{value}.value, {value}.string_value, {value}.int_value, {value}.bool_value, {value}.double_value, "
               f"{value}.bytes_value)")
    containers = _rendered(f"arrayFilter((x, m) -> m, {value}, {nested})", depth)
    return (f"mapFromArrays(arrayConcat(arrayFilter((k, m) -> m, {keys}, {kept}), "
            f"arrayFilter((k, m) -> m, {keys}, {nested})), "
            f"arrayConcat(arrayFilter((t, m) -> m, {scalars}, {kept}), {containers}))")
