"""Every attribute of a request as its bytes on the wire, collected in C: what redaction remembers clean.

Reading a request's attributes through protobuf's Python objects costs a
proxy per attribute, its value and its string (about 0.25 µs each, most of
redaction's time on a span whose values it has all seen before). A *raw
mirror* of a signal's request keeps only the messages that lead to attributes,
and declares every ``KeyValue`` field and every ``AnyValue`` field outside one
(a log record's body) as ``bytes``: parsing a body into it and gathering those
fields into sets is a handful of C calls per span, and a set difference then
leaves only the attributes not seen before (``aitrail.collector.processors.redact``).

The bytes of a ``KeyValue`` are its whole content, key and value (what a
parser makes of them depends on nothing else), so "this attribute was found
clean" may be remembered by its bytes, even for a value clean only under its
name (a hex digest under ``…hash``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from aitrail.collector.engine.schema import RECURSIVE, REQUESTS

KEY_VALUE = "opentelemetry.proto.common.v1.KeyValue"

UNREAD = frozenset({"opentelemetry.proto.metrics.v1.Metric.metadata"})
"""Fields of key-values no store column holds (so nothing reads them, redaction included)."""


class RawAttributes(NamedTuple):
    """A request's distinct attributes (serialized ``KeyValue``) and other values (serialized ``AnyValue``: log
    bodies), as sent."""

    attributes: set[bytes]
    values: set[bytes]


@cache
def _role(field: FieldDescriptor) -> str | None:
    """What the raw mirror keeps of an OTLP field: its key-values' bytes (``attributes``), a value's bytes
    (``values``: a log record's body), a message that leads to either (``message``), or nothing (None)."""
    target = field.message_type
    if target is None or field.full_name in UNREAD:
        return None
    if target.full_name == KEY_VALUE:
        return "attributes"
    if target.full_name == RECURSIVE:
        return "values"
    return "message" if any(map(_role, target.fields)) else None


@cache
def raw_mirror(signal: str) -> type[Message]:
    """The raw mirror of ``signal``'s request (see the module's docstring)."""
    package = f"aitrail.raw.{signal}"  # (its own pool: no other mirror can clash)
    file = descriptor_pb2.FileDescriptorProto(name=f"{package}.proto", package=package, syntax="proto3")
    written: set[str] = set()

    def message(descriptor: Descriptor) -> str:
        name = descriptor.full_name.replace(".", "_")
        if name in written:
            return name
        written.add(name)
        proto = file.message_type.add(name=name)
        for field in descriptor.fields:
            role = _role(field)
            label = FieldDescriptor.LABEL_REPEATED if field.is_repeated else FieldDescriptor.LABEL_OPTIONAL
            if role == "message":
                target = f".{package}.{message(field.message_type)}"
                proto.field.add(name=field.name, number=field.number, label=label,
                                type=FieldDescriptor.TYPE_MESSAGE, type_name=target)
            elif role is not None:
                proto.field.add(name=field.name, number=field.number, label=label, type=FieldDescriptor.TYPE_BYTES)
        return name

    top = message(REQUESTS[signal])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{top}"))


def _gatherer(descriptor: Descriptor) -> Callable[[list[Any], RawAttributes], None]:
    """What gathers the key-values and values of raw mirror messages of the OTLP message ``descriptor`` into a
    :class:`RawAttributes`: a closure per message type, each field read once per list of messages (one Python
    object per span, none per attribute)."""
    steps: list[Callable[[list[Any], RawAttributes], None]] = []
    for field in descriptor.fields:
        role, get = _role(field), attrgetter(field.name)
        many = chain.from_iterable if field.is_repeated else _one
        if role == "attributes":
            steps.append(lambda messages, out, get=get, many=many: out.attributes.update(many(map(get, messages))))
        elif role == "values":  # (an absent value and an empty one hold nothing: both are b"")
            steps.append(lambda messages, out, get=get, many=many:
                         out.values.update(filter(None, many(map(get, messages)))))
        elif role == "message":
            steps.append(_children(get, many, _gatherer(field.message_type)))

    def gather(messages: list[Any], out: RawAttributes) -> None:
        for step in steps:
            step(messages, out)
    return gather


def _one(values: Any) -> Any:
    return values


def _children(get: Callable[[Any], Any], many: Callable[[Any], Any], gather: Callable[[list[Any], RawAttributes], None]
              ) -> Callable[[list[Any], RawAttributes], None]:
    return lambda messages, out: gather(list(many(map(get, messages))), out)


@cache
def _gather(signal: str) -> Callable[[list[Any], RawAttributes], None]:
    return _gatherer(REQUESTS[signal])


def raw_attributes(signal: str, body: bytes | bytearray) -> RawAttributes:
    """The distinct attributes and values of the request of ``signal`` in ``body`` (a body the receiver's
    parser accepted), as their bytes on the wire."""
    out = RawAttributes(set(), set())
    _gather(signal)([raw_mirror(signal).FromString(body)], out)
    return out
