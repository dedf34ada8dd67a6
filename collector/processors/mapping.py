"""Who is who, as the collector's configuration says: more names for the team, and people behind opaque ids.

Assistants identify people by ids only they understand: Claude Code sends a
hashed ``user.id``, Codex a ``user.account_id`` (when signed in with ChatGPT),
Gemini CLI an ``installation.id``; teams are often named by a resource
attribute of the organisation's own choosing (``squad``, ``org.team``). The
``[collector]`` table of the TOML file says what they mean::

    team_attributes = ["squad", "org.team"]

    [collector.people]
    "19b6be39…0ec2" = { email = "ana@example.com", name = "Ana Lima" }
    "0084fe60-761a-4bef-b589-e94a4cfe5478" = { email = "ben@example.com", team = "payments" }

The processor adds, in place, on every resource and every span, log record
and data point:

* ``aitrail.team`` from the first ``team_attributes`` name present, when
  nothing there names a team already (``aitrail.team``, ``team``, ``team.name``
  win; the attribute itself is kept);
* ``user.email`` / ``user.name`` of the person whose id is the value of
  ``user.id``, ``user.account_id``, ``installation.id`` or ``user.email``
  (first found), when not sent; and the person's ``team`` when neither the item
  nor its resource names one.

Sent values always win: it fills gaps, it never corrects. A team fixed by the
caller's token (``IngestContext.team``) is never added to or contradicted.
The engine stamps the tenant (and a fixed team) afterwards, over anything added here; with an empty
configuration it does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping as MappingABC
from typing import Any

from aitrail.collector.processors import IngestContext
from aitrail.sdk import vocabulary as v

IDENTITY_KEYS = (v.USER_ID, "user.account_id", "installation.id", v.USER_EMAIL)
"""Attributes whose value may be a key of the ``people`` table, in the order they are tried."""

_TEAM_NAMES = (v.TEAM, *v.TEAM_ALIASES)


def _strings(attributes: Any) -> dict[str, str]:
    return {kv.key: kv.value.string_value for kv in attributes if kv.value.WhichOneof("value") == "string_value"}


def _groups(signal: str, request: Any) -> Iterator[tuple[Any, list[Any]]]:
    """(resource attributes, [attributes of each item under that resource]) for every resource of a request."""
    if signal == "traces":
        for rs in request.resource_spans:
            yield rs.resource.attributes, [s.attributes for ss in rs.scope_spans for s in ss.spans]
    elif signal == "logs":
        for rl in request.resource_logs:
            yield rl.resource.attributes, [r.attributes for sl in rl.scope_logs for r in sl.log_records]
    else:
        for rm in request.resource_metrics:
            items = []
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    if kind is not None:
                        items.extend(point.attributes for point in getattr(metric, kind).data_points)
            yield rm.resource.attributes, items


class Mapping:
    """The identity-mapping processor, configured by ``team_attributes`` and ``people``."""

    def __init__(self, team_attributes: tuple[str, ...] = (), people: MappingABC[str, MappingABC[str, str]] | None = None) -> None:
        self.team_attributes = tuple(team_attributes)
        self.people = {str(key): dict(person) for key, person in (people or {}).items()}

    @classmethod
    def from_config(cls, config: Any) -> Mapping:
        return cls(config.team_attributes, config.people)

    def process(self, signal: str, request: Any, context: IngestContext, body: bytes | bytearray | None = None
                ) -> bool:
        if not self.team_attributes and not self.people:
            return False
        changed = False
        for resource, items in _groups(signal, request):
            resource_has_team, filled = self._fill(resource, context, team_known=False)
            changed = changed or filled
            for attributes in items:
                changed = self._fill(attributes, context, team_known=resource_has_team)[1] or changed
        return changed

    def _fill(self, attributes: Any, context: IngestContext, team_known: bool) -> tuple[bool, bool]:
        """Fill the gaps of one attribute list; return whether it names a team now, and whether it added any."""
        sent = _strings(attributes)
        has_team = any(sent.get(name) for name in _TEAM_NAMES) or any(kv.key in _TEAM_NAMES for kv in attributes)
        added: dict[str, str] = {}
        if not has_team and not team_known and context.team is None:
            for name in self.team_attributes:
                if sent.get(name):
                    added[v.TEAM] = sent[name]
                    break
        if self.people:
            person = next((self.people[sent[key]] for key in IDENTITY_KEYS if sent.get(key) in self.people), None)
            if person is not None:
                for field, key in (("email", v.USER_EMAIL), ("name", v.USER_NAME)):
                    if person.get(field) and key not in sent:
                        added[key] = person[field]
                if (person.get("team") and v.TEAM not in added and not has_team and not team_known
                        and context.team is None):
                    added[v.TEAM] = person["team"]
        for key, value in added.items():
            attributes.add(key=key).value.string_value = value
        return has_team or v.TEAM in added, bool(added)
