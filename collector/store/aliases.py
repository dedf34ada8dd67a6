"""Aliases resolved where attributes are read, never in the raw tables.

Emitters spell some attributes their own way (``gen_ai.system`` for
``gen_ai.provider.name``, a resource attribute ``team`` for ``aitrail.team``;
``vocabulary.ALIASES`` is the table). The raw tables keep every attribute as it
was sent, so a user's own names and Grafana's trace view show what the emitter
sent; every derived reader (the materialized views of the migrations, the
derivations of native telemetry) reads through :func:`resolved`, generated here
from that one table: a map's canonical names, each filled from its first alias
present (in the table's order) when the map lacks it. The canonical name wins
when both are present, as it did when the collector renamed aliases at ingest.

Within one item, its own attributes (resolved) win over its resource's
(resolved): ``a`` of the span views is ``mapUpdate(resolved(ResourceAttributes),
resolved(SpanAttributes))``, so a span's ``gen_ai.system`` overrides its
resource's ``gen_ai.provider.name``, as a renamed attribute did.
"""

from __future__ import annotations

from aitrail.collector.store.base import literal
from aitrail.sdk import vocabulary as v


def resolved(attributes: str) -> str:
    """SQL for the map ``attributes`` (an expression of type ``Map(String, String)``) with its aliases resolved."""
    names, values, present = [], [], []
    for canonical, aliases in v.ALIASES.items():
        contains = [f"mapContains({attributes}, {literal(alias)})" for alias in aliases]
        value = f"{attributes}[{literal(aliases[-1])}]"
        for alias, test in reversed(list(zip(aliases[:-1], contains[:-1]))):
            value = f"if({test}, {attributes}[{literal(alias)}], {value})"
        names.append(literal(canonical))
        values.append(value)
        present.append(" OR ".join(contains))
    flags = f"[{', '.join(present)}]"
    found = (f"mapFromArrays(arrayFilter((k, p) -> p, [{', '.join(names)}], {flags}), "
             f"arrayFilter((x, p) -> p, [{', '.join(values)}], {flags}))")
    return f"mapUpdate(CAST({found}, 'Map(LowCardinality(String), String)'), {attributes})"


SPAN_ATTRIBUTES = f"mapUpdate({resolved('ResourceAttributes')}, {resolved('SpanAttributes')})"
"""A span's attributes over its resource's, aliases resolved (``${attributes}`` in the migrations)."""


def substitutions() -> dict[str, str]:
    """The names the migrations' SQL may use besides ``${database}``."""
    return {"attributes": SPAN_ATTRIBUTES}
