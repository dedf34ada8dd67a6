"""The data source's macros, expanded here as its code does (pkg/macros/macros.go for time macros, the front end's
applyConditionalAll and the variable format for the rest)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from aitrail.dashboards.macros import ALL, TimeRange, conditional_all, expand, substitute, time_macros

START = datetime(2026, 3, 4, 0, 0, tzinfo=timezone.utc)
END = datetime(2026, 3, 10, 12, 30, 15, 250_000, tzinfo=timezone.utc)
TIME = TimeRange(START, END, interval_seconds=3600)


def test_time_filter_is_whole_seconds_from_and_to():
    start, end = int(START.timestamp()), int(END.timestamp())
    assert time_macros("WHERE $__timeFilter(ts)", TIME) == f"WHERE ts >= toDateTime({start}) AND ts <= toDateTime({end})"


def test_time_filter_ms_is_milliseconds():
    ms = int(END.timestamp() * 1000)
    assert time_macros("$__timeFilter_ms(ts)", TIME).endswith(f"ts <= fromUnixTimestamp64Milli({ms})")
    assert str(ms).endswith("250")


def test_date_filter_is_the_utc_dates():
    assert time_macros("$__dateFilter(day)", TIME) == "day >= toDate('2026-03-04') AND day <= toDate('2026-03-10')"


def test_time_interval_and_interval_seconds():
    assert time_macros("$__timeInterval(ts)", TIME) == "toStartOfInterval(toDateTime(ts), INTERVAL 3600 second)"
    assert time_macros("$__interval_s", TimeRange(START, END, interval_seconds=0)) == "1"  # never below one second


def test_from_and_to_time():
    assert time_macros("$__fromTime,$__toTime", TIME) == f"toDateTime({int(START.timestamp())}),toDateTime({int(END.timestamp())})"


def test_nested_parentheses_in_an_argument():
    out = time_macros("$__timeFilter(toDateTime(ts, 'UTC'))", TIME)
    assert out.startswith("toDateTime(ts, 'UTC') >= toDateTime(")


def test_unknown_macro_is_an_error_not_a_silent_pass():
    with pytest.raises(ValueError, match="unknown macro"):
        time_macros("$__nope(x)", TIME)


@pytest.mark.parametrize("value", [ALL, "", [ALL], []])
def test_conditional_all_is_true_when_all_is_chosen(value):
    assert conditional_all("WHERE $__conditionalAll(team IN (${team}), $team)", {"team": value}) == "WHERE 1=1"


def test_conditional_all_keeps_the_condition_for_chosen_values():
    sql = "WHERE $__conditionalAll(team IN (${team}), $team) AND $__conditionalAll(m IN ($model), ${model})"
    assert conditional_all(sql, {"team": ["a"]}) == "WHERE team IN (${team}) AND 1=1"


def test_lists_become_quoted_lists_and_single_values_stay_as_they_are():
    assert substitute("x IN (${team}) AND y = '$trace'", {"team": ["a", "b"], "trace": "abc"}) == \
        "x IN ('a','b') AND y = 'abc'"


def test_quotes_in_values_are_escaped():
    assert substitute("x IN ($team)", {"team": ["o'brien"]}) == "x IN ('o\\'brien')"


def test_expand_runs_the_three_steps_in_the_data_sources_order():
    sql = "SELECT 1 WHERE $__conditionalAll(team IN ($team), $team) AND $__dateFilter(day)"
    assert expand(sql, TIME, {"team": ["a"]}) == \
        "SELECT 1 WHERE team IN ('a') AND day >= toDate('2026-03-04') AND day <= toDate('2026-03-10')"


def test_last_days_starts_at_a_utc_midnight_and_ends_now():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    span = TimeRange.last_days(7, now)
    assert (span.start, span.end) == (datetime(2026, 3, 4, tzinfo=timezone.utc), now)
