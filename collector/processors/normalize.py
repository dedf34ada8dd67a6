"""Map the older and foreign attribute spellings emitters send onto aitrail's one vocabulary.

``gen_ai.system`` becomes ``gen_ai.provider.name``, ``team`` becomes
``aitrail.team``, and so on (``vocabulary.ALIASES`` is the table). The
canonical name wins when both are present; the alias is then left as sent.
Unknown attributes and spans are kept as they are: nothing is dropped.
"""

from __future__ import annotations

from typing import Any

from aitrail.collector.processors import IngestContext, item_attributes, resources
from aitrail.sdk import vocabulary as v

_CANONICAL = {alias: canonical for canonical, aliases in v.ALIASES.items() for alias in aliases}


def rename_aliases(attributes: Any) -> bool:
    """Rename alias keys in an OTLP KeyValue list, in place; say whether any was."""
    if not any(kv.key in _CANONICAL for kv in attributes):
        return False
    present = {kv.key for kv in attributes}
    renamed = False
    for kv in attributes:
        canonical = _CANONICAL.get(kv.key)
        if canonical is not None and canonical not in present:
            present.add(canonical)
            kv.key = canonical
            renamed = True
    return renamed


class Normalize:
    """The vocabulary processor: aliases on resources and on every item."""

    def process(self, signal: str, request: Any, context: IngestContext) -> bool:
        renamed = [rename_aliases(resource.attributes) for resource in resources(signal, request)]
        renamed += [rename_aliases(attributes) for attributes in item_attributes(signal, request)]
        return any(renamed)
