"""The OTLP format schema ClickHouse reads request bodies with, derived from opentelemetry-proto's descriptors.

ClickHouse's ``Protobuf`` input format needs a ``.proto`` file and a column
structure whose types follow the messages. Both are generated here from the
descriptors compiled from opentelemetry-proto's ``.proto`` files (the
``opentelemetry-proto`` package), never written by hand, so field numbers and
wire types cannot drift from the protocol (``tests/collector/engine/test_schema.py``
checks every field against the descriptors).

Two changes make the protocol readable as columns:

* ``AnyValue`` is recursive (an array of AnyValues, a list of key-values whose
  values are AnyValues) and a column type cannot be. The recursion is unrolled
  to :data:`VALUE_DEPTH` levels: ``AnyValue``, ``AnyValue_2``, ... each level's
  arrays and lists holding the next level's values. At the last level arrays
  and lists are declared as raw bytes (``bytes`` shares the wire type of a
  message), so a body nesting deeper still parses. A reader's columns may stop
  at fewer levels (:func:`structure`'s ``depth``): at its last level it reads
  whether a value is an array or a list, not its items — the common ingest
  statement reads :data:`SHALLOW_DEPTH` levels and plans several times faster.
* Enum fields are read as ``int32`` (the same varint on the wire): the SQL
  names them as pdata does, and an unknown number stays a number.

Every ``oneof`` becomes, with ``input_format_protobuf_oneof_presence``, an
``Enum8`` column named after the oneof whose values are the field numbers: that
is how the SQL tells an empty string from an absent value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

VALUE_DEPTH = 5
"""The deepest nesting of an attribute value that is stored whole: ``AnyValue`` is unrolled this many levels, so
a container deeper down would be stored as ``''``. The item limits refuse values nesting deeper
(``aitrail.collector.limits``: ``partial_success`` says so) rather than store them emptied."""

SHALLOW_DEPTH = 2
"""Levels of AnyValue the common reader's columns hold: a value, and the items of an array or a list that is
one (scalars: a list of strings, the fingerprints). A statement over few levels plans in a fraction of the time
of one over all of them; the values that nest deeper are read by a second, deep reader."""

PROTO_FILE = "otlp.proto"
"""The generated schema, shipped beside this module (and in deploy/ for a ClickHouse server's format_schemas)."""

PACKAGE = "aitrail.otlp"

REQUESTS: dict[str, Descriptor] = {
    "traces": ExportTraceServiceRequest.DESCRIPTOR,
    "logs": ExportLogsServiceRequest.DESCRIPTOR,
    "metrics": ExportMetricsServiceRequest.DESCRIPTOR,
}
"""The request message of each signal."""

RECURSIVE = "opentelemetry.proto.common.v1.AnyValue"

_SCALARS: dict[int, tuple[str, str]] = {
    FieldDescriptor.TYPE_STRING: ("string", "String"),
    FieldDescriptor.TYPE_BYTES: ("bytes", "String"),
    FieldDescriptor.TYPE_BOOL: ("bool", "Bool"),
    FieldDescriptor.TYPE_INT32: ("int32", "Int32"),
    FieldDescriptor.TYPE_SINT32: ("sint32", "Int32"),
    FieldDescriptor.TYPE_SFIXED32: ("sfixed32", "Int32"),
    FieldDescriptor.TYPE_INT64: ("int64", "Int64"),
    FieldDescriptor.TYPE_SINT64: ("sint64", "Int64"),
    FieldDescriptor.TYPE_SFIXED64: ("sfixed64", "Int64"),
    FieldDescriptor.TYPE_UINT32: ("uint32", "UInt32"),
    FieldDescriptor.TYPE_FIXED32: ("fixed32", "UInt32"),
    FieldDescriptor.TYPE_UINT64: ("uint64", "UInt64"),
    FieldDescriptor.TYPE_FIXED64: ("fixed64", "UInt64"),
    FieldDescriptor.TYPE_DOUBLE: ("double", "Float64"),
    FieldDescriptor.TYPE_FLOAT: ("float", "Float32"),
    FieldDescriptor.TYPE_ENUM: ("int32", "Int32"),
}


@dataclass
class _Generator:
    """Walks the descriptors once, writing messages (unrolled where recursive) and the column types."""

    messages: dict[str, str]
    unread: frozenset[str] = frozenset()
    """``Message.field`` names left out of the columns (the Protobuf format then skips them on the wire)."""
    depth: int = VALUE_DEPTH
    """AnyValue levels the columns hold: at the last one, arrays and lists are left out (their kind is kept)."""

    def message(self, descriptor: Descriptor, level: int) -> tuple[str, str]:
        """(message name in the generated file, ClickHouse type) of ``descriptor`` at AnyValue level ``level``."""
        name = unrolled_name(descriptor, level)
        fields, columns = [], []
        oneofs: dict[str, list[tuple[str, int]]] = {}
        for field in descriptor.fields:
            proto, column = self.field(field, level)
            label = "repeated " if field.is_repeated else ""
            past = level >= self.depth and is_container(descriptor, field)
            if f"{descriptor.name}.{field.name}" not in self.unread and not past:
                columns.append(f"{field.name} {f'Array({column})' if field.is_repeated else column}")
            oneof = field.containing_oneof
            if oneof is not None and optional(field):
                fields.append(f"  optional {proto} {field.name} = {field.number};")
            elif oneof is not None:
                if oneof.name not in oneofs:
                    fields.append(f"  oneof {oneof.name} {{")
                    for member in oneof.fields:  # (together, where the first of them is)
                        fields.append(f"    {self.field(member, level)[0]} {member.name} = {member.number};")
                    fields.append("  }")
                oneofs.setdefault(oneof.name, []).append((field.name, field.number))
            else:
                fields.append(f"  {label}{proto} {field.name} = {field.number};")
        for oneof, members in oneofs.items():
            values = ", ".join(f"'{member}' = {number}" for member, number in [("none", 0), *members])
            columns.insert(0, f"{oneof} Enum8({values})")
        self.messages.setdefault(name, f"message {name} {{\n" + "\n".join(fields) + "\n}")
        return name, f"Tuple({', '.join(columns)})"

    def field(self, field: FieldDescriptor, level: int) -> tuple[str, str]:
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            return _SCALARS[field.type]
        level = value_level(field, level)
        if level > VALUE_DEPTH:
            return "bytes", "String"
        return self.message(field.message_type, level)


def unrolled_name(descriptor: Descriptor, level: int) -> str:
    """A message's name at AnyValue level ``level`` (0: outside any value) once the recursion is unrolled."""
    return descriptor.name if level == 0 else f"{descriptor.name}_{level}"


def value_level(field: FieldDescriptor, level: int) -> int:
    """The AnyValue level of a message field's message, in a message at ``level``: one more when it is a value."""
    return level + 1 if field.message_type.full_name == RECURSIVE else level


def is_container(descriptor: Descriptor, field: FieldDescriptor) -> bool:
    """Whether ``field`` of ``descriptor`` is an AnyValue's array or key-value list (what nests)."""
    return descriptor.full_name == RECURSIVE and field.name in ("array_value", "kvlist_value")


def optional(field: FieldDescriptor) -> bool:
    """A proto3 ``optional`` field (its own synthetic oneof, ``_name``): a field, not a choice."""
    oneof = field.containing_oneof
    return oneof is not None and len(oneof.fields) == 1 and oneof.name == f"_{field.name}"


@cache
def structure(signal: str, unread: frozenset[str] = frozenset(), depth: int = VALUE_DEPTH) -> str:
    """The ClickHouse structure of a signal's requests, without the ``unread`` fields (``Message.field``), its
    AnyValues read to ``depth`` levels (the kind of a deeper array or list is read, not its items).

    Every column costs parsing time, and each level of AnyValue doubles the columns of a value (and the time
    to plan a statement over them): a reader leaves out what it does not use. Generated once per reader (walking
    the descriptors costs 50 ms for a trace reader, 230 for a metrics one: it was paid by every batch).
    """
    _, column = _Generator({}, unread, depth).message(REQUESTS[signal], 0)
    return column[len("Tuple("):-1]  # the request's fields are the top-level columns


SPOOLED_PREFIX = "Spooled"
"""``Spooled<Request>``: a request as the collector spools it, with the tenant and the team it established."""


def spooled_structure(signal: str, unread: frozenset[str] = frozenset(), depth: int = VALUE_DEPTH) -> str:
    """The ClickHouse structure of a signal's spooled requests (:func:`spooled`): ``tenant``, ``team``, the
    request's columns as :func:`structure` gives them, in ``request``, and ``model_calls``."""
    return f"tenant String, team String, request Tuple({structure(signal, unread, depth)}), model_calls Bool"


def _spooled_message(descriptor: Descriptor) -> str:
    return (f"message {SPOOLED_PREFIX}{descriptor.name} {{\n  string tenant = 1;\n  string team = 2;\n"
            f"  {descriptor.name} request = 3;\n  bool model_calls = 4;\n}}")


def generate() -> tuple[str, dict[str, str]]:
    """(the .proto text for every signal's request, ClickHouse structure of each request by signal)."""
    generator = _Generator({})
    structures = {}
    for signal, descriptor in REQUESTS.items():
        _, column = generator.message(descriptor, 0)
        generator.messages[f"{SPOOLED_PREFIX}{descriptor.name}"] = _spooled_message(descriptor)
        structures[signal] = column[len("Tuple("):-1]
    header = ("// Generated by aitrail.collector.engine.schema from opentelemetry-proto's descriptors: do not edit.\n"
              f"// AnyValue is unrolled to {VALUE_DEPTH} levels (ClickHouse column types cannot recurse);\n"
              "// enums are read as int32. Field names, numbers and wire types are the protocol's.\n"
              f'syntax = "proto3";\npackage {PACKAGE};\n')
    return header + "\n".join(generator.messages.values()) + "\n", structures


_PROTO, STRUCTURES = generate()


def proto_text() -> str:
    """The generated schema's text."""
    return _PROTO


def proto_path() -> Path:
    """The shipped schema file (the engine reads it by path)."""
    return Path(str(resources.files(__package__).joinpath(PROTO_FILE)))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def length_delimited(bodies: Iterable[bytes]) -> bytes:
    """Request bodies framed as ClickHouse's ``Protobuf`` format reads many messages: each after its length."""
    return b"".join(_varint(len(body)) + body for body in bodies)


def _field(number: int, data: bytes | bytearray) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


_MODEL_CALLS = _varint(4 << 3) + b"\x01"
"""``model_calls = true`` (field 4, a varint)."""


def spooled(body: bytes | bytearray, tenant: str, team: str | None, model_calls: bool = False) -> bytes:
    """A request's body as one length-delimited ``Spooled<Request>``: the tenant and team beside the request,
    not inside it, so nothing a payload holds can stand for them. ``model_calls``: the engine marks the request's
    GenAI calls without content ``model_call`` (the collector did not read it: :mod:`~aitrail.collector.engine.traces`)."""
    message = (_field(1, tenant.encode()) + (_field(2, team.encode()) if team else b"") + _field(3, body)
               + (_MODEL_CALLS if model_calls else b""))
    return _varint(len(message)) + message


def format_settings(signal: str, schema: Any = None, spooled: bool = False) -> dict[str, Any]:
    """The settings that make ClickHouse read a signal's requests, or its :func:`spooled` requests (``schema``:
    the .proto path the engine sees; a server's is the file name in its ``format_schemas`` directory)."""
    message = f"{SPOOLED_PREFIX if spooled else ''}{REQUESTS[signal].name}"
    return {"format_schema": f"{schema or proto_path()}:{message}", "input_format_protobuf_oneof_presence": 1}
