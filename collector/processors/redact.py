"""Redact secrets again at the collector, so a client that did not still stores nothing secret.

The SDK removes secrets before export, but any OTLP emitter can send to the
collector (an assistant's native telemetry, an older SDK, a hand-rolled
exporter). This processor runs :func:`aitrail.sdk.redact.redact` on every
string value in a request, in place: resource and scope attributes, span,
span event and span link attributes, log record bodies and attributes,
metric data point attributes, and strings nested in arrays and key-value
lists. What was already redacted stays as it is (redaction is idempotent).
Hex values under digest or id names (``aitrail.prompt.hash``, a revision, a
trace id) are kept: they are hashes on purpose, not keys.

Most values are short names and ids; a pre-check of a few microseconds
(:func:`aitrail.sdk.redact.maybe_secret`) skips everything that cannot hold a
secret, and short values already found clean (model names, file paths,
repository URLs come again and again) are remembered, so a clean request
costs little more than walking it. Only clean values are remembered (and not
a hex digest, clean only under its name): the processor keeps no secret in memory.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from aitrail.collector.processors import IngestContext
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

    def process(self, signal: str, request: Any, context: IngestContext) -> bool:
        self._request.changed = False
        for pairs in _value_lists(signal, request):
            for key, value in pairs:
                self._value(key, value)
        return self._request.changed

    def _value(self, key: str, value: Any) -> None:
        """One AnyValue, recursively (arrays and key-value lists hold AnyValues too)."""
        kind = value.WhichOneof("value")
        if kind == "string_value":
            text = value.string_value
            if text in self._clean:
                return
            if maybe_secret(text):
                if _is_digest(key, text):  # clean under this name only: not remembered
                    return
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
        elif kind == "array_value":
            for item in value.array_value.values:
                self._value(key, item)
        elif kind == "kvlist_value":
            for kv in value.kvlist_value.values:
                self._value(kv.key, kv.value)


_DIGEST_NAMES = frozenset({"hash", "sha", "sha1", "sha256", "digest", "checksum", "revision", "commit", "id"})
_HEX = re.compile(r"[0-9a-fA-F]+")


def _is_digest(key: str, text: str) -> bool:
    """A hex value under a name that says it is a digest or an id (``aitrail.prompt.hash``,
    ``vcs.ref.head.revision``, ``trace_id``): the collector must not destroy what the SDK hashed on purpose."""
    name = re.split(r"[._-]", key.lower())[-1] if key else ""
    return name in _DIGEST_NAMES and _HEX.fullmatch(text) is not None


def _values(attributes: Iterable[Any]) -> Iterator[tuple[str, Any]]:
    return ((kv.key, kv.value) for kv in attributes)


def _value_lists(signal: str, request: Any) -> Iterator[Iterable[tuple[str, Any]]]:
    """Every group of (name, AnyValue) in a request of any signal."""
    if signal == "traces":
        for rs in request.resource_spans:
            yield _values(rs.resource.attributes)
            for ss in rs.scope_spans:
                yield _values(ss.scope.attributes)
                for span in ss.spans:
                    yield _values(span.attributes)
                    for event in span.events:
                        yield _values(event.attributes)
                    for link in span.links:
                        yield _values(link.attributes)
    elif signal == "logs":
        for rl in request.resource_logs:
            yield _values(rl.resource.attributes)
            for sl in rl.scope_logs:
                yield _values(sl.scope.attributes)
                for record in sl.log_records:
                    if record.HasField("body"):
                        yield (("body", record.body),)
                    yield _values(record.attributes)
    else:
        for rm in request.resource_metrics:
            yield _values(rm.resource.attributes)
            for sm in rm.scope_metrics:
                yield _values(sm.scope.attributes)
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    if kind is None:
                        continue
                    for point in getattr(metric, kind).data_points:
                        yield _values(point.attributes)
                        for exemplar in getattr(point, "exemplars", ()):
                            yield _values(exemplar.filtered_attributes)
