"""The derivation SQL, rendered once from its files: ``${...}`` names and a few macros that read like functions.

A dialect file (``claude_code.sql``, ...) is one ``INSERT INTO ... SELECT``
statement. Before it reaches ClickHouse, Python fills in:

* ``${database}``, ``${attributes}`` (a span's attributes over its resource's, aliases
  resolved), ``${dialect}``, ``${assistant}``, ``${source}`` (who and where an event comes
  from), ``${derived}`` (``_derived.sql``: what earlier runs derived) and
  ``${emit}`` (the shared tail, ``_emit.sql``: answers, tokens, readiness, once only);
* macros, written like SQL functions so the files stay readable, expanded here
  into plain ClickHouse SQL that every server version runs:

  ``LINES(text)``           the lines of a text as git counts them (no final empty
                            line after a trailing newline, ``\\r`` dropped)
  ``FINGERPRINTS(lines)``   fingerprints of the non-trivial lines, as signed Int64
                            (``aitrail.sdk.fingerprint.fingerprint_sql``, bit for bit)
  ``LANGUAGE(path)``        the language of a file by name or extension
                            (``aitrail.sdk.edits``' table)
  ``RELATIVE(path, root)``  ``path`` relative to ``root`` when it lies under it, else as sent
                            (a ``root`` still percent-encoded, as Codex passes it on, is decoded)
  ``SPAN_ID(a, b, ...)``    16 hex digits, deterministic in its arguments
  ``ADDED(new, old)``       lines of ``new`` that ``old`` does not have (a text replacement's added lines)
  ``REMOVED(new, old)``     how many lines of ``old`` ``new`` does not have
  ``ALIASED(attributes)``   a map of attributes with its aliases resolved
                            (:func:`aitrail.collector.store.aliases.resolved`; the raw tables keep them as sent)

Values are never rendered into the text: the time window travels as query
parameters (``{window_start:Int64}``, ``{settled:Int64}``, ``{given_up:Int64}``,
nanoseconds since the epoch).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from string import Template

from aitrail.collector.store import aliases
from aitrail.collector.store.base import quote_identifier
from aitrail.sdk.edits import FILENAMES, LANGUAGES
from aitrail.sdk.fingerprint import fingerprint_sql


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _array(items: list[str]) -> str:
    return "[" + ", ".join(_literal(i) for i in items) + "]"


def _lines(text: str) -> str:
    t = f"({text})"
    return (
        f"if({t} = '', CAST([], 'Array(String)'), arrayMap(l -> replaceRegexpOne(l, '\\r$', ''), "
        f"splitByChar('\\n', if(endsWith({t}, '\\n'), substring({t}, 1, length({t}) - 1), {t}))))"
    )


def _fingerprints(lines: str) -> str:
    return (
        "arrayMap(f -> reinterpretAsInt64(assumeNotNull(f)), arrayFilter(f -> isNotNull(f), "
        f"arrayMap(l -> {fingerprint_sql('l')}, {lines})))"
    )


def _language(path: str) -> str:
    name = f"lower(arrayElement(splitByChar('/', replaceAll({path}, '\\\\', '/')), -1))"
    ext = f"if(position({name}, '.') > 1, arrayElement(splitByChar('.', {name}), -1), '')"
    stem = f"if(position({name}, '.') > 1, substring({name}, 1, length({name}) - length({ext}) - 1), '')"
    names, by_name = list(FILENAMES), list(FILENAMES.values())
    exts, by_ext = list(LANGUAGES), list(LANGUAGES.values())
    return (
        f"transform({name}, {_array(names)}, {_array(by_name)}, "
        f"transform({ext}, {_array(exts)}, {_array(by_ext)}, "
        f"transform({stem}, {_array(names)}, {_array(by_name)}, '')))"
    )


def _relative(path: str, root: str) -> str:
    # OTEL_RESOURCE_ATTRIBUTES values are percent-encoded; Node and Python SDKs decode them, Rust's (Codex) does
    # not. An absolute path still encoded does not start with "/": decode it then.
    root = f"if(position({root}, '%') > 0 AND NOT startsWith({root}, '/'), decodeURLComponent({root}), {root})"
    base = f"if(endsWith({root}, '/'), {root}, concat({root}, '/'))"
    return f"if({root} != '' AND startsWith({path}, {base}), substring({path}, length({base}) + 1), {path})"


def _span_id(*parts: str) -> str:
    return f"lower(hex(reinterpretAsFixedString(sipHash64({', '.join(parts)}))))"


def _added(new: str, old: str) -> str:
    return f"arrayFilter(n -> NOT has({_lines(old)}, n), {_lines(new)})"


def _removed(new: str, old: str) -> str:
    return f"length(arrayFilter(o -> NOT has({_lines(new)}, o), {_lines(old)}))"


MACROS: dict[str, Callable[..., str]] = {
    "LINES": _lines,
    "FINGERPRINTS": _fingerprints,
    "LANGUAGE": _language,
    "RELATIVE": _relative,
    "SPAN_ID": _span_id,
    "ADDED": _added,
    "REMOVED": _removed,
    "ALIASED": aliases.resolved,
}


def _arguments(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments of a call whose ``(`` is at ``start``, and the index after its ``)``."""
    depth, quote, args, current = 0, "", [], start + 1
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'`\"":
            quote = ch
        elif ch == "(" or ch == "[":
            depth += 1
        elif ch == ")" or ch == "]":
            depth -= 1
            if depth == 0:
                args.append(text[current:i].strip())
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append(text[current:i].strip())
            current = i + 1
        i += 1
    raise ValueError(f"unbalanced parentheses after {text[start - 20:start + 20]!r}")


_MACRO = re.compile(r"\b(" + "|".join(MACROS) + r")\(")


def expand(text: str) -> str:
    """Expand every macro call, innermost arguments included."""
    while True:
        match = _MACRO.search(text)
        if match is None:
            return text
        args, end = _arguments(text, match.end() - 1)
        text = text[: match.start()] + MACROS[match[1]](*(expand(a) for a in args)) + text[end:]


def _read(name: str) -> str:
    raw = resources.files("aitrail.collector.derive").joinpath(name).read_text()
    return "\n".join(line for line in raw.splitlines() if not line.lstrip().startswith("--"))


SOURCE = """resource, service_name, trace_id, span_id AS parent_span_id,
    multiIf(la['user.id'] != '', la['user.id'], resource['user.id'] != '', resource['user.id'],
            la['user.account_id'] != '', la['user.account_id'], la['installation.id']) AS user_id,
    if(la['user.email'] != '', la['user.email'], resource['user.email']) AS user_email,
    if(la['user.name'] != '', la['user.name'], resource['user.name']) AS user_name,
    if(ALIASED(la)['aitrail.team'] != '', ALIASED(la)['aitrail.team'],
       ALIASED(resource)['aitrail.team']) AS team"""
"""``${source}``: who and where an event comes from, from a CTE with columns ``la`` (the event's
attributes), ``resource``, ``service_name``, ``trace_id`` and ``span_id``. An attribute of the event wins
over the same one on its resource; the team may come under an alias (``team``). The person is ``user.id``,
else what the assistant identifies them by (Codex: ``user.account_id``, Gemini CLI: ``installation.id``)."""


@cache
def statement(dialect: str, assistant: str, database: str) -> str:
    """The derivation statement of one dialect, ready to run with its parameters."""
    names = {"database": quote_identifier(database), "attributes": aliases.SPAN_ATTRIBUTES, "dialect": dialect,
             "assistant": assistant, "source": SOURCE}
    derived = Template(_read("_derived.sql")).substitute(names)
    emit = Template(_read("_emit.sql")).substitute(names)
    text = Template(_read(f"{dialect}.sql")).substitute(names, derived=derived, emit=emit)
    return expand(text).strip().rstrip(";")
