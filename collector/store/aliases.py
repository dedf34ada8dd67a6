"""Aliases resolved where attributes are read, never in the raw tables.

Emitters spell some attributes their own way (``gen_ai.system`` for
``gen_ai.provider.name``, a resource attribute ``team`` for ``aitrail.team``;
``vocabulary.ALIASES`` is the table). The raw tables keep every attribute as it
was sent, so a user's own names and Grafana's trace view show what the emitter
sent; every derived reader (the materialized views of the migrations, the
derivations of native telemetry) reads through :func:`resolved`, generated here
from that one table. The canonical name wins when both are present, and an
item's own attributes win over its resource's (a span's ``gen_ai.system`` over
its resource's ``gen_ai.provider.name``): as when the collector renamed aliases
at ingest, in each attribute list, before the views merged the two.
"""

from __future__ import annotations

from aitrail.collector.store.base import literal
from aitrail.sdk import vocabulary as v


def resolved(*maps: str) -> str:
    """SQL for the maps ``maps`` (expressions of type ``Map(String, String)``, each winning over the ones before
    it) merged, with their aliases resolved: a canonical name takes the value of the last map that holds it or
    one of its aliases (the name itself before its aliases, the aliases in the table's order).

    The maps are merged as without aliases, and only the few canonical names are looked up beside them (each
    NULL when no map spells it): resolving each map whole before merging cost the views a third more."""
    pairs = []
    for canonical, aliases in v.ALIASES.items():
        lookups = [f"mapContains({m}, {literal(name)}), {m}[{literal(name)}]"
                   for m in reversed(maps) for name in (canonical, *aliases)]
        pairs.append(f"{literal(canonical)}, multiIf({', '.join(lookups)}, NULL)")
    found = f"mapFilter((k, x) -> isNotNull(x), map({', '.join(pairs)}))"
    merged = maps[0]
    for m in maps[1:]:
        merged = f"mapUpdate({merged}, {m})"
    return f"mapUpdate({merged}, CAST({found}, 'Map(LowCardinality(String), String)'))"


SPAN_ATTRIBUTES = resolved("ResourceAttributes", "SpanAttributes")
"""A span's attributes over its resource's, aliases resolved (``${attributes}`` in the migrations)."""


def substitutions() -> dict[str, str]:
    """The names the migrations' SQL may use besides ``${database}``."""
    return {"attributes": SPAN_ATTRIBUTES}
