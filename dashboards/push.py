"""Pushing the dashboards to a Grafana server with grafana-client: a folder per team, idempotently.

For each team: a folder (uid ``aitrail-<team>``) holding every dashboard with its team variable set to that team,
viewable by the Grafana team of the same name (and by admins) and no longer by every Viewer or Editor of the
organisation. With no team: one folder ``aitrail`` with the dashboards as built. A dashboard or folder already as
it should be is left alone: a second push changes nothing, and says so.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aitrail.dashboards.catalog import DASHBOARDS
from aitrail.dashboards.grafana import to_grafana
from aitrail.dashboards.panels import Dashboard
from aitrail.errors import GrafanaError

VIEW = 1
"""Grafana's folder permission level View."""


@dataclass(frozen=True)
class Change:
    """One thing a push did (or found already done)."""

    kind: str  # folder, dashboard, permission
    name: str
    action: str  # created, updated, unchanged, skipped
    detail: str = ""


def _slug(team: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", team.lower()).strip("-") or "team"
    if len(slug) > 20 or slug != team.lower():
        slug = f"{slug[:11]}-{hashlib.sha256(team.encode()).hexdigest()[:8]}"
    return slug


def _uid(uid: str, team: str | None) -> str:
    """A dashboard's or folder's uid for ``team`` (Grafana uids are at most 40 characters)."""
    return uid if team is None else f"{uid}-{_slug(team)}"


def dashboard_for(dashboard: Dashboard, team: str | None) -> dict[str, Any]:
    """The dashboard's JSON for ``team``: its uid, links to the team's other dashboards, the team chosen."""
    data = json.dumps(to_grafana(dashboard))
    for other in DASHBOARDS:
        data = data.replace(f"/d/{other.uid}?", f"/d/{_uid(other.uid, team)}?")
    document = json.loads(data)
    document["uid"] = _uid(dashboard.uid, team)
    if team is not None:
        document["title"] = f"{dashboard.title} · {team}"
        for variable in document.get("templating", {}).get("list", []):
            if variable["name"] == "team":
                variable["current"] = {"selected": True, "text": [team], "value": [team]}
    return document


def _errors(url: str):  # noqa: ANN202
    """Grafana's refusals as messages that say what to do."""
    import contextlib

    import niquests
    from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaServerError, GrafanaTimeoutError

    @contextlib.contextmanager
    def guard():  # noqa: ANN202
        try:
            yield
        except GrafanaClientError as exc:
            status = exc.status_code
            reason = {
                401: "Grafana refused the token (401): pass a valid service account token with --token "
                     "or AITRAIL_GRAFANA_TOKEN",
                403: "the token may not do this (403): its service account needs the Editor role to upload "
                     "dashboards and Admin to set folder permissions",
                404: f"Grafana answered 404 at {url}: is --grafana-url Grafana's root address (not a dashboard's)?",
            }.get(status, f"Grafana refused the request ({status}): {exc.message}")
            raise GrafanaError(reason, status) from None
        except (GrafanaServerError, GrafanaTimeoutError, GrafanaException) as exc:
            raise GrafanaError(f"Grafana at {url} failed: {exc}", getattr(exc, "status_code", 0) or 0) from None
        except niquests.exceptions.RequestException as exc:
            raise GrafanaError(f"cannot reach Grafana at {url}: {exc.__class__.__name__}", 0) from None

    return guard


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("id", "version")}


class _Pusher:
    def __init__(self, api: Any) -> None:
        self.api = api
        self.changes: list[Change] = []

    def folder(self, uid: str, title: str) -> None:
        from grafana_client.client import GrafanaClientError

        try:
            self.api.folder.get_folder(uid)
            self.changes.append(Change("folder", title, "unchanged"))
        except GrafanaClientError as exc:
            if exc.status_code != 404:
                raise
            self.api.folder.create_folder(title, uid=uid)
            self.changes.append(Change("folder", title, "created"))

    def dashboard(self, document: dict[str, Any], folder_uid: str) -> None:
        from grafana_client.client import GrafanaClientError

        try:
            current = self.api.dashboard.get_dashboard(document["uid"])
        except GrafanaClientError as exc:
            if exc.status_code != 404:
                raise
            current = None
        if current and current.get("meta", {}).get("folderUid") == folder_uid \
                and _comparable(current.get("dashboard", {})) == _comparable(document):
            self.changes.append(Change("dashboard", document["title"], "unchanged"))
            return
        self.api.dashboard.update_dashboard({"dashboard": document, "folderUid": folder_uid, "overwrite": True,
                                             "message": "aitrail dashboards push"})
        self.changes.append(Change("dashboard", document["title"], "updated" if current else "created"))

    def team_can_view(self, folder_uid: str, team: str) -> None:
        found = [t for t in self.api.client.GET("/teams/search", params={"name": team}).get("teams", [])
                 if t.get("name") == team]
        if not found:
            self.changes.append(Change("permission", team, "skipped",
                                       f"no Grafana team named {team!r}: create it, then push again"))
            return
        team_id = found[0]["id"]
        current = [p for p in self.api.folder.get_folder_permissions(folder_uid) if not p.get("inherited")]
        # Keep what admins granted to people and teams; drop the organisation-wide Viewer/Editor roles.
        keep = [{k: p[k] for k in ("userId", "teamId", "role") if p.get(k)} | {"permission": p["permission"]}
                for p in current if p.get("userId") or p.get("teamId") or p.get("role") == "Admin"]
        has_view = any(p.get("teamId") == team_id and p["permission"] >= VIEW for p in keep)
        if has_view and len(keep) == len(current):
            self.changes.append(Change("permission", team, "unchanged", f"team {team} can view folder"))
            return
        items = keep if has_view else keep + [{"teamId": team_id, "permission": VIEW}]
        self.api.folder.update_folder_permissions(folder_uid, {"items": items})
        self.changes.append(Change("permission", team, "updated", f"team {team} can view folder; "
                                   "organisation roles removed"))


def push(url: str, token: str, teams: Sequence[str] = (), dashboards: Sequence[Dashboard] = DASHBOARDS,
         timeout: float = 10.0) -> list[Change]:
    """Push ``dashboards`` to the Grafana at ``url`` as ``token``; what changed, in order."""
    from grafana_client import GrafanaApi

    guard = _errors(url)
    with guard():
        pusher = _Pusher(GrafanaApi.from_url(url, credential=token, timeout=timeout))
        for team in teams or (None,):
            folder_uid = _uid("aitrail", team)
            pusher.folder(folder_uid, "aitrail" if team is None else f"aitrail · {team}")
            for dashboard in dashboards:
                pusher.dashboard(dashboard_for(dashboard, team), folder_uid)
            if team is not None:
                pusher.team_can_view(folder_uid, team)
    return pusher.changes
