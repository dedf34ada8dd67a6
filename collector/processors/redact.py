"""Redact secrets again at the collector, so a client that did not still stores nothing secret.

The SDK removes secrets before export, but any OTLP emitter can send to the
collector (an assistant's native telemetry, an older SDK, a hand-rolled
exporter). This processor runs :func:`aitrail.sdk.redact.redact` on every
string value in a request, in place: resource and scope attributes, span,
span event and span link attributes, log record bodies and attributes,
metric data point attributes, and strings nested in arrays and key-value
lists. What was already redacted stays as it is (redaction is idempotent).
Hex values under digest or id names (``aitrail.prompt.hash``, a revision, a
trace id) are kept: they are hashes on purpose, not keys; so are a model API's
own ids under id names (``gen_ai.response.id = chatcmpl-…``, ``tool_use_id =
toolu_…``).

Most values are short names and ids; a pre-check of a few microseconds
(:func:`aitrail.sdk.redact.maybe_secret`) skips everything that cannot hold a
secret, and short values already found clean (model names, file paths,
repository URLs come again and again) are remembered. Only clean values are
remembered (and not a hex digest, clean only under its name): the processor
keeps no secret in memory.

Most requests hold no secret, and are not walked: given the bytes the request
was parsed from, the processor first gathers its attributes as bytes
(:mod:`aitrail.collector.otlp.raw_attributes`, in C), passes over those
remembered clean with one set difference, tells numbers, arrays of numbers and
ids under id names clean from their bytes (:func:`_clean_bytes`), and reads
only the rest, each from a copy parsed from its bytes, as the walk would. At
the first secret it stops, and the request is walked and redacted in place.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from aitrail.collector.otlp.raw_attributes import raw_attributes
from aitrail.collector.processors import IngestContext, items_of
from aitrail.sdk.redact import maybe_secret, redact


class Redact:
    """The secrets processor: every string value of a request, redacted in place.

    ``redacted`` counts the secrets this instance replaced (approximate under
    concurrent use: it is for telemetry, not for accounting).
    """

    CLEAN_CACHE_SIZE = 8192
    """How many short clean values are remembered (then the memory starts over)."""
    CLEAN_CACHE_LENGTH = 512
    """Values up to this many characters are remembered when clean; longer ones (prompts) rarely repeat."""

    def __init__(self) -> None:
        self.redacted = 0
        self._clean: set[str] = set()
        self._clean_attributes: set[bytes] = set()
        """Attributes found clean, by their bytes (key and value: see :mod:`aitrail.collector.otlp.raw_attributes`)."""
        self._request = _Request()

    def process(self, signal: str, request: Any, context: IngestContext, body: bytes | bytearray | None = None
                ) -> bool:
        self._request.changed = False
        if body is not None and self._clean_as_sent(signal, body):
            return False
        for attributes in _attribute_lists(signal, request):
            self._attributes(attributes)
        if signal == "logs":
            for record in _LOG_RECORDS(request):
                if record.HasField("body"):
                    self._value("body", record.body)
        return self._request.changed

    def _clean_as_sent(self, signal: str, body: bytes | bytearray) -> bool:
        """Whether the request in ``body`` holds no secret, told by its attributes' bytes: those remembered clean
        are passed over in C, the others read one by one (a copy, parsed from their bytes); at the first secret,
        the answer is no, and the request is walked and redacted in place."""
        try:
            raw = raw_attributes(signal, body)
        except DecodeError:  # not expected of a body the receiver parsed; the walk then decides
            return False
        self._request.checking = True
        try:
            for data in raw.attributes - self._clean_attributes:
                if _clean_bytes(data):
                    continue
                attribute = KeyValue.FromString(data)
                self._attributes((attribute,))
                self._remember(data, attribute.value)
            for data in raw.values:
                self._value("body", AnyValue.FromString(data))
        except _Secret:
            return False
        finally:
            self._request.checking = False
        return True

    def _remember(self, data: bytes, value: Any) -> None:
        """Remember a clean attribute by its bytes when its value may come again: a string remembered clean (not
        an id, clean only under its name, nor a prompt), or a short array or list."""
        kind = value.WhichOneof("value")
        if kind == "string_value" and value.string_value in self._clean or (
                kind in _NESTED and len(data) <= self.CLEAN_CACHE_LENGTH):
            if len(self._clean_attributes) >= self.CLEAN_CACHE_SIZE:
                self._clean_attributes = set()
            self._clean_attributes.add(data)

    def _attributes(self, attributes: Any) -> None:
        """One repeated KeyValue field. Most values are strings already found clean: their test is one read of
        ``string_value`` (empty for any other kind) and a set lookup, the key read only for the rest."""
        clean = self._clean
        for kv in attributes:
            value = kv.value
            text = value.string_value
            if text:
                if text not in clean:
                    self._string(kv.key, value, text)
            elif value.WhichOneof("value") in _NESTED:
                self._value(kv.key, value)

    def _value(self, key: str, value: Any) -> None:
        """One AnyValue, recursively (arrays and key-value lists hold AnyValues too)."""
        kind = value.WhichOneof("value")
        if kind == "string_value":
            text = value.string_value
            if text not in self._clean:
                self._string(key, value, text)
        elif kind == "array_value":
            array = value.array_value
            if not _NO_TEXT.fullmatch(array.SerializeToString()):  # numbers only (fingerprints): read once, in C
                for item in array.values:
                    self._value(key, item)
        elif kind == "kvlist_value":
            self._attributes(value.kvlist_value.values)

    def _string(self, key: str, value: Any, text: str) -> None:
        """A string value not known clean: redacted in place, or remembered as clean."""
        if (_HEX.fullmatch(text) or _PROVIDER_ID.fullmatch(text)) and _digest_name(key):  # clean under this name only
            return  # (not remembered)
        if maybe_secret(text):
            result = redact(text)
            if result.count:
                if self._request.checking:
                    raise _Secret
                value.string_value = result.text
                self.redacted += result.count
                self._request.changed = True
                return
        if len(text) <= self.CLEAN_CACHE_LENGTH:  # a set lookup is cheaper than the pre-check
            if len(self._clean) >= self.CLEAN_CACHE_SIZE:
                self._clean = set()
            self._clean.add(text)


_NESTED = frozenset({"array_value", "kvlist_value"})


class _Request(threading.local):
    """The request this thread is processing."""

    changed = False
    """Whether it had a secret (set only then: nothing per value)."""
    checking = False
    """Whether copies of its attributes are being checked (a secret then stops the check) rather than redacted."""


class _Secret(Exception):
    """A secret met while checking copies of a request's attributes: the request itself must be redacted."""


def _number(tag: bytes) -> bytes:
    """A regular expression over bytes: the field ``tag`` (a length-delimited one) holding an AnyValue that is an
    int, a double or a bool.

    After ``tag``, the field's length, then one AnyValue field: ``int_value`` (field 3, a varint of 1 to 10 bytes),
    ``double_value`` (field 4, 8 bytes) or ``bool_value`` (field 2, one byte). Each length is spelled with exactly
    what it measures, so a match is that field and nothing else."""
    ints = [tag + re.escape(bytes([2 + n])) + rb"\x18" + rb"[\x80-\xff]" * n + rb"[\x00-\x7f]" for n in range(10)]
    return b"(?:" + b"|".join([*ints, tag + rb"\x09\x21[\x00-\xff]{8}", tag + rb"\x02\x10[\x00\x01]"]) + b")"


_NO_TEXT = re.compile(_number(rb"\x0a") + b"*", re.DOTALL)
"""A serialized ArrayValue every item (field 1) of which is a number or a bool (line fingerprints): it holds no
text, and is read in one C call instead of item by item. Anything else (a string, a list, an empty or an unknown
field) does not match, and is walked."""


_DIGEST_NAMES = frozenset({"hash", "sha", "sha1", "sha256", "digest", "checksum", "revision", "commit", "id"})
_HEX = re.compile(r"[0-9a-fA-F]+")
_PROVIDER_ID = re.compile(r"(?:msg|toolu|srvtoolu|req|chatcmpl|resp|call)[-_][A-Za-z0-9]{8,64}")
"""An id a model API gives a response, a message, a tool call or a request (Anthropic's ``msg_``, ``toolu_``,
``srvtoolu_``, ``req_``; OpenAI's ``chatcmpl-``, ``resp_``, ``call_``): random by design, so the entropy layer took
some of them for keys (an Anthropic message id, one Claude Code ``tool_use_id`` in thirty), and the records
they link lost their link. Kept only under an id's name, like a hex digest; no secret format starts so."""


_ATTRIBUTE_VALUE = re.compile(
    rb"\x12(?:" + _number(b"")
    + rb"|(?P<vlen>[\x80-\xff]?[\x00-\x7f])\x2a(?P<alen>[\x80-\xff]?[\x00-\x7f])(?P<items>" + _number(rb"\x0a") + rb"*)"
    + rb"|(?P<vlen2>[\x00-\x7f])\x0a(?P<slen>[\x00-\x7f])(?P<id>"
    + b"|".join(pattern.pattern.encode() for pattern in (_HEX, _PROVIDER_ID)) + rb"))", re.DOTALL)
"""The value field of a serialized KeyValue that is a number or a bool, an array of them, or a hex digest or a model
API's id (clean under an id's name only); lengths of more than one byte are checked by :func:`_clean_bytes`."""


def _clean_bytes(data: bytes) -> bool:
    """Whether a serialized KeyValue is clean by its bytes alone, with no Python object made of it: a number or a
    bool, an array of them (a span's line fingerprints, its tokens: each span's own, never remembered), or a hex
    digest or a model API's id under an id's name (each span's revision and response id). Its key (field 1, shorter
    than 128 bytes) is skipped by its length, and each length is checked against what it measures, so the value
    read is the value the engine stores; anything else says no (and is parsed and read as the walk reads it)."""
    if len(data) < 2 or data[0] != 0x0A or data[1] > 0x7F:
        return False
    match = _ATTRIBUTE_VALUE.fullmatch(data, 2 + data[1])
    if match is None:
        return False
    if match["items"] is not None:
        return (_varint(match["alen"]) == len(match["items"])
                and _varint(match["vlen"]) == len(data) - match.end("vlen"))
    if match["id"] is not None:
        return (match["vlen2"][0] == match["slen"][0] + 2 == len(match["id"]) + 2
                and _digest_name(data[2:2 + data[1]].decode(errors="replace")))
    return True


def _varint(data: bytes) -> int:
    """A varint of one or two bytes."""
    return data[0] if len(data) == 1 else (data[0] & 0x7F) | data[1] << 7


@functools.lru_cache(maxsize=4096)
def _digest_name(key: str) -> bool:
    """Whether a key names a digest or an id (``aitrail.prompt.hash``, ``vcs.ref.head.revision``, ``trace_id``):
    a hex value under it is what the SDK hashed on purpose, which the collector must not destroy. A
    collector sees few keys: each is read once (a bounded memory, since any client may send any key)."""
    return re.split(r"[._-]", key.lower())[-1] in _DIGEST_NAMES if key else False


def _attribute_lists(signal: str, request: Any) -> Iterator[Any]:
    """Every repeated KeyValue field of a request of any signal (a log record's body aside)."""
    if signal == "traces":
        for rs in request.resource_spans:
            yield rs.resource.attributes
            for ss in rs.scope_spans:
                yield ss.scope.attributes
                for span in ss.spans:
                    yield span.attributes
                    for event in span.events:
                        yield event.attributes
                    for link in span.links:
                        yield link.attributes
    elif signal == "logs":
        for rl in request.resource_logs:
            yield rl.resource.attributes
            for sl in rl.scope_logs:
                yield sl.scope.attributes
                for record in sl.log_records:
                    yield record.attributes
    else:
        for rm in request.resource_metrics:
            yield rm.resource.attributes
            for sm in rm.scope_metrics:
                yield sm.scope.attributes
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    if kind is None:
                        continue
                    for point in getattr(metric, kind).data_points:
                        yield point.attributes
                        for exemplar in getattr(point, "exemplars", ()):
                            yield exemplar.filtered_attributes


_LOG_RECORDS = items_of("logs")
