"""Stamp the tenant the receiver established on every resource, replacing whatever the payload claimed.

Metrics only: a trace or logs request is stamped by the engine, which reads
the tenant and team spooled beside it (``aitrail.collector.engine.statement``).
"""

from __future__ import annotations

from typing import Any

from aitrail.collector.processors import IngestContext, item_attributes, resources
from aitrail.sdk import vocabulary as v


class TenantStamp:
    """Payloads cannot choose their tenant (or team, when the token fixes one)."""

    def process(self, signal: str, request: Any, context: IngestContext) -> None:
        if signal == "metrics":
            self.stamp(signal, request, context)

    def stamp(self, signal: str, request: Any, context: IngestContext) -> None:
        """Stamp a request of any signal in place (the engine's rules for traces are proven equal to this)."""
        owned = {v.TENANT: context.tenant}
        if context.team:
            owned[v.TEAM] = context.team
        for resource in resources(signal, request):
            claims = [kv for kv in resource.attributes if kv.key in owned or (context.team and kv.key in v.TEAM_ALIASES)]
            for kv in claims:
                resource.attributes.remove(kv)
            for key, value in owned.items():
                resource.attributes.add(key=key).value.string_value = value
        # Span, log and data point attributes win over the resource's downstream (ai_generations' team is
        # mapUpdate(resource, span)), so they cannot claim the tenant, nor a team the token fixes, either.
        for attributes in item_attributes(signal, request):
            claims = [kv for kv in attributes if kv.key == v.TENANT or (context.team and (kv.key in owned or kv.key in v.TEAM_ALIASES))]
            for kv in claims:
                attributes.remove(kv)
