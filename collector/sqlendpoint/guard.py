"""Decide whether a statement sent to the SQL endpoint is a read, with the engine's own parser.

Regular expressions over SQL text are never the judge here: comments, quoting
and the engine's many dialect corners make them easy to fool. Instead:

1. ``formatQuerySingleLine`` parses the text and prints it back in canonical
   form. It refuses several statements (chDB would run ``SELECT 1; DROP ...``
   both) and its output is what runs, so what was checked is what executes.
2. ``EXPLAIN AST`` of that canonical text is walked as a tree: an allowlist of
   statement kinds at the root and of node kinds below it, table functions
   from an allowlist, no ``SETTINGS``, no ``INTO OUTFILE``, no scalar
   function that reads files.

The endpoint then runs the query on the store's read-only connection, so
the engine itself still refuses writes if this guard ever misses one.

For a tenant reader (a token without the admin scope) the same tree is also
checked by :func:`aitrail.collector.sqlendpoint.tenancy.check_scope`: only the
tenant's own views, no name of another database anywhere, no ``view()``, no
function that reaches a table by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aitrail.collector.sqlendpoint import tenancy
from aitrail.collector.sqlendpoint.tenancy import Reader
from aitrail.collector.store.base import Store
from aitrail.errors import QueryRefused, StoreError

READ_STATEMENTS = frozenset(
    {
        "SelectWithUnionQuery",  # SELECT, WITH ... SELECT, UNION, and INTERSECT/EXCEPT inside it
        "SelectIntersectExceptQuery",
        "ShowTables",  # SHOW TABLES / SHOW DATABASES; further checked by _check_show_tables
        "DescribeQuery",
        "ExistsTableQuery",
        "ExistsDatabaseQuery",
        "ExistsViewQuery",
        "ExistsDictionaryQuery",
        "ShowCreateTableQuery",
        "ShowCreateViewQuery",
    }
)
"""Statement kinds (root of ``EXPLAIN AST``) that only read."""

READ_NODES = frozenset(
    {
        "SelectWithUnionQuery", "SelectIntersectExceptQuery", "SelectQuery", "Subquery", "WithElement",
        "ExpressionList", "Literal", "Identifier", "Function", "OrderByElement", "InterpolateElement",
        "TablesInSelectQuery", "TablesInSelectQueryElement", "TableExpression", "TableIdentifier",
        "TableJoin", "ArrayJoin", "SampleRatio", "WindowDefinition", "WindowListElement",
        "Asterisk", "QualifiedAsterisk", "ColumnsRegexpMatcher", "ColumnsListMatcher",
        "QualifiedColumnsRegexpMatcher", "QualifiedColumnsListMatcher", "ColumnsTransformerList",
        "ColumnsExceptTransformer", "ColumnsReplaceTransformer", "ColumnsReplaceTransformer::Replacement",
    }
)
"""Node kinds allowed below the root. Anything else is refused, so an unknown
construct fails closed. Not here on purpose: ``Set`` (a SETTINGS clause) and
``ColumnsApplyTransformer`` (``SELECT * APPLY file``: the dump hides the function
it calls)."""

TABLE_FUNCTIONS = frozenset(
    {"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries", "values", "null", "view"}
)
"""Table functions that generate rows in memory (or, ``view``, wrap a subquery
that is checked like any other). Every other one reads files (file, filesystem),
the network (url, s3, remote, mysql, postgresql, ...), runs programs
(executable) or reaches into the host process (chDB's python)."""

FILE_FUNCTIONS = frozenset(
    {"file", "catboostevaluate", "modelevaluate", "addresstoline", "addresstolinewithinlines", "addresstosymbol"}
)
"""Scalar functions that read files on the server, compared lower-case. The
engine's read-only mode allows them (``SELECT file('/etc/passwd')`` works on a
``readonly=1`` connection), so the guard must refuse them."""

ALLOWED_SUMMARY = "only SELECT, SHOW TABLES, SHOW DATABASES, DESCRIBE, EXISTS and SHOW CREATE run here"


class InvalidQuery(QueryRefused):
    """The engine could not parse or bind the statement: the client's mistake (HTTP 400), not a policy refusal."""

    def __init__(self, message: str, code: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.code = code


@dataclass(frozen=True)
class CheckedQuery:
    """A statement the guard accepted: ``sql`` is the canonical text to run, ``format`` its FORMAT clause if any."""

    sql: str
    format: str | None = None


@dataclass(frozen=True)
class EngineError:
    """An engine exception taken apart: ClickHouse error code, error name and the bare message."""

    code: int | None
    name: str | None
    message: str

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        suffix = f" ({self.name})" if self.name else ""
        return f"Code: {self.code}. DB::Exception: {self.message}.{suffix}"


_CODE = re.compile(r"Code: (\d+)\. DB::Exception: ")
_TRAILER = re.compile(r"(?:\s*\(version [^)]*\)|\s*\([A-Z][A-Z0-9_]*\)|\s*\.)+\s*$")
_NAME = re.compile(r"\(([A-Z][A-Z0-9_]*)\)\s*(?:\(version [^)]*\))?[.\s]*$")


def engine_error(exc: BaseException) -> EngineError:
    """Take the innermost ``Code: N. DB::Exception: ...`` apart, whichever store raised it.

    chDB nests the same exception twice and both stores add decoration; clients
    should see one clean ClickHouse-style message.
    """
    text = str(exc).strip()
    found = list(_CODE.finditer(text))
    if not found:
        return EngineError(None, None, text)
    message = text[found[-1].end() :]
    name = _NAME.search(message)
    message = message.split(": In scope SELECT formatQuerySingleLine(")[0]
    message = _TRAILER.sub("", message)
    return EngineError(int(found[-1][1]), name[1] if name else None, message)


def sql_string(text: str) -> str:
    """``text`` as a ClickHouse string literal: the same on every store, unlike query parameters."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\\0") + "'"


@dataclass(eq=False)
class _Node:
    kind: str
    text: str
    claimed: int
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The word after the kind: a function's or identifier's name."""
        parts = self.text.split(" ", 2)
        return parts[1] if len(parts) > 1 else ""

    def walk(self) -> list[_Node]:
        found = [self]
        for child in self.children:
            found.extend(child.walk())
        return found


_LINE = re.compile(r"^( *)(\S.*?)(?: \(children (\d+)\))?$")


def _parse_dump(dump: str) -> _Node:
    """Rebuild the tree from ``EXPLAIN AST`` text, refusing anything that does not add up.

    Aliases and quoted identifiers are printed raw, line breaks included, so a
    crafted alias can add lines to the dump. Injected lines cannot remove the
    real ones, and they break the engine's own ``(children N)`` counts or the
    single root; any such inconsistency refuses the query.
    """
    malformed = QueryRefused(
        "its syntax tree could not be checked (aliases or identifiers containing line breaks are refused)"
    )
    root: _Node | None = None
    stack: list[_Node] = []
    for line in dump.rstrip("\n").split("\n"):
        match = _LINE.match(line)
        if match is None:
            raise malformed
        depth = len(match[1])
        text = match[2]
        node = _Node(text.split(" ", 1)[0], text, int(match[3] or 0))
        if root is None:
            if depth != 0:
                raise malformed
            root = node
        else:
            if not 1 <= depth <= len(stack):
                raise malformed
            node.parent = stack[depth - 1]
            node.parent.children.append(node)
        del stack[depth:]
        stack.append(node)
    if root is None or any(len(n.children) != n.claimed for n in root.walk()):
        raise malformed
    return root


def _explain(store: Store, sql: str, params: Mapping[str, Any] | None) -> _Node:
    try:
        dump = store.query(f"EXPLAIN AST {sql}", params, fmt="TabSeparatedRaw", readonly=True).decode()
    except StoreError as exc:
        error = engine_error(exc)
        if error.name == "READONLY":  # the read-only connection refuses SETTINGS even in EXPLAIN
            raise QueryRefused("SETTINGS clauses are refused: settings cannot be changed here") from exc
        raise InvalidQuery(str(error), error.code) from exc
    return _parse_dump(dump)


NETWORK_FUNCTIONS = frozenset(
    {"aiclassify", "aiembed", "aiextract", "aifilter", "aigenerate", "airedact", "aisimilarity", "aitranslate"}
)
"""Scalar functions that call a model provider over the network (lower case), refused like file readers."""


def _check_nodes(root: _Node) -> None:
    for child in root.children:
        if child.kind == "Literal":  # INTO OUTFILE 'path' [COMPRESSION 'x'] is the only literal at this level
            raise QueryRefused("INTO OUTFILE is refused: the endpoint never writes files on the server")
    for node in root.walk()[1:]:
        if node.kind == "Set":
            raise QueryRefused("SETTINGS clauses are refused: settings cannot be changed here")
        if node.kind not in READ_NODES:
            what = "APPLY column transformers" if node.kind == "ColumnsApplyTransformer" else f"{node.kind} nodes"
            raise QueryRefused(f"{what} are refused: the guard cannot prove they only read")
        if node.kind != "Function":
            continue
        name = node.name
        if node.parent is not None and node.parent.kind == "TableExpression":
            if name.lower() not in TABLE_FUNCTIONS:
                raise QueryRefused(
                    f"table function {name}() is refused: it can reach files, the network or other servers; "
                    "only numbers, zeros, generate_series, values, null and view run here"
                )
        elif name.lower() in FILE_FUNCTIONS:
            raise QueryRefused(f"function {name}() is refused: it reads files on the server")
        elif name.lower() in NETWORK_FUNCTIONS:
            raise QueryRefused(f"function {name}() is refused: it calls the network")


def _format_of(root: _Node, sql: str) -> str | None:
    """The FORMAT clause: the root's last Identifier child, when the canonical text ends with it."""
    names = [c.name for c in root.children if c.kind == "Identifier"]
    if names and sql.endswith(f" FORMAT {names[-1]}"):
        return names[-1]
    return None


def _check_show_tables(store: Store, root: _Node, sql: str, fmt: str | None, tenant: bool = False) -> None:
    """Allow SHOW TABLES [FROM db] / SHOW DATABASES with an optional [I]LIKE pattern, nothing else.

    The dump of SHOW TABLES omits its WHERE and LIMIT expressions, which can call
    any function, so the canonical text must be one of these exact shapes.
    """
    body = sql[: -len(f" FORMAT {fmt}")] if fmt else sql
    names = [c.name for c in root.children if c.kind == "Identifier"][: -1 if fmt else None]
    refused = QueryRefused(
        "this SHOW form is refused: only SHOW TABLES [FROM db] [LIKE '...'] and SHOW DATABASES [LIKE '...'] "
        "run here (their WHERE and LIMIT are hidden from the guard); query system.tables for more"
    )
    if len(names) > 1:
        raise refused
    if names:
        prefixes = [f"SHOW TABLES FROM {names[0]}", f"SHOW TABLES FROM `{names[0]}`"]
    else:
        prefixes = ["SHOW TABLES"] if tenant else ["SHOW TABLES", "SHOW DATABASES"]  # the others' databases are theirs
    for prefix in prefixes:
        rest = body[len(prefix) :]
        if body.startswith(prefix) and (rest == "" or rest.startswith((" LIKE '", " ILIKE '"))):
            if rest == "" or _is_one_literal(store, rest.split(" ", 2)[2]):
                return
    raise refused


def _is_one_literal(store: Store, text: str) -> bool:
    """Whether the engine parses ``text`` as exactly one string literal."""
    nodes = _explain(store, f"SELECT {text}", None).walk()
    shape = ["SelectWithUnionQuery", "ExpressionList", "SelectQuery", "ExpressionList", "Literal"]
    return [n.kind for n in nodes] == shape and nodes[-1].text.startswith("Literal '")


def inspect(
    store: Store, sql: str, params: Mapping[str, Any] | None = None, reader: Reader = tenancy.EVERYTHING
) -> CheckedQuery:
    """Accept ``sql`` as one read-only statement, or raise :class:`QueryRefused` saying why.

    ``params`` are values for the query's ``{name:Type}`` parameters, as
    ``Store.query`` takes them: ``EXPLAIN AST`` needs them to parse the statement.
    A tenant ``reader`` may only name its own views (run the result with its
    database current: :meth:`~aitrail.collector.store.Store.query_in`).
    """
    try:
        out = store.query(f"SELECT formatQuerySingleLine({sql_string(sql)})", fmt="TabSeparatedRaw", readonly=True)
    except StoreError as exc:
        error = engine_error(exc)
        raise InvalidQuery(str(error), error.code) from exc
    canonical = out.decode().rstrip("\n")
    root = _explain(store, canonical, params)
    if root.kind not in READ_STATEMENTS:
        words = canonical.split(" ")
        verb = " ".join(words[:2] if words[0].upper() == "SHOW" else words[:1]).upper()
        raise QueryRefused(f"{verb} statements are refused: {ALLOWED_SUMMARY}",
                           hint="aitrail's store is written only by the collector (OTLP); ask it questions with SELECT")
    _check_nodes(root)
    fmt = _format_of(root, canonical)
    if root.kind == "ShowTables":
        _check_show_tables(store, root, canonical, fmt, tenant=reader.tenant is not None)
    if reader.tenant is not None:
        databases = {r["name"] for r in store.rows("SELECT name FROM system.databases", readonly=True)}
        tenancy.check_scope(root, fmt, reader, databases)
    return CheckedQuery(canonical, fmt)


def check_readonly(store: Store, sql: str, params: Mapping[str, Any] | None = None) -> str:
    """The single read-only statement to run for ``sql``, or :class:`QueryRefused` saying what and why."""
    return inspect(store, sql, params).sql
