"""How deep a request's values nest, told by the protobuf parser in C rather than by a walk in Python.

A *mirror* of a signal's request is the same message (every field's number
and wire type, built from opentelemetry-proto's descriptors as
:mod:`~aitrail.collector.engine.schema` builds the engine's schema) with
``AnyValue`` unrolled to a given level, where an array or a key-value list is
a message whose only field is ``required`` and never sent. Parsing a body
into it and serializing it back (both in upb, a few µs per span of the
bench's) answers, without reading a value in Python:

* the serializer refuses the message (a required field is missing) exactly
  when a value at that level or deeper is an array or a list — even an empty
  one: some value nests deeper;
* otherwise it writes back the very bytes it read exactly when the body is
  in the canonical encoding (each field once, in field-number order, unknown
  fields last, packed numbers): nothing nests that deep, and the bytes are
  what serializing the parsed request would have written (up to scalars sent
  with their default value), so they can be spooled as they came;
* a body in any other encoding cannot be told this way (:data:`UNKNOWN`).

Fields whose values nobody limits (a span's scope's attributes: the limits
and the engine leave them be) may be read as opaque bytes, so nothing nested
there counts.

The mirror is proto2 (``required`` exists only there): strings are read as
``bytes`` (the receiver's own parse has checked their UTF-8 already) and
enums as ``int32``, so nothing a proto3 parser keeps is set aside.
"""

from __future__ import annotations

from enum import Enum
from functools import cache

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, EncodeError, Message

from aitrail.collector.engine.schema import REQUESTS, is_container, optional, unrolled_name, value_level


class Nesting(Enum):
    """What a mirror says of a body."""

    WITHIN = "within"
    """Canonical, and no value is an array or a list at the mirror's level or deeper."""
    DEEPER = "deeper"
    """Some value (anywhere in the request, a scope's attributes included) nests to the mirror's level."""
    UNKNOWN = "unknown"
    """Not in the canonical encoding: the mirror cannot tell."""


WITHIN, DEEPER, UNKNOWN = Nesting.WITHIN, Nesting.DEEPER, Nesting.UNKNOWN

_DEEPER = "Deeper"
"""The message an array or a list past the mirror's level is read as: one required field, never sent."""

_NEVER_SENT = 536_870_911
"""The sentinel's field number: the largest protobuf allows, used by no OTLP message."""

_PACKABLE = frozenset(range(1, 19)) - {FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_GROUP,
                                       FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_BYTES}
"""Scalar types whose repeated fields proto3 packs by default (proto2 must be told)."""


class _Mirror:
    """Writes the mirror's messages into one proto2 file, unrolling AnyValue to ``levels``."""

    def __init__(self, package: str, levels: int, opaque: frozenset[str]) -> None:
        self.package, self.levels, self.opaque = package, levels, opaque
        self.file = descriptor_pb2.FileDescriptorProto(name=f"{package}.proto", package=package, syntax="proto2")
        self.file.message_type.add(name=_DEEPER).field.add(
            name="never_sent", number=_NEVER_SENT, type=FieldDescriptor.TYPE_BOOL,
            label=FieldDescriptor.LABEL_REQUIRED)
        self.written: set[str] = set()

    def message(self, descriptor: Descriptor, level: int) -> str:
        name = unrolled_name(descriptor, level)
        if name in self.written:
            return name
        self.written.add(name)
        proto = self.file.message_type.add(name=name)
        oneofs = [oneof.name for oneof in descriptor.oneofs if not optional(oneof.fields[0])]
        proto.oneof_decl.extend(descriptor_pb2.OneofDescriptorProto(name=oneof) for oneof in oneofs)
        for field in descriptor.fields:
            out = proto.field.add(name=field.name, number=field.number, type=field.type, label=(
                FieldDescriptor.LABEL_REPEATED if field.is_repeated else FieldDescriptor.LABEL_OPTIONAL))
            if field.containing_oneof is not None and field.containing_oneof.name in oneofs:
                out.oneof_index = oneofs.index(field.containing_oneof.name)
            if field.type == FieldDescriptor.TYPE_STRING or f"{descriptor.name}.{field.name}" in self.opaque:
                out.type = FieldDescriptor.TYPE_BYTES
            elif field.type == FieldDescriptor.TYPE_ENUM:
                out.type = FieldDescriptor.TYPE_INT32
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                past = level >= self.levels and is_container(descriptor, field)
                target = _DEEPER if past else self.message(field.message_type, value_level(field, level))
                out.type_name = f".{self.package}.{target}"
            if field.is_repeated and out.type in _PACKABLE:
                out.options.packed = True
        return name


@cache
def mirror(signal: str, levels: int, opaque: frozenset[str] = frozenset()) -> type[Message]:
    """The mirror of ``signal``'s request whose values may be arrays or lists above level ``levels`` only
    (1: a value; 2: the items of an array or a list), the ``opaque`` fields (``Message.field``) read as bytes."""
    package = f"aitrail.mirror.{signal}.level{levels}"  # (its own pool: no other mirror can clash)
    writer = _Mirror(package, levels, opaque)
    top = writer.message(REQUESTS[signal], 0)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(writer.file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{top}"))


def nesting(signal: str, body: bytes | bytearray, levels: int, opaque: frozenset[str] = frozenset()) -> Nesting:
    """Whether the values of the request in ``body`` (a body the receiver's parser accepted) nest within
    ``levels`` levels, deeper, or the body cannot tell (see the module's docstring); values in the ``opaque``
    fields (``Message.field``) are not read."""
    try:
        written = mirror(signal, levels, opaque).FromString(body).SerializeToString()
    except DecodeError:  # not expected of a body the receiver parsed; still, no answer is not a crash
        return UNKNOWN
    except EncodeError:
        return DEEPER
    return WITHIN if written == body else UNKNOWN
