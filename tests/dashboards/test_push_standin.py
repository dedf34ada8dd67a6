"""``aitrail dashboards push`` against a local HTTP stand-in for Grafana's API (no Grafana server can run here):
it records every request and keeps folders, dashboards, teams and folder permissions the way Grafana's API
answers them, so the test sees what a push asks and what a second push leaves alone."""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.dashboards.catalog import DASHBOARDS
from aitrail.dashboards.push import push
from aitrail.errors import GrafanaError

TOKEN = "glsa_good"
VIEWER_TOKEN = "glsa_viewer"
DEFAULT_PERMISSIONS = [{"role": "Viewer", "permission": 1}, {"role": "Editor", "permission": 2}]


class GrafanaStandin:
    """Grafana's folder, dashboard, team and folder-permission API, in memory."""

    def __init__(self, teams: dict[str, int]) -> None:
        self.requests: list[tuple[str, str]] = []
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.permissions: dict[str, list[dict]] = {}
        self.teams = teams
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    def _handler(self):  # noqa: ANN202
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                standin.requests.append((method, url.path))
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in (TOKEN, VIEWER_TOKEN):
                    return self._answer(401, {"message": "Unauthorized"})
                if method == "POST" and token == VIEWER_TOKEN:
                    return self._answer(403, {"message": "You'll need additional permissions to perform this action."})
                self._answer(*standin.handle(method, url.path, parse_qs(url.query), body))

            def do_GET(self) -> None:  # noqa: N802
                self._route("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._route("POST")

        return Handler

    def handle(self, method: str, path: str, query: dict, body: object) -> tuple[int, object]:
        if method == "GET" and (m := re.fullmatch(r"/api/folders/([\w-]+)/permissions", path)):
            return 200, self.permissions.get(m.group(1), DEFAULT_PERMISSIONS)
        if method == "POST" and (m := re.fullmatch(r"/api/folders/([\w-]+)/permissions", path)):
            self.permissions[m.group(1)] = body["items"]
            return 200, {"message": "Folder permissions updated"}
        if method == "GET" and (m := re.fullmatch(r"/api/folders/([\w-]+)", path)):
            folder = self.folders.get(m.group(1))
            return (200, folder) if folder else (404, {"message": "folder not found"})
        if method == "POST" and path == "/api/folders":
            self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"]}
            return 200, self.folders[body["uid"]]
        if method == "GET" and (m := re.fullmatch(r"/api/dashboards/uid/([\w-]+)", path)):
            saved = self.dashboards.get(m.group(1))
            return (200, saved) if saved else (404, {"message": "Dashboard not found"})
        if method == "POST" and path == "/api/dashboards/db":
            if body["folderUid"] not in self.folders:
                return 400, {"message": "folder not found"}
            document = body["dashboard"]
            version = self.dashboards.get(document["uid"], {}).get("dashboard", {}).get("version", 0) + 1
            self.dashboards[document["uid"]] = {"dashboard": {**document, "id": 7, "version": version},
                                                "meta": {"folderUid": body["folderUid"]}}
            return 200, {"status": "success", "uid": document["uid"], "version": version}
        if method == "GET" and path == "/api/teams/search":
            name = query.get("name", [""])[0]
            found = [{"id": i, "name": n} for n, i in self.teams.items() if n == name]
            return 200, {"teams": found, "totalCount": len(found), "page": 1, "perPage": 1000}
        return 404, {"message": "Not found"}

    def __enter__(self) -> GrafanaStandin:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def grafana():  # noqa: ANN201
    with GrafanaStandin({"payments": 11, "mobile": 12}) as standin:
        yield standin


def test_standin_first_push_makes_a_folder_per_team_with_its_dashboards_and_permissions(grafana):
    changes = push(grafana.url, TOKEN, ["payments", "mobile", "ghosts"])
    assert set(grafana.folders) == {"aitrail-payments", "aitrail-mobile", "aitrail-ghosts"}
    assert len(grafana.dashboards) == 3 * len(DASHBOARDS)
    for team in ("payments", "mobile"):
        for dashboard in DASHBOARDS:
            saved = grafana.dashboards[f"{dashboard.uid}-{team}"]
            assert saved["meta"]["folderUid"] == f"aitrail-{team}"
            chosen = {v["name"]: v.get("current", {}).get("value") for v in saved["dashboard"]["templating"]["list"]}
            assert chosen["team"] == [team]
            # links go to the team's own copy of the traces dashboard
            links = re.findall(r"/d/([\w-]+)\?", json.dumps(saved["dashboard"]))
            assert all(uid.endswith(f"-{team}") for uid in links)
    assert grafana.permissions["aitrail-payments"] == [{"teamId": 11, "permission": 1}]
    assert grafana.permissions["aitrail-mobile"] == [{"teamId": 12, "permission": 1}]
    assert "aitrail-ghosts" not in grafana.permissions, "no Grafana team of that name: the folder is left to admins"
    actions = {(c.kind, c.name): c.action for c in changes}
    assert actions[("permission", "ghosts")] == "skipped"
    assert sum(a == "created" for a in actions.values()) == 3 + 3 * len(DASHBOARDS)


def test_standin_second_push_changes_nothing_and_says_so(grafana):
    push(grafana.url, TOKEN, ["payments"])
    before = len(grafana.writes())
    changes = push(grafana.url, TOKEN, ["payments"])
    assert len(grafana.writes()) == before, grafana.writes()[before:]
    assert {c.action for c in changes} == {"unchanged"}


def test_standin_a_changed_dashboard_is_updated_in_place(grafana):
    push(grafana.url, TOKEN)
    uid = DASHBOARDS[0].uid
    grafana.dashboards[uid]["dashboard"]["title"] = "edited by hand"
    changes = push(grafana.url, TOKEN)
    assert [c.action for c in changes if c.kind == "dashboard"].count("updated") == 1
    assert grafana.dashboards[uid]["dashboard"]["title"] == DASHBOARDS[0].title
    assert grafana.dashboards[uid]["dashboard"]["version"] == 2


@pytest.mark.parametrize("token, status, words", [("wrong", 401, "refused the token"),
                                                  (VIEWER_TOKEN, 403, "Editor role")])
def test_standin_refusals_become_clear_errors(grafana, token, status, words):
    with pytest.raises(GrafanaError, match=words) as caught:
        push(grafana.url, token)
    assert caught.value.status == status


def test_standin_a_wrong_address_is_a_404_that_says_what_to_check(grafana):
    with pytest.raises(GrafanaError, match="root address") as caught:
        push(grafana.url + "/d/some-dashboard", TOKEN)
    assert caught.value.status == 404


def test_standin_unreachable_grafana_says_so():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(GrafanaError, match="cannot reach Grafana"):
        push(f"http://127.0.0.1:{port}", TOKEN, timeout=2)


def test_standin_cli_prints_a_summary_and_exits_1_without_a_traceback_on_refusal(grafana):
    runner = CliRunner()
    first = runner.invoke(app, ["dashboards", "push", "--grafana-url", grafana.url, "--token", TOKEN, "--team", "mobile"])
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    second = runner.invoke(app, ["dashboards", "push", "--grafana-url", grafana.url, "--token", TOKEN,
                                 "--team", "mobile", "--json"])
    assert {c["action"] for c in json.loads(second.output)} == {"unchanged"}
    refused = runner.invoke(app, ["dashboards", "push", "--grafana-url", grafana.url, "--token", "nope"])
    assert refused.exit_code == 1
    assert "refused the token" in refused.output and "Traceback" not in refused.output
