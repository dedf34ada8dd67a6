"""Every panel's SQL, with the macros expanded as the Grafana ClickHouse data source expands them, on the real
engine over seeded generations: the numbers equal those computed here in Python from the seed."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from aitrail.dashboards.catalog import DASHBOARDS, USAGE
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


EXPECTED = {name[len("expect_"):]: fn for name, fn in globals().items() if name.startswith("expect_")}


def normalized(rows: list[dict], like: list[dict]) -> list[dict]:
    """The engine's JSON (64-bit integers as text) in the types the expectation has."""
    kinds = {k: type(v) for r in like[:1] for k, v in r.items()}
    return [{k: kinds.get(k, str)(v) if v is not None else v for k, v in r.items()} for r in rows]


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
