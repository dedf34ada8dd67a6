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
repository URLs come again and again) are remembered, so a clean request
costs little more than walking it. Only clean values are remembered (and not
a hex digest, clean only under its name): the processor keeps no secret in memory.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from typing import Any

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
        self._request = threading.local()
        """Whether the request this thread is processing had a secret (set only then: nothing per value)."""

    def process(self, signal: str, request: Any, context: IngestContext, body: bytes | bytearray | None = None
                ) -> bool:
        self._request.changed = False
        for attributes in _attribute_lists(signal, request):
            self._attributes(attributes)
        if signal == "logs":
            for record in _LOG_RECORDS(request):
                if record.HasField("body"):
                    self._value("body", record.body)
        return self._request.changed

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
                value.string_value = result.text
                self.redacted += result.count
                self._request.changed = True
                return
        if len(text) <= self.CLEAN_CACHE_LENGTH:  # a set lookup is cheaper than the pre-check
            if len(self._clean) >= self.CLEAN_CACHE_SIZE:
                self._clean = set()
            self._clean.add(text)


_NESTED = frozenset({"array_value", "kvlist_value"})


def _no_text_item() -> bytes:
    """A regular expression over bytes: one item of a serialized ArrayValue that holds an int, a double or a bool.

    An item is ``values`` (field 1, length-delimited), its length, then one AnyValue field: ``int_value`` (field 3,
    a varint of 1 to 10 bytes), ``double_value`` (field 4, 8 bytes) or ``bool_value`` (field 2, one byte). Each
    length is spelled with exactly what it measures, so a match is that item and nothing else."""
    ints = [rb"\x0a" + re.escape(bytes([2 + n])) + rb"\x18" + rb"[\x80-\xff]" * n + rb"[\x00-\x7f]"
            for n in range(10)]
    return b"|".join([*ints, rb"\x0a\x09\x21[\x00-\xff]{8}", rb"\x0a\x02\x10[\x00\x01]"])


_NO_TEXT = re.compile(b"(?:" + _no_text_item() + b")*", re.DOTALL)
"""A serialized ArrayValue every item of which is a number or a bool (line fingerprints): it holds no text, and
is read in one C call instead of item by item. Anything else (a string, a list, an empty or an unknown field)
does not match, and is walked."""


_DIGEST_NAMES = frozenset({"hash", "sha", "sha1", "sha256", "digest", "checksum", "revision", "commit", "id"})
_HEX = re.compile(r"[0-9a-fA-F]+")
_PROVIDER_ID = re.compile(r"(?:msg|toolu|srvtoolu|req|chatcmpl|resp|call)[-_][A-Za-z0-9]{8,64}")
"""An id a model API gives a response, a message, a tool call or a request (Anthropic's ``msg_``, ``toolu_``,
``srvtoolu_``, ``req_``; OpenAI's ``chatcmpl-``, ``resp_``, ``call_``): random by design, so the entropy layer took
some of them for keys (an Anthropic message id, one Claude Code ``tool_use_id`` in thirty), and the records
they link lost their link. Kept only under an id's name, like a hex digest; no secret format starts so."""


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
