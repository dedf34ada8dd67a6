"""A collector with tokens for two tenants, each having sent traces, logs and metrics (helpers: security_support.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Under --import-mode=importlib nothing puts this folder on sys.path; the test modules import security_support.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_support import A, B, config, export, logs, metrics, traces  # noqa: E402

from aitrail.collector.tokens import create_token  # noqa: E402


@dataclass
class Secured:
    collector: object
    tokens_file: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def http(self) -> str:
        return self.collector.http_url

    @property
    def sql(self) -> str:
        return self.collector.sql_url


def send_both_tenants(secured: Secured) -> None:
    """A's payloads claim B's tenant and another team; B's carry the markers. Every request must be accepted."""
    a, b = secured.tokens["a"], secured.tokens["b"]
    claims = {"service.name": "svc-tenant-a", "aitrail.tenant.id": B, "team": "forged-team", "aitrail.team": "forged-team"}
    sent = [
        export(secured.http, "traces", traces(claims, {"aitrail.kind": "generation", "aitrail.prompt.text": "7",
                                                       "gen_ai.request.model": "m-a", "aitrail.team": "span-forged"}, n=2), a),
        export(secured.http, "logs", logs(claims, "7"), a),
        export(secured.http, "metrics", metrics(claims, "metric_a"), a),
        export(secured.http, "traces", traces({"service.name": "svc-tenant-b", "team": "team-b-secret"},
                                              {"aitrail.kind": "generation", "aitrail.prompt.text": "SECRET-B-PROMPT",
                                               "gen_ai.request.model": "m-b"}, n=3), b),
        export(secured.http, "logs", logs({"service.name": "svc-tenant-b"}, "SECRET-B-LOG", {"k": "SECRET-B-LOG"}), b),
        export(secured.http, "metrics", metrics({"service.name": "svc-tenant-b"}, "secret_b_metric"), b),
    ]
    assert [s.status for s in sent] == [200] * 6, [s.text for s in sent]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """One collector for a module's tests: tokens a (A, team-a, ingest+query), b (B), a_ingest, a_query, admin."""
    from aitrail.collector.server import BackgroundCollector

    folder = tmp_path_factory.mktemp("secured")
    tokens_file = folder / "tokens.json"
    tokens = {
        "a": create_token(tokens_file, A, "team-a", ["ingest", "query"])[0],
        "b": create_token(tokens_file, B, None, ["ingest", "query"])[0],
        "a_ingest": create_token(tokens_file, A, None, ["ingest"])[0],
        "a_query": create_token(tokens_file, A, None, ["query"])[0],
        "admin": create_token(tokens_file, "ops", None, ["admin"])[0],
    }
    with BackgroundCollector(config(folder, tokens_file=tokens_file)) as collector:
        secured = Secured(collector, tokens_file, tokens)
        send_both_tenants(secured)
        yield secured
