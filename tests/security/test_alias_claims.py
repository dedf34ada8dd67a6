"""The views read a team under its aliases (``team``, ``team.name``) now that the raw tables keep attributes as sent:
a payload must not claim a team there that its token does not give it, nor a tenant under any spelling."""

from __future__ import annotations

from security_support import A, B, export, logs, metrics, running, sql, traces

from aitrail.collector.tokens import create_token

CLAIMS = {"team": "other", "team.name": "other", "aitrail.team": "other",
          "tenant": B, "tenant.id": B, "aitrail.tenant.id": B}
"""Every spelling of a team or a tenant a payload might try."""


def test_a_team_or_tenant_claimed_under_an_alias_reaches_no_derived_row(tmp_path):
    tokens_file = tmp_path / "tokens.json"
    fixed = create_token(tokens_file, A, "team-a", ["ingest"])[0]
    free = create_token(tokens_file, A, None, ["ingest"])[0]
    admin = create_token(tokens_file, "ops", None, ["admin"])[0]
    generation = {"aitrail.kind": "generation", "gen_ai.request.model": "m"}
    commit = {"aitrail.kind": "commit", "vcs.ref.head.revision": "c" * 40}
    with running(tmp_path, tokens_file=tokens_file) as collector:
        sent = [
            export(collector.http_url, "traces", traces({"service.name": "fixed", **CLAIMS}, {**generation, **CLAIMS}), fixed),
            export(collector.http_url, "traces", traces({"service.name": "fixed-span"}, {**generation, "team": "other"}), fixed),
            export(collector.http_url, "traces", traces({"service.name": "fixed"}, {**commit, "team.name": "other"}), fixed),
            export(collector.http_url, "traces", traces({"service.name": "free", **CLAIMS}, {**generation, "team": "mine"}), free),
            # logs and metrics: the derivations read a record's team through its aliases too
            export(collector.http_url, "logs", logs({"service.name": "fixed", **CLAIMS}, "b", CLAIMS), fixed),
            export(collector.http_url, "metrics", metrics({"service.name": "fixed", **CLAIMS}, "m", CLAIMS), fixed),
        ]
        assert [s.status for s in sent] == [200] * 6, [s.text for s in sent]

        def read(query: str) -> str:
            answer = sql(collector.sql_url, query, admin, fmt="TSV")
            assert answer.status == 200, answer.text
            return answer.text

        assert read("SELECT service_name, tenant, team FROM aitrail.ai_generations ORDER BY ALL") == (
            f"fixed\t{A}\tteam-a\nfixed-span\t{A}\tteam-a\nfree\t{A}\tmine\n")  # without a fixed team: the span's own
        assert read("SELECT tenant, team FROM aitrail.ai_commits FINAL") == f"{A}\tteam-a\n"
        # a token's team leaves no other team anywhere in the raw rows; a tenant has no alias the views read
        assert read("SELECT count() FROM aitrail.otel_traces WHERE ServiceName LIKE 'fixed%' AND "
                    "(has(mapValues(SpanAttributes), 'other') OR has(mapValues(ResourceAttributes), 'other'))") == "0\n"
        assert read("SELECT DISTINCT ResourceAttributes['aitrail.tenant.id'] FROM aitrail.otel_traces") == f"{A}\n"
        for table, items in (("otel_logs", "LogAttributes"), ("otel_metrics_sum", "Attributes")):
            assert read(f"SELECT ResourceAttributes['aitrail.team'], has(mapValues(ResourceAttributes), 'other'), "
                        f"has(mapValues({items}), 'other') FROM aitrail.{table}") == "team-a\t0\t0\n", table
