"""OTLP/JSON documents to protobuf request messages, in one pass over the parsed JSON.

The protobuf JSON mapping with OTLP's differences (opentelemetry-proto
``docs/specification.md``): trace and span ids are hex strings, not base64;
enum fields may be names or integers (an unknown name is ignored, like an
unknown field); lowerCamelCase and original field names are both accepted;
fields with unknown names are ignored. 64-bit integers may be numbers or
strings, doubles may be ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

Why not ``json_format.ParseDict``: it maps field by field through reflection,
about 200 µs per Claude Code event (``python -m bench ingest``, logs). Here
each message's fields are planned once from its descriptor, the document
becomes nested keyword arguments, and the request is built by one constructor
call in C: the same message, several times faster. JSON is converted to
protobuf on the way in, so the spool, the engine's statements and everything
after them see one format.

Errors are :class:`_Invalid` with the path of the offending field
(``resourceSpans[0].scopeSpans[0].spans[0].traceId``); :func:`to_message`
raises :class:`~aitrail.errors.InvalidPayload`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, NamedTuple

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from aitrail.errors import InvalidPayload

HEX_IDS = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
"""Bytes fields OTLP/JSON writes as hex (on spans, links, log records and exemplars), by their size in bytes."""


class _Invalid(Exception):
    """A value the mapping refuses; ``path`` is filled in on the way out (innermost first)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.path: list[str] = []


class _Field(NamedTuple):
    name: str
    json_name: str
    convert: Callable[[Any], Any]


class _Plan(NamedTuple):
    fields: dict[str, _Field]
    """By JSON key: the lowerCamelCase name and the original one."""
    oneofs: dict[str, str]
    """Member field name -> its (real) oneof's name."""


_PLANS: dict[str, _Plan] = {}
_SKIP = object()
"""What an enum name the protocol does not know converts to: the field is left unset."""


def _string(value: Any) -> str:
    if type(value) is str:
        return value
    raise _Invalid(f"must be a string, got {type(value).__name__}")


def _bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _Invalid(f"must be true or false, got {value!r:.64}")


def _integer(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and " " not in value:
        try:
            return int(value)
        except ValueError:
            pass
    elif type(value) is float and value.is_integer():
        return int(value)
    raise _Invalid(f"must be an integer, got {value!r:.64}")


def _double(value: Any) -> float:
    if type(value) in (int, float):
        return float(value)
    if type(value) is str:
        try:
            return float(value)
        except ValueError:
            pass
    raise _Invalid(f"must be a number, got {value!r:.64}")


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _base64(value: Any) -> bytes:
    if type(value) is str:
        try:
            encoded = value.encode("ascii").translate(_URLSAFE)
            return base64.urlsafe_b64decode(encoded + b"=" * (-len(encoded) % 4))
        except (UnicodeEncodeError, binascii.Error, ValueError):
            pass
    raise _Invalid(f"must be base64 text, got {value!r:.64}")


def _hex(size: int) -> Callable[[Any], bytes]:
    def convert(value: Any) -> bytes:
        if value == "":
            return b""
        if type(value) is not str:
            raise _Invalid(f"must be a hex string, got {type(value).__name__}")
        if len(value) != 2 * size:
            raise _Invalid(f"must be {2 * size} hex digits ({size} bytes), got {len(value)} characters")
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if len(raw) != size:  # not hex, or fromhex skipped whitespace
            raise _Invalid(f"is not a hex string: {value[:64]!r}")
        return raw
    return convert


def _enum(field: FieldDescriptor) -> Callable[[Any], Any]:
    numbers = {name: value.number for name, value in field.enum_type.values_by_name.items()}

    def convert(value: Any) -> Any:
        if type(value) is int:
            return value
        if type(value) is str:
            return numbers.get(value, _SKIP)
        raise _Invalid(f"must be an enum name or number, got {value!r:.64}")
    return convert


_SCALARS: dict[int, Callable[[Any], Any]] = {
    FieldDescriptor.TYPE_STRING: _string,
    FieldDescriptor.TYPE_BOOL: _bool,
    FieldDescriptor.TYPE_BYTES: _base64,
    FieldDescriptor.TYPE_DOUBLE: _double,
    FieldDescriptor.TYPE_FLOAT: _double,
    **dict.fromkeys((FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
                     FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64,
                     FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED32,
                     FieldDescriptor.TYPE_SFIXED64), _integer),
}


def _repeated(convert: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    def each(values: Any) -> list[Any]:
        if type(values) is not list:
            raise _Invalid(f"must be an array, got {type(values).__name__}")
        try:
            return [convert(value) for value in values]
        except _Invalid:
            for index, value in enumerate(values):  # the error path only: find which item, for the message
                try:
                    convert(value)
                except _Invalid as invalid:
                    invalid.path.append(f"[{index}]")
                    raise
            raise
    return each


def _converter(field: FieldDescriptor) -> Callable[[Any], Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        message_type = field.message_type
        convert: Callable[[Any], Any] = lambda value: _message(_plan(message_type), value)  # noqa: E731
    elif field.type == FieldDescriptor.TYPE_ENUM:
        convert = _enum(field)
    elif field.type == FieldDescriptor.TYPE_BYTES and field.name in HEX_IDS:
        convert = _hex(HEX_IDS[field.name])
    else:
        convert = _SCALARS[field.type]
    return _repeated(convert) if field.is_repeated else convert


def _plan(descriptor: Descriptor) -> _Plan:
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        fields: dict[str, _Field] = {}
        plan = _PLANS[descriptor.full_name] = _Plan(fields, {
            member.name: oneof.name for oneof in descriptor.oneofs
            if not (len(oneof.fields) == 1 and oneof.name == f"_{oneof.fields[0].name}")  # proto3 optional
            for member in oneof.fields})
        for field in descriptor.fields:  # after registering the plan: messages may nest themselves
            planned = _Field(field.name, field.json_name, _converter(field))
            fields[field.json_name] = fields[field.name] = planned
    return plan


def _message(plan: _Plan, document: Any) -> dict[str, Any]:
    """The keyword arguments of a message's constructor, from its JSON object."""
    if type(document) is not dict:
        raise _Invalid(f"must be an object, got {type(document).__name__}")
    fields, out, given = plan.fields, {}, 0
    for key, value in document.items():
        field = fields.get(key)
        if field is None or value is None:  # unknown fields are ignored; null is the default
            continue
        given += 1
        try:
            converted = field.convert(value)
        except _Invalid as invalid:
            invalid.path.append(f".{field.json_name}")
            raise
        if converted is not _SKIP:
            out[field.name] = converted
    if given > len(out):  # an enum name left unset, or one field under both its names
        names = [fields[key].name for key, value in document.items() if key in fields and value is not None]
        if len(names) != len(set(names)):
            raise _Invalid("sets a field twice (by its lowerCamelCase and its original name)")
    if plan.oneofs and len(out) > 1:
        chosen = [plan.oneofs[name] for name in out if name in plan.oneofs]
        if len(chosen) != len(set(chosen)):
            raise _Invalid(f"sets more than one member of the oneof {chosen[0]!r}")
    return out


def to_message(cls: type[Message], document: dict[str, Any], signal: str) -> Message:
    """The ``cls`` request an OTLP/JSON document (parsed) holds; InvalidPayload naming the field that is wrong."""
    try:
        return cls(**_message(_plan(cls.DESCRIPTOR), document))
    except _Invalid as invalid:
        where = "".join(reversed(invalid.path)).lstrip(".")
        raise InvalidPayload(f"invalid OTLP/JSON {signal} request: {where} {invalid}") from None
    except (ValueError, TypeError) as exc:  # out of range for its field's type, and what the constructor refuses
        raise InvalidPayload(f"invalid OTLP/JSON {signal} request: {exc}") from None
    except RecursionError:
        raise InvalidPayload(f"invalid OTLP/JSON {signal} request: values nest too deeply") from None
