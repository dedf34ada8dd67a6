"""What the flatteners share: attribute values as strings, map and list columns, timestamps.

Conversions follow the OpenTelemetry Collector (contrib) ClickHouse exporter,
which turns every attribute value into a string with pdata's
``pcommon.Value.AsString``: bool -> ``true``/``false``, int -> decimal,
double -> Go's JSON number text (``1.5``, ``3``, ``1e+21``), bytes -> base64,
arrays and maps -> JSON text as Go's ``encoding/json`` writes it (map keys
sorted, ``<``, ``>``, ``&`` escaped).

Columns are built as plain Python lists in one pass, then turned into Arrow
arrays once per column: maps and nested lists from flat offsets, keys and
values, never row by row.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

STRING = pa.string()
TIMESTAMP = pa.timestamp("ns")
ATTRIBUTES = pa.map_(pa.string(), pa.string())

ZERO_TRACE_ID = bytes(16)
ZERO_SPAN_ID = bytes(8)
_INT64_MAX = (1 << 63) - 1


@dataclass
class Flattened:
    """A request as rows: Arrow tables by ClickHouse table name, and what was refused and why."""

    tables: dict[str, Any] = field(default_factory=dict)
    """Arrow tables by table name, or spooled requests (:class:`aitrail.collector.spool.Requests`) by part."""
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


# --- attribute values as strings (pcommon.Value.AsString) ----------------------------------------


def go_float(value: float) -> str:
    """A float as Go's encoding/json writes it (ES6 number text); ValueError for NaN and infinities."""
    if value != value or value in (math.inf, -math.inf):
        raise ValueError(f"json: unsupported value: {value}")
    text = repr(value)
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        if "e" in text:  # Python switches to exponents sooner than Go does
            return format(Decimal(text), "f")
        return text[:-2] if text.endswith(".0") else text
    # Exponent form: Python's shortest digits and two-digit exponents, as Go's 'e' -1; then e-07 -> e-7.
    mantissa, exponent = text.split("e")
    if exponent.startswith("-0"):
        exponent = "-" + exponent[2:]
    return f"{mantissa}e{exponent}"


def _go_double(value: float) -> str:
    """AsString of a double attribute: like JSON, but NaN and infinities become pdata's message."""
    try:
        return go_float(value)
    except ValueError:
        if value != value:
            shown = "NaN"
        else:
            shown = "+Inf" if value > 0 else "-Inf"
        return f"json: unsupported value: {shown}"


_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _go_json_string(text: str) -> str:
    # Python and Go agree on \" \\ \b \f \n \r \t and \u00XX (lower-case hex) for other control
    # characters; Go also escapes HTML characters and the JS line separators.
    return json.dumps(text, ensure_ascii=False).translate(_HTML)


def _go_json(raw: Any) -> str:
    """``json.Marshal`` of pdata's AsRaw() value (map keys sorted); ValueError for NaN/Inf."""
    if raw is None:
        return "null"
    if raw is True:
        return "true"
    if raw is False:
        return "false"
    if isinstance(raw, str):
        return _go_json_string(raw)
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return go_float(raw)
    if isinstance(raw, bytes):
        return '"' + base64.b64encode(raw).decode("ascii") + '"'
    if isinstance(raw, list):
        return "[" + ",".join(_go_json(item) for item in raw) + "]"
    if isinstance(raw, dict):
        return "{" + ",".join(_go_json_string(k) + ":" + _go_json(raw[k]) for k in sorted(raw)) + "}"
    raise TypeError(f"unexpected value {raw!r}")


def _raw(value: Any) -> Any:
    """pdata's ``Value.AsRaw()`` of an AnyValue."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "bool_value":
        return value.bool_value
    if which == "double_value":
        return value.double_value
    if which == "bytes_value":
        # An empty []byte is nil in Go, and json.Marshal writes nil slices as null.
        return value.bytes_value or None
    if which == "array_value":
        return [_raw(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _raw(kv.value) for kv in value.kvlist_value.values}
    return None


def any_value_str(value: Any) -> str:
    """``pcommon.Value.AsString()`` of an OTLP AnyValue."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return str(value.int_value)
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    if which == "double_value":
        return _go_double(value.double_value)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    if which in ("array_value", "kvlist_value"):
        try:
            return _go_json(_raw(value))
        except ValueError:  # json.Marshal failed (NaN or Inf inside): pdata returns ""
            return ""
    return ""


def attributes(kvs: Iterable[Any]) -> dict[str, str]:
    """Key -> AsString(value), the last of duplicate keys winning (as in the exporter's map)."""
    out: dict[str, str] = {}
    for kv in kvs:
        value = kv.value
        text = value.string_value  # the common case, without a WhichOneof call
        out[kv.key] = text if text else any_value_str(value)
    return out


# --- columns -----------------------------------------------------------------------------------


def timestamps(values: list[int]) -> pa.Array:
    """Unix nanoseconds (uint64 on the wire) as DateTime64(9); past year 2262 clamps to its maximum."""
    array = pa.array(values, pa.uint64())
    if len(array):
        array = pc.min_element_wise(array, pa.scalar(_INT64_MAX, pa.uint64()))
    return array.cast(pa.int64()).cast(TIMESTAMP)


def map_array(offsets: list[int], keys: list[str], values: list[str]) -> pa.Array:
    """Map(String, String) column from offsets (len rows + 1) into flat keys and values."""
    return pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(keys, STRING), pa.array(values, STRING), type=ATTRIBUTES
    )


def list_array(offsets: list[int], values: pa.Array) -> pa.Array:
    """Array(T) column from offsets (len rows + 1) into flat values."""
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


class MapColumn:
    """A Map(String, String) column being built: one map per row."""

    __slots__ = ("offsets", "keys", "values")

    def __init__(self) -> None:
        self.offsets = [0]
        self.keys: list[str] = []
        self.values: list[str] = []

    def add(self, mapping: dict[str, str]) -> None:
        if mapping:
            self.keys.extend(mapping)
            self.values.extend(mapping.values())
        self.offsets.append(len(self.keys))

    def array(self) -> pa.Array:
        return map_array(self.offsets, self.keys, self.values)


def summarize(counts: dict[str, int], noun: str) -> list[str]:
    """One message per reason: ``2 spans rejected: invalid trace_id (...)``."""
    return [f"{n} {noun}{'' if n == 1 else 's'} rejected: {reason}" for reason, n in counts.items()]
