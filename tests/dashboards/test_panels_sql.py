"""Every panel's SQL, with the macros expanded as the Grafana ClickHouse data source expands them, on the real
engine over seeded generations: the numbers equal those computed here in Python from the seed."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from aitrail.dashboards.catalog import ACCOUNTABILITY, DASHBOARDS, RISK, USAGE
from aitrail.dashboards.reports import panel_sql

from dashboards_support import TIME

SELECTIONS = [{}, {"team": ["payments", "data"]}, {"assistant": ["codex"], "model": ["m-small"]},
              {"repository": ["https://git.example.com/r1"]}]


def _day(row: dict) -> date:
    return datetime.fromtimestamp(row["timestamp"] / 1e9, timezone.utc).date()


def _chosen(row: dict, selection: dict) -> bool:
    return all(row[name] in values for name, values in selection.items())


def in_days(rows: list[dict], selection: dict, keys: tuple[str, ...]) -> list[dict]:
    """Rows a rollup panel reads: whole UTC days of the range, and the selection of the variables it filters on."""
    first, last = TIME.start.date(), TIME.end.date()
    chosen = {k: v for k, v in selection.items() if k in keys}
    return [r for r in rows if first <= _day(r) <= last and _chosen(r, chosen)]


def in_time(rows: list[dict], selection: dict, keys: tuple[str, ...]) -> list[dict]:
    """Rows a panel on ai_generations reads: the exact range, to the second."""
    start, end = int(TIME.start.timestamp()), int(TIME.end.timestamp())
    chosen = {k: v for k, v in selection.items() if k in keys}
    return [r for r in rows if start <= r["timestamp"] / 1e9 <= end and _chosen(r, chosen)]


USAGE_KEYS = ("team", "assistant", "model")


def person(row: dict) -> str:
    return row["user_email"] or row["user_id"]


def expect_headline(rows, selection):
    rows = in_days(rows, selection, USAGE_KEYS)
    return [{"generations": len(rows), "people": len({r["user_id"] for r in rows}),
             "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in rows),
             "cost_usd": round(sum(r["cost_usd"] for r in rows), 2), "lines_added": sum(r["lines_added"] for r in rows)}]


def _per_day_team(rows, selection, value):
    groups = defaultdict(list)
    for r in in_days(rows, selection, USAGE_KEYS):
        groups[(_day(r), r["team"])].append(r)
    return [{"time": f"{d} 00:00:00", "team": t, **value(g)} for (d, t), g in sorted(groups.items())]


def expect_generations_by_team(rows, selection):
    return _per_day_team(rows, selection, lambda g: {"generations": len(g)})


def expect_active_people(rows, selection):
    return _per_day_team(rows, selection, lambda g: {"people": len({r["user_id"] for r in g})})


def _usage(rows, key):
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return groups


def expect_usage_by_team(rows, selection):
    out = []
    for team, g in _usage(in_days(rows, selection, USAGE_KEYS), lambda r: r["team"]).items():
        out.append({"team": team, "generations": len(g), "people": len({r["user_id"] for r in g}),
                    "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in g),
                    "cost_usd": round(sum(r["cost_usd"] for r in g), 2), "lines_added": sum(r["lines_added"] for r in g),
                    "accepted_share": round(sum(r["decision"] == "accepted" for r in g) / len(g), 3)})
    return sorted(out, key=lambda r: (-r["generations"], r["team"]))


def expect_usage_by_assistant(rows, selection):
    out = []
    for (assistant, model), g in _usage(in_days(rows, selection, USAGE_KEYS), lambda r: (r["assistant"], r["model"])).items():
        out.append({"assistant": assistant, "model": model, "generations": len(g),
                    "people": len({r["user_id"] for r in g}),
                    "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in g),
                    "cost_usd": round(sum(r["cost_usd"] for r in g), 2), "lines_added": sum(r["lines_added"] for r in g)})
    return sorted(out, key=lambda r: (-r["generations"], r["assistant"], r["model"]))


def expect_cost_by_person(rows, selection):
    out = []
    for who, g in _usage(in_time(rows, selection, USAGE_KEYS), person).items():
        out.append({"person": who, "teams": ", ".join(sorted({r["team"] for r in g})), "generations": len(g),
                    "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in g),
                    "cost_usd": round(sum(r["cost_usd"] for r in g), 2)})
    return sorted(out, key=lambda r: (-r["cost_usd"], -r["tokens"], r["person"]))[:20]


def expect_top_files(rows, selection):
    out = []
    for (repository, path), g in _usage(in_days(rows, selection, ("repository",)),
                                         lambda r: (r["repository"], r["file_path"])).items():
        out.append({"repository": repository, "file_path": path,
                    "accepted_lines": sum(r["lines_added"] for r in g if r["decision"] == "accepted"),
                    "lines_added": sum(r["lines_added"] for r in g), "generations": len(g)})
    return sorted(out, key=lambda r: (-r["accepted_lines"], -r["lines_added"], r["repository"], r["file_path"]))[:20]


def expect_top_repositories(rows, selection):
    out = []
    for repository, g in _usage(in_days(rows, selection, ("repository",)), lambda r: r["repository"]).items():
        out.append({"repository": repository,
                    "accepted_lines": sum(r["lines_added"] for r in g if r["decision"] == "accepted"),
                    "lines_added": sum(r["lines_added"] for r in g)})
    return sorted(out, key=lambda r: (-r["lines_added"], r["repository"]))[:15]


def expect_adoption(rows, selection):
    weeks = defaultdict(list)
    for r in in_days(rows, selection, USAGE_KEYS):
        weeks[_day(r) - timedelta(days=_day(r).weekday())].append(r)
    return [{"time": f"{w} 00:00:00", "people": len({r["user_id"] for r in g}), "teams": len({r["team"] for r in g})}
            for w, g in sorted(weeks.items())]


# --- risk and accountability: the seeded records ------------------------------------------------------------


def _records_in_time(records: list[dict], selection: dict) -> list[dict]:
    return in_time(records, selection, ("team", "repository"))


def _origins(rows: list[dict]) -> dict[int, dict]:
    """The generation that first wrote each fingerprint."""
    first: dict[int, dict] = {}
    for g in sorted(rows, key=lambda g: g["timestamp"]):
        for fingerprint in g["line_fingerprints"]:
            first.setdefault(fingerprint, g)
    return first


def _is_ai(finding: dict, origins: dict[int, dict]) -> bool:
    return finding["generation_trace_id"] != "" or any(f in origins for f in finding["line_fingerprints"])


def expect_findings_per_kloc(rows, selection, records):
    origins = _origins(rows)
    teams: dict = defaultdict(lambda: {"ai_lines": 0, "human_lines": 0, "ai_findings": 0, "human_findings": 0})
    for commit in _records_in_time(records["ai_commits"], selection):
        teams[commit["team"]]["ai_lines"] += commit["ai_lines"]
        teams[commit["team"]]["human_lines"] += commit["lines_added"] - commit["ai_lines"]
    for finding in _records_in_time(records["ai_findings"], selection):
        teams[finding["team"]]["ai_findings" if _is_ai(finding, origins) else "human_findings"] += 1
    per_kloc = lambda n, lines: round(n * 1000 / lines, 2) if lines else None  # noqa: E731
    return [{"team": t, **v, "ai_per_kloc": per_kloc(v["ai_findings"], v["ai_lines"]),
             "human_per_kloc": per_kloc(v["human_findings"], v["human_lines"])} for t, v in sorted(teams.items())]


def expect_caught_at(rows, selection, records):
    teams: dict = defaultdict(lambda: {"at_generation": 0, "by_scan": 0, "in_incident": 0})
    names = {"generation": "at_generation", "scan": "by_scan", "incident": "in_incident"}
    for finding in _records_in_time(records["ai_findings"], selection):
        teams[finding["team"]][names[finding["caught_at"]]] += 1
    return [{"team": t, **v} for t, v in sorted(teams.items())]


def _ai_share(incident: dict, ai_ids: set[str]) -> tuple[int, int]:
    return len(incident["finding_ids"]), sum(i in ai_ids for i in incident["finding_ids"])


def expect_incident_cost_by_team(rows, selection, records):
    origins = _origins(rows)
    ai_ids = {f["finding_id"] for f in records["ai_findings"] if _is_ai(f, origins)}
    teams: dict = defaultdict(lambda: [0.0, 0.0])
    for incident in _records_in_time(records["ai_incidents"], selection):
        total, ai = _ai_share(incident, ai_ids)
        teams[incident["team"]][0] += incident["cost_usd"] * ai / total
        teams[incident["team"]][1] += incident["cost_usd"] * (1 - ai / total)
    return [{"team": t, "ai_cost_usd": round(a, 2), "other_cost_usd": round(o, 2)} for t, (a, o) in sorted(teams.items())]


def expect_incidents(rows, selection, records):
    origins = _origins(rows)
    ai_ids = {f["finding_id"] for f in records["ai_findings"] if _is_ai(f, origins)}
    out = []
    for incident in _records_in_time(records["ai_incidents"], selection):
        total, ai = _ai_share(incident, ai_ids)
        out.append({"incident_id": incident["incident_id"], "title": incident["title"], "severity": incident["severity"],
                    "team": incident["team"], "status": incident["status"], "findings": total, "ai_findings": ai,
                    "cost_usd": round(incident["cost_usd"], 2),
                    "ai_cost_usd": round(incident["cost_usd"] * ai / total, 2)})
    return sorted(out, key=lambda r: (-r["cost_usd"], r["incident_id"]))[:50]


def _signers(records: list[dict], role: str | None = None) -> dict[tuple[str, str], set[str]]:
    out: dict = defaultdict(set)
    for s in records:
        if role is None or s["role"] == role:
            out[(s["repository"], s["commit"])].add(s["signer_email"])
    return out


def expect_findings_traced(rows, selection, records):
    origins = _origins(rows)
    authors = {(c["repository"], c["commit"]): c["author_email"] for c in records["ai_commits"]}
    reviewers, approvers = _signers(records["ai_signoffs"], "reviewer"), _signers(records["ai_signoffs"], "approver")
    out = []
    for f in _records_in_time(records["ai_findings"], selection):
        matched = [origins[x] for x in f["line_fingerprints"] if x in origins]
        if not matched:
            continue
        g = min(matched, key=lambda g: g["timestamp"])
        key = (f["repository"], f["commit"])
        out.append((f["timestamp"], f["finding_id"], {
            "severity": f["severity"], "rule": f["rule"], "team": f["team"], "repository": f["repository"],
            "file_path": f["file_path"], "line": f["line_start"], "caught_at": f["caught_at"],
            "assistant": g["assistant"], "model": g["model"], "prompted_by": g["user_email"], "trace_id": g["trace_id"],
            "commit": f["commit"], "author": authors.get(key, ""),
            "reviewers": ", ".join(sorted(reviewers.get(key, ()))), "approvers": ", ".join(sorted(approvers.get(key, ())))}))
    return [row for _, _, row in sorted(out, key=lambda t: (-t[0], t[1]))][:100]


def _ai_commits(records: dict, selection: dict) -> list[dict]:
    return [c for c in _records_in_time(records["ai_commits"], selection) if c["ai_lines"] > 0]


def expect_signoff_coverage(rows, selection, records):
    reviewers, approvers = _signers(records["ai_signoffs"], "reviewer"), _signers(records["ai_signoffs"], "approver")
    teams: dict = defaultdict(lambda: [0, 0, 0, 0])
    for c in _ai_commits(records, selection):
        key, counts = (c["repository"], c["commit"]), teams[c["team"]]
        counts[0] += 1
        counts[1] += key in reviewers
        counts[2] += key in approvers
        counts[3] += key in reviewers and key in approvers
    return [{"team": t, "ai_commits": n, "reviewed": r, "approved": a, "dual_signed": d, "coverage": round(d / n, 3)}
            for t, (n, r, a, d) in sorted(teams.items())]


def expect_unsigned_changes(rows, selection, records):
    out = []
    for c in _ai_commits(records, selection):
        key = (c["repository"], c["commit"])
        reviews = sum(1 for s in records["ai_signoffs"] if (s["repository"], s["commit"]) == key and s["role"] == "reviewer")
        approvals = sum(1 for s in records["ai_signoffs"] if (s["repository"], s["commit"]) == key and s["role"] == "approver")
        if reviews and approvals:
            continue
        out.append((c["timestamp"], {"team": c["team"], "repository": c["repository"], "commit": c["commit"],
                                     "author": c["author_email"], "ai_lines": c["ai_lines"],
                                     "lines_added": c["lines_added"], "reviews": reviews, "approvals": approvals,
                                     "trace_id": c["trace_id"]}))
    out.sort(key=lambda t: (-t[1]["ai_lines"], -t[0], t[1]["commit"]))
    return [row for _, row in out][:50]


def expect_checklist(rows, selection, records):
    questions: dict = defaultdict(lambda: [0, 0, 0])
    for s in _records_in_time(records["ai_signoffs"], selection):
        for question, answer in s["checklist"].items():
            questions[question][{"yes": 0, "no": 1}.get(answer, 2)] += 1
    return [{"question": q, "yes": y, "no": n, "other": o} for q, (y, n, o) in sorted(questions.items())]


def expect_reviewer_load(rows, selection, records):
    lines = {(c["repository"], c["commit"]): c["ai_lines"] for c in records["ai_commits"]}
    signers: dict = defaultdict(list)
    for s in _records_in_time(records["ai_signoffs"], selection):
        signers[s["signer_email"]].append((s["repository"], s["commit"]))
    out = [{"signer": who, "signoffs": len(keys), "commits": len(set(keys)), "ai_lines": sum(lines.get(k, 0) for k in keys)}
           for who, keys in signers.items()]
    return sorted(out, key=lambda r: (-r["signoffs"], r["signer"]))[:20]


def expect_ownership_gaps(rows, selection, records):
    signers = _signers(records["ai_signoffs"])
    repositories: dict = defaultdict(lambda: [0, 0, 0])
    for c in _ai_commits(records, selection):
        counts, emails = repositories[c["repository"]], signers.get((c["repository"], c["commit"]), set())
        counts[0] += 1
        counts[1] += c["team"] == ""
        counts[2] += bool(emails) and emails == {c["author_email"]}
    return [{"repository": r, "ai_commits": n, "without_team": w, "self_signed_only": s}
            for r, (n, w, s) in sorted(repositories.items())]


EXPECTED = {name[len("expect_"):]: fn for name, fn in globals().items() if name.startswith("expect_")}
RECORD_PANELS = [(d, p.name) for d in (RISK, ACCOUNTABILITY) for p in d.panels]
RECORD_SELECTIONS = [{}, {"team": ["payments", "data"]}, {"repository": ["https://git.example.com/r1"]}]


def normalized(rows: list[dict], like: list[dict]) -> list[dict]:
    """The engine's JSON (64-bit integers as text) in the types the expectation has; columns it leaves out (times,
    which it orders by) dropped."""
    kinds: dict = {}
    for r in like:
        for k, v in r.items():
            if v is not None:
                kinds.setdefault(k, type(v))
    return [{k: kinds.get(k, str)(v) if v is not None else v for k, v in r.items() if k in kinds or k in like[0]}
            for r in rows]


def assert_same(actual: list[dict], expected: list[dict]) -> None:
    """Equal, but for a cent where the engine and Python round a sum of money differently (it adds in another order)."""
    cents = [pytest.approx(v, abs=0.0101) if isinstance(v, float) else v for r in expected for v in r.values()]
    assert [list(r) for r in actual] == [list(r) for r in expected]
    assert [v for r in actual for v in r.values()] == cents


def test_every_reportable_panel_has_an_expectation():
    reportable = {p.name for d in DASHBOARDS if d.in_report for p in d.panels}
    assert reportable <= set(EXPECTED), reportable - set(EXPECTED)


@pytest.mark.parametrize("selection", SELECTIONS, ids=["all", "two-teams", "assistant-model", "repository"])
@pytest.mark.parametrize("name", [p.name for p in USAGE.panels])
def test_usage_panel_answers_what_the_seed_says(seeded, name, selection):
    expected = EXPECTED[name](seeded.rows, selection)
    assert expected, "the seed should give every panel rows"
    actual = normalized(seeded.store.rows(panel_sql(USAGE.panel(name), TIME, selection)), expected)
    assert actual == expected


def test_the_range_leaves_out_days_and_the_selection_leaves_out_teams(seeded):
    """The expectations above are not trivially equal: the range and the variables really cut rows away."""
    everything = len(seeded.rows)
    in_range = len(in_days(seeded.rows, {}, USAGE_KEYS))
    two_teams = len(in_days(seeded.rows, {"team": ["payments", "data"]}, USAGE_KEYS))
    assert 0 < two_teams < in_range < everything


@pytest.mark.parametrize("selection", RECORD_SELECTIONS, ids=["all", "two-teams", "repository"])
@pytest.mark.parametrize("dashboard, name", RECORD_PANELS, ids=[f"{d.uid}/{n}" for d, n in RECORD_PANELS])
def test_record_panel_answers_what_the_seed_says(seeded, dashboard, name, selection):
    expected = EXPECTED[name](seeded.rows, selection, seeded.records)
    assert expected, "the seed should give every panel rows"
    actual = normalized(seeded.store.rows(panel_sql(dashboard.panel(name), TIME, selection)), expected)
    assert_same(actual, expected)


def _through_views(sql: str, tenant: str) -> str:
    """The statement as a tenant's reader runs it: its tables resolve to the views of its own database (the SQL
    endpoint makes that database the reader's current one; here it is named)."""
    from aitrail.collector.sqlendpoint.tenancy import tenant_database

    return re.sub(r"\baitrail\.(?=\w)", f"`{tenant_database(tenant)}`.", sql)


def test_a_tenants_views_answer_every_panel_and_another_tenant_sees_nothing(seeded):
    from aitrail.collector.sqlendpoint.tenancy import view_statements

    for tenant in ("acme", "globex"):
        for statement in view_statements(seeded.store, tenant):
            seeded.store.command(statement)
    for dashboard in DASHBOARDS:
        for panel in dashboard.panels:
            sql = panel_sql(panel, TIME, {"trace_id": seeded.rows[0]["trace_id"]})
            assert seeded.store.rows(_through_views(sql, "acme")) == seeded.store.rows(sql), panel.name
            other = seeded.store.rows(_through_views(sql, "globex"))
            assert all(str(v) in ("0", "0.0", "", "None") for row in other for v in row.values()), panel.name
