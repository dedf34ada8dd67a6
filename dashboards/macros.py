"""Panel SQL made runnable the way the Grafana ClickHouse data source makes it, so that what aitrail shows without
Grafana (``aitrail usage``, the HTML report) and what the tests check is exactly what Grafana runs.

The data source works in three steps, repeated here in its order:

1. ``$__conditionalAll(condition, $var)`` (its front end, ``CHDatasource.applyConditionalAll``): ``1=1`` when the
   variable is All (or empty), else the condition.
2. Variables (Grafana's template service with the data source's format): a list of values becomes
   ``'a','b'``, one value itself.
3. Time macros (its back end, ``pkg/macros/macros.go``): ``$__timeFilter(c)`` is
   ``c >= toDateTime(<from s>) AND c <= toDateTime(<to s>)``, ``$__timeFilter_ms(c)`` the same with
   ``fromUnixTimestamp64Milli(<ms>)``, ``$__dateFilter(c)`` ``c >= toDate('YYYY-MM-DD') AND c <= toDate(...)``,
   ``$__timeInterval(c)`` ``toStartOfInterval(toDateTime(c), INTERVAL <s> second)``, ``$__interval_s`` the
   interval in seconds, ``$__fromTime``/``$__toTime`` ``toDateTime(<s>)``.

One difference, on purpose: a quote inside a value is escaped here (the data source passes values as they are).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

ALL = "$__all"
"""A variable's value when All is chosen."""


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time range and the interval Grafana picked for it (range / max data points)."""

    start: datetime
    end: datetime
    interval_seconds: int = 86_400

    @classmethod
    def last_days(cls, days: int, now: datetime | None = None) -> TimeRange:
        """The last ``days`` UTC days, today included (today's midnight minus ``days - 1`` days, to now)."""
        now = now or datetime.now(timezone.utc)
        midnight = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(midnight - timedelta(days=days - 1), now)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _format(value: str | Sequence[str]) -> str:
    if isinstance(value, str):
        return value
    return "'" + "','".join(_quote(v) for v in value) + "'"


def _arguments(text: str, open_at: int) -> tuple[list[str], int]:
    """The comma-separated arguments of the call whose ``(`` is at ``open_at``, and the index after its ``)``."""
    depth, start, args = 0, open_at + 1, []
    for i in range(open_at, len(text)):
        char = text[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                args.append(text[start:i])
                return args, i + 1
        elif char == "," and depth == 1:
            args.append(text[start:i])
            start = i + 1
    raise ValueError(f"unbalanced parentheses after {text[max(0, open_at - 20):open_at + 1]!r}")


_MACRO = "$__conditionalAll("
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def _is_all(value: str | Sequence[str] | None) -> bool:
    if value is None or value == "" or value == ALL:
        return True
    return not isinstance(value, str) and (len(value) == 0 or list(value) == [ALL])


def conditional_all(sql: str, variables: Mapping[str, str | Sequence[str]]) -> str:
    """Step 1: each ``$__conditionalAll(condition, $var)``, from the last one back, as the data source does."""
    at = sql.rfind(_MACRO)
    while at != -1:
        args, end = _arguments(sql, at + len(_MACRO) - 1)
        if len(args) != 2:
            raise ValueError(f"$__conditionalAll takes a condition and a variable, got {len(args)} arguments")
        name = _VARIABLE.search(args[1].strip())
        phrase = args[0]
        if name and _is_all(variables.get(name.group(1) or name.group(2))):
            phrase = "1=1"
        sql = sql[:at] + phrase + sql[end:]
        at = sql.rfind(_MACRO)
    return sql


def substitute(sql: str, variables: Mapping[str, str | Sequence[str]]) -> str:
    """Step 2: ``$var`` and ``${var}`` by their values (``$__`` macros are left for step 3)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name.startswith("__") or name not in variables:
            return match.group(0)
        return _format(variables[name])

    return _VARIABLE.sub(value, sql)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def time_macros(sql: str, time: TimeRange) -> str:
    """Step 3: the back end's macros for ``time``."""
    date = "toDate('{:%Y-%m-%d}')".format
    start, end = time.start.astimezone(timezone.utc), time.end.astimezone(timezone.utc)
    interval = max(time.interval_seconds, 1)
    one = {
        "timeFilter": lambda c: f"{c} >= toDateTime({_seconds(start)}) AND {c} <= toDateTime({_seconds(end)})",
        "timeFilter_ms": lambda c: (f"{c} >= fromUnixTimestamp64Milli({int(start.timestamp() * 1000)}) AND "
                                    f"{c} <= fromUnixTimestamp64Milli({int(end.timestamp() * 1000)})"),
        "dateFilter": lambda c: f"{c} >= {date(start)} AND {c} <= {date(end)}",
        "timeInterval": lambda c: f"toStartOfInterval(toDateTime({c}), INTERVAL {interval} second)",
    }
    bare = {
        "fromTime": f"toDateTime({_seconds(start)})",
        "toTime": f"toDateTime({_seconds(end)})",
        "interval_s": str(interval),
    }
    pattern = re.compile(r"\$__(\w+)")
    out, pos = [], 0
    for match in pattern.finditer(sql):
        if match.start() < pos:
            continue
        name = match.group(1)
        out.append(sql[pos:match.start()])
        if name in one and match.end() < len(sql) and sql[match.end()] == "(":
            args, end_at = _arguments(sql, match.end())
            if len(args) != 1:
                raise ValueError(f"$__{name} takes one argument, got {len(args)}")
            out.append(one[name](args[0].strip()))
            pos = end_at
        elif name in bare:
            out.append(bare[name])
            pos = match.end()
        else:
            raise ValueError(f"unknown macro $__{name}")
    out.append(sql[pos:])
    return "".join(out)


def expand(sql: str, time: TimeRange, variables: Mapping[str, str | Sequence[str]] | None = None) -> str:
    """Panel SQL as the data source sends it to ClickHouse; a variable not given is All."""
    values = dict(variables or {})
    sql = conditional_all(sql, values)
    sql = substitute(sql, values)
    return time_macros(sql, time)
