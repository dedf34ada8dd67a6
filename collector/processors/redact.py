"""Redact secrets again at the collector, so a client that did not still stores nothing secret.

The SDK removes secrets before export, but any OTLP emitter can send to the
collector (an assistant's native telemetry, an older SDK, a hand-rolled
exporter). This processor runs :func:`aitrail.sdk.redact.redact` on every
string value of a log or metrics request, in place: resource and scope
attributes, log record bodies and attributes, metric data point attributes,
and strings nested in arrays and key-value lists. Traces are redacted by the
engine when the drain stores them (:mod:`aitrail.collector.engine.redaction`:
Python sees only the values a SQL prefilter flags); logs and metrics follow
when they take the engine path. What was already redacted stays as it is (redaction is idempotent).
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

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from aitrail.collector.engine.redaction import is_digest
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

    SIGNALS = frozenset({"logs", "metrics"})
    """The signals redacted here (the engine redacts traces)."""

    def process(self, signal: str, request: Any, context: IngestContext) -> bool:
        if signal not in self.SIGNALS:
            return False
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
                if is_digest(key, text):  # clean under this name only: not remembered
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


def _values(attributes: Iterable[Any]) -> Iterator[tuple[str, Any]]:
    return ((kv.key, kv.value) for kv in attributes)


def _value_lists(signal: str, request: Any) -> Iterator[Iterable[tuple[str, Any]]]:
    """Every group of (name, AnyValue) in a request of any signal."""
    if signal == "logs":
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
