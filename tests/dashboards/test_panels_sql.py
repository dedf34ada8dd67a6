"""Every panel's SQL, with the macros expanded as the Grafana ClickHouse data source expands them, on the real
engine over seeded generations: the numbers equal those computed here in Python from the seed."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from aitrail.dashboards.catalog import ACCOUNTABILITY, DASHBOARDS, RISK, USAGE
from aitrail.dashboards.reports import panel_sql
from aitrail.sdk.accountability.policy import DEFAULT_CHECKLIST

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


USAGE_KEYS = ("team", "assistant", "model", "repository")


def person(row: dict) -> str:
    return row["user_email"] or row["user_id"]


def _estimates_known(selection: dict) -> bool:
    """An estimate carries no assistant (only model, team, person, repository): with an assistant chosen it is unknown."""
    return "assistant" not in selection


def _cost(rows: list[dict], selection: dict, of: str | None = None) -> dict:
    """Cost with the estimated part (for ``of``, a person: the estimates of that e-mail address only)."""
    known = _estimates_known(selection)
    estimated = sum(r["estimated_cost_usd"] for r in rows if of is None or r["user_email"] == of) if known else 0.0
    return {"cost_usd": round(sum(r["cost_usd"] for r in rows) + estimated, 4),
            "estimated_cost_usd": round(estimated, 4) if known else None}


def expect_headline(rows, selection):
    rows = in_days(rows, selection, USAGE_KEYS)
    return [{"generations": len(rows), "people": len({person(r) for r in rows}),
             "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in rows), **_cost(rows, selection),
             "lines_added": sum(r["lines_added"] for r in rows)}]


def _per_day_team(rows, selection, value, keys=USAGE_KEYS):
    groups = defaultdict(list)
    for r in in_days(rows, selection, keys):
        groups[(_day(r), r["team"])].append(r)
    return [{"time": f"{d} 00:00:00", "team": t, **value(g)} for (d, t), g in sorted(groups.items())]


def expect_generations_by_team(rows, selection):  # ai_usage_daily: no repository to filter on
    return _per_day_team(rows, selection, lambda g: {"generations": len(g)}, ("team", "assistant", "model"))


def expect_active_people(rows, selection):
    return _per_day_team(rows, selection, lambda g: {"people": len({person(r) for r in g})})


def _usage(rows, key):
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return groups


def expect_usage_by_team(rows, selection):
    out = []
    for team, g in _usage(in_days(rows, selection, USAGE_KEYS), lambda r: r["team"]).items():
        out.append({"team": team, "generations": len(g), "people": len({person(r) for r in g}),
                    "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in g), **_cost(g, selection),
                    "lines_added": sum(r["lines_added"] for r in g),
                    "accepted_share": round(sum(r["decision"] == "accepted" for r in g) / len(g), 3)})
    return sorted(out, key=lambda r: (-r["generations"], r["team"]))


def expect_usage_by_assistant(rows, selection):
    chosen = in_days(rows, selection, USAGE_KEYS)
    out = []
    for (assistant, model), g in _usage(chosen, lambda r: (r["assistant"], r["model"])).items():
        out.append({"assistant": assistant, "model": model, "generations": len(g),
                    "people": len({person(r) for r in g}),
                    "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in g),
                    "cost_usd": round(sum(r["cost_usd"] for r in g), 4), "estimated_cost_usd": 0.0,
                    "lines_added": sum(r["lines_added"] for r in g)})
    if _estimates_known(selection):  # a row per model, with no assistant
        for model, g in _usage([r for r in chosen if r["estimated_cost_usd"]], lambda r: r["model"]).items():
            estimated = round(sum(r["estimated_cost_usd"] for r in g), 4)
            out.append({"assistant": "", "model": model, "generations": 0, "people": 0, "tokens": 0,
                        "cost_usd": estimated, "estimated_cost_usd": estimated, "lines_added": 0})
    return sorted(out, key=lambda r: (-r["generations"], r["assistant"], r["model"]))


def expect_cost_by_person(rows, selection):
    out = []
    for who, g in _usage(in_days(rows, selection, USAGE_KEYS), person).items():
        out.append({"person": who, "teams": ", ".join(sorted({r["team"] for r in g})), "generations": len(g),
                    "tokens": sum(r["input_tokens"] + r["output_tokens"] for r in g), **_cost(g, selection, who)})
    return sorted(out, key=lambda r: (-r["cost_usd"], -r["tokens"], r["person"]))[:20]


def expect_committed_lines(rows, selection, records=None):
    teams: dict = defaultdict(list)
    for commit in in_time(records["ai_commits"], selection, ("team", "repository")):
        teams[commit["team"]].append(commit)
    out = []
    for team, commits in teams.items():
        added, ai = sum(c["lines_added"] for c in commits), sum(c["ai_lines"] for c in commits)
        out.append({"team": team, "commits": len(commits), "lines_added": added, "ai_lines": ai,
                    "ai_share": round(ai / added, 3) if added else None})
    return sorted(out, key=lambda r: (-r["lines_added"], r["team"]))


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
    return [{"time": f"{w} 00:00:00", "people": len({person(r) for r in g}), "teams": len({r["team"] for r in g})}
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


def _on_ai_lines(finding: dict, origins: dict[int, dict]) -> bool:
    return any(f in origins for f in finding["line_fingerprints"])


def expect_findings_per_kloc(rows, selection, records):
    origins = _origins(rows)
    teams: dict = defaultdict(lambda: {"ai_lines": 0, "human_lines": 0, "ai_findings": 0, "human_findings": 0,
                                       "at_generation": 0, "by_scan": 0, "in_incident": 0})
    for commit in _records_in_time(records["ai_commits"], selection):
        teams[commit["team"]]["ai_lines"] += commit["ai_lines"]
        teams[commit["team"]]["human_lines"] += commit["lines_added"] - commit["ai_lines"]
    names = {"generation": "at_generation", "scan": "by_scan", "incident": "in_incident"}
    for finding in _records_in_time(records["ai_findings"], selection):
        counts = teams[finding["team"]]
        counts[names[finding["caught_at"]]] += 1
        if finding["caught_at"] != "generation":  # counted apart from the rates
            counts["ai_findings" if _on_ai_lines(finding, origins) else "human_findings"] += 1
    per_kloc = lambda n, lines: round(n * 1000 / lines, 2) if lines else None  # noqa: E731
    return [{"team": t, "ai_lines": v["ai_lines"], "human_lines": v["human_lines"], "ai_findings": v["ai_findings"],
             "human_findings": v["human_findings"], "ai_per_kloc": per_kloc(v["ai_findings"], v["ai_lines"]),
             "human_per_kloc": per_kloc(v["human_findings"], v["human_lines"]), "at_generation": v["at_generation"],
             "by_scan": v["by_scan"], "in_incident": v["in_incident"]} for t, v in sorted(teams.items())]


def _ai_share(incident: dict, ai_ids: set[str]) -> tuple[int, int]:
    return len(incident["finding_ids"]), sum(i in ai_ids for i in incident["finding_ids"])


def expect_incident_cost_by_team(rows, selection, records):
    origins = _origins(rows)
    ai_ids = {f["finding_id"] for f in records["ai_findings"] if _is_ai(f, origins)}
    teams: dict = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for incident in _records_in_time(records["ai_incidents"], selection):
        total, ai = _ai_share(incident, ai_ids)
        counts = teams[incident["team"]]
        counts[0] += 1
        counts[1] += ai > 0
        counts[2] += incident["cost_usd"] * ai / total
        counts[3] += incident["cost_usd"] * (1 - ai / total)
    return [{"team": t, "incidents": n, "ai_incidents": a, "ai_cost_usd": round(c, 2), "other_cost_usd": round(o, 2)}
            for t, (n, a, c, o) in sorted(teams.items())]


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


def _dual(records: dict) -> dict[str, tuple[int, int, int]]:
    """Per AI commit: distinct reviewers, approvers and signers other than its author (the default policy's count)."""
    authors = {c["commit"]: c["author_email"].lower() for c in records["ai_commits"] if c["ai_lines"] > 0}
    people: dict = defaultdict(lambda: (set(), set()))
    for s in records["ai_signoffs"]:
        signer = s["signer_email"].lower()
        if s["commit"] in authors and signer != authors[s["commit"]]:
            people[s["commit"]][s["role"] == "approver"].add(signer)
    return {c: (len(r), len(a), len(r | a)) for c, (r, a) in people.items()}


def _dual_signed(counts: tuple[int, int, int]) -> bool:
    reviewers, approvers, signers = counts
    return reviewers > 0 and approvers > 0 and signers >= 2


def expect_signoff_coverage(rows, selection, records):
    dual = _dual(records)
    teams: dict = defaultdict(lambda: [0, 0, 0, 0])
    for c in _ai_commits(records, selection):
        counts, signed = teams[c["team"]], dual.get(c["commit"], (0, 0, 0))
        counts[0] += 1
        counts[1] += signed[0] > 0
        counts[2] += signed[1] > 0
        counts[3] += _dual_signed(signed)
    return [{"team": t, "ai_commits": n, "reviewed": r, "approved": a, "dual_signed": d, "unsigned": n - d,
             "coverage": round(d / n, 3)} for t, (n, r, a, d) in sorted(teams.items())]


def expect_unsigned_changes(rows, selection, records):
    dual = _dual(records)
    out = []
    for c in _ai_commits(records, selection):
        signed = dual.get(c["commit"], (0, 0, 0))
        if _dual_signed(signed):
            continue
        out.append((c["timestamp"], {"team": c["team"], "repository": c["repository"], "commit": c["commit"],
                                     "author": c["author_email"], "ai_lines": c["ai_lines"],
                                     "lines_added": c["lines_added"], "reviewers": signed[0], "approvers": signed[1],
                                     "trace_id": c["trace_id"]}))
    out.sort(key=lambda t: (-t[1]["ai_lines"], -t[0], t[1]["commit"]))
    return [row for _, row in out][:50]


def expect_checklist_completion(rows, selection, records):
    ai_commits = {c["commit"]: c["team"] for c in _ai_commits(records, selection)}
    teams: dict = defaultdict(lambda: [0, 0])
    for s in records["ai_signoffs"]:
        if s["commit"] in ai_commits:
            counts = teams[ai_commits[s["commit"]]]
            counts[0] += 1
            counts[1] += set(s["checklist"]) >= set(DEFAULT_CHECKLIST)
    return [{"team": t, "signoffs": n, "complete": c, "completion": round(c / n, 3)} for t, (n, c) in sorted(teams.items())]


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
RECORD_PANELS = [(d, p.name) for d in (RISK, ACCOUNTABILITY) for p in d.panels] + [(USAGE, "committed_lines")]
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
@pytest.mark.parametrize("name", [p.name for p in USAGE.panels if p.name != "committed_lines"])
def test_usage_panel_answers_what_the_seed_says(seeded, name, selection):
    expected = EXPECTED[name](seeded.rows, selection)
    assert expected, "the seed should give every panel rows"
    actual = normalized(seeded.store.rows(panel_sql(USAGE.panel(name), TIME, selection)), expected)
    assert_same(actual, expected)


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
            through, direct = seeded.store.rows(_through_views(sql, "acme")), seeded.store.rows(sql)
            # the same rows; sums of money may differ in the last rounded digit (the engine adds in another order)
            assert len(through) == len(direct), panel.name
            assert all(a == pytest.approx(b, abs=2e-4) for a, b in zip(through, direct)), panel.name
            other = seeded.store.rows(_through_views(sql, "globex"))
            assert all(str(v) in ("0", "0.0", "", "None") for row in other for v in row.values()), panel.name
