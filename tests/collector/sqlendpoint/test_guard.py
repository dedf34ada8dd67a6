"""The read-only guard on the real engine: reads pass and run, everything else is refused and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aitrail.collector.sqlendpoint.guard import InvalidQuery, check_readonly, engine_error, inspect
from aitrail.collector.store import Store, StoreLocation, open_store
from aitrail.errors import QueryRefused, StoreError

ROWS = 3


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One migrated store for the module, with a few spans; refused statements must leave them alone."""
    with open_store(StoreLocation(data_dir=tmp_path_factory.mktemp("guard") / "store")) as opened:
        opened.command(
            "INSERT INTO aitrail.otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName, Duration) VALUES "
            "('2025-03-01 12:00:00', 't1', 's1', 'chat', 'svc', 10), "
            "('2025-03-01 12:00:01', 't2', 's2', 'embed', 'svc', 20), "
            "('2025-03-01 12:00:02', 't3', 's3', 'chat', 'other', 30)"
        )
        yield opened


def _span_count(store: Store) -> int:
    return store.rows("SELECT count() AS n FROM aitrail.otel_traces")[0]["n"]


ALLOWED = [
    "SELECT 1",
    "SELECT count() FROM aitrail.otel_traces",
    "WITH chats AS (SELECT * FROM aitrail.otel_traces WHERE SpanName = 'chat') SELECT count() FROM chats",
    "SELECT TraceId FROM (SELECT TraceId, Duration FROM aitrail.otel_traces) WHERE Duration > 10",
    "SELECT a.TraceId, b.SpanName FROM aitrail.otel_traces AS a JOIN aitrail.otel_traces AS b USING (TraceId)",
    "SELECT TraceId FROM aitrail.otel_traces WHERE TraceId IN (SELECT TraceId FROM aitrail.otel_traces)",
    "SELECT 1 UNION ALL SELECT 2",
    "SELECT 1 INTERSECT SELECT 1",
    "SELECT number FROM numbers(3)",
    "SELECT * FROM generate_series(1, 3)",
    "SELECT * FROM values('a UInt8', 1, 2)",
    "SELECT * FROM view(SELECT 1)",
    "SELECT ServiceName, count() OVER (PARTITION BY ServiceName) FROM aitrail.otel_traces ORDER BY ServiceName",
    "SELECT arrayMap(x -> x * 2, [1, 2]), quantile(0.5)(Duration) FROM aitrail.otel_traces",
    "SELECT * EXCEPT (Duration) REPLACE (upper(SpanName) AS SpanName) FROM aitrail.otel_traces",
    "SELECT 'a;b' AS `x;y` -- ; DROP TABLE aitrail.otel_traces",
    "SHOW TABLES FROM aitrail",
    "SHOW TABLES FROM aitrail LIKE 'otel%'",
    "SHOW DATABASES",
    "DESCRIBE aitrail.otel_traces",
    "EXISTS aitrail.otel_traces",
    "EXISTS DATABASE aitrail",
    "SHOW CREATE TABLE aitrail.otel_traces",
    "SELECT 1 FORMAT JSON",
    "SELECT TraceId FROM aitrail.otel_traces FORMAT Native",
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_reads_pass_and_the_canonical_text_runs_read_only(store, sql):
    checked = check_readonly(store, sql)
    assert ";" not in checked.replace("'a;b'", "").replace("`x;y`", "")
    store.query(checked, fmt="TabSeparated", readonly=True)  # runs on the engine's read-only connection


def test_the_canonical_text_is_one_statement_that_reads_the_rows(store):
    checked = check_readonly(store, "select count()\n  from aitrail.otel_traces -- trailing ; comment\n;")
    assert checked == "SELECT count() FROM aitrail.otel_traces"
    assert store.query(checked, fmt="TabSeparated", readonly=True) == f"{ROWS}\n".encode()


def test_show_tables_lists_the_schema(store):
    names = store.query(check_readonly(store, "SHOW TABLES FROM aitrail"), fmt="TabSeparated", readonly=True)
    assert {"otel_traces", "otel_logs", "ai_generations"} <= set(names.decode().split())


def test_a_format_clause_is_kept_and_reported(store):
    checked = inspect(store, "SELECT count() AS n FROM aitrail.otel_traces FORMAT JSON")
    assert checked.format == "JSON" and checked.sql.endswith(" FORMAT JSON")
    result = json.loads(store.query(checked.sql, fmt="TabSeparated", readonly=True))
    assert result["data"] == [{"n": ROWS}]
    assert inspect(store, "SELECT 1").format is None
    assert inspect(store, "SHOW TABLES FROM aitrail").format is None  # the database is not a format
    assert inspect(store, "SHOW TABLES FROM aitrail FORMAT JSONEachRow").format == "JSONEachRow"


def test_query_parameters_are_bound_for_the_check(store):
    sql = check_readonly(store, "SELECT TraceId FROM aitrail.otel_traces WHERE Duration = {d:UInt64}", {"d": 20})
    assert store.query(sql, {"d": 20}, fmt="TabSeparated", readonly=True) == b"t2\n"
    with pytest.raises(InvalidQuery, match="UNKNOWN_QUERY_PARAMETER"):
        check_readonly(store, "SELECT {missing:UInt8}")


def test_syntax_errors_are_refused_with_the_engine_message(store):
    with pytest.raises(InvalidQuery) as caught:
        check_readonly(store, "SELEC 1")
    assert caught.value.code == 62 and "SYNTAX_ERROR" in str(caught.value)
    assert "formatQuerySingleLine" not in str(caught.value)  # the guard's own probe is not the client's business
    with pytest.raises(InvalidQuery, match="Empty query"):
        check_readonly(store, "  -- nothing\n")


REFUSED = [
    ("INSERT INTO aitrail.otel_traces (TraceId) VALUES ('x')", "INSERT"),
    ("INSERT INTO aitrail.otel_traces (TraceId) SELECT TraceId FROM aitrail.otel_traces", "INSERT"),
    ("CREATE TABLE aitrail.evil (a UInt8) ENGINE = Memory", "CREATE"),
    ("DROP TABLE aitrail.otel_traces", "DROP"),
    ("DROP DATABASE aitrail", "DROP"),
    ("ALTER TABLE aitrail.otel_traces DELETE WHERE 1", "ALTER"),
    ("DELETE FROM aitrail.otel_traces WHERE 1", "DELETE"),
    ("TRUNCATE TABLE aitrail.otel_traces", "TRUNCATE"),
    ("OPTIMIZE TABLE aitrail.otel_traces FINAL", "OPTIMIZE"),
    ("SYSTEM DROP DNS CACHE", "SYSTEM"),
    ("SET readonly = 0", "SET"),
    ("KILL QUERY WHERE 1", "KILL"),
    ("GRANT SELECT ON *.* TO someone", "GRANT"),
    ("RENAME TABLE aitrail.otel_traces TO aitrail.gone", "RENAME"),
    ("USE system", "USE"),
    ("EXPLAIN SELECT 1", "EXPLAIN"),
    ("SHOW PROCESSLIST", "SHOW PROCESSLIST"),
    ("SELECT 1 SETTINGS readonly = 0", "SETTINGS"),
    ("SELECT 1 SETTINGS max_threads = 1", "SETTINGS"),
    ("SELECT * FROM (SELECT 1 SETTINGS max_threads = 1)", "SETTINGS"),
    ("SELECT * FROM file('/etc/passwd')", "file()"),
    ("SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')", "url()"),
    ("SELECT * FROM s3('http://127.0.0.1:1/bucket/x.csv')", "s3()"),
    ("SELECT * FROM remote('127.0.0.1:1', system.one)", "remote()"),
    ("SELECT * FROM mysql('127.0.0.1:1', 'db', 't', 'u', 'p')", "mysql()"),
    ("SELECT * FROM postgresql('127.0.0.1:1', 'db', 't', 'u', 'p')", "postgresql()"),
    ("SELECT * FROM executable('x.sh', TSV, 'a String')", "executable()"),
    ("SELECT * FROM filesystem('/')", "filesystem()"),
    ("SELECT * FROM python(x)", "python()"),
    ("DESCRIBE file('/etc/passwd')", "file()"),
    ("SELECT file('/etc/passwd')", "file()"),
    ("SELECT FILE('/etc/passwd')", "FILE()"),
    ("SELECT arrayMap(p -> file(p), ['/etc/passwd'])", "file()"),
    ("SELECT * FROM (SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String'))", "url()"),
    ("SELECT * FROM numbers(1) AS a JOIN s3('http://127.0.0.1:1/b/x.csv') AS b ON a.number = b.c1", "s3()"),
    ("WITH x AS (SELECT * FROM file('/etc/passwd')) SELECT * FROM x", "file()"),
    ("SELECT 1 WHERE 1 IN (SELECT * FROM remote('127.0.0.1:1', system.one))", "remote()"),
    ("SELECT * FROM view(SELECT * FROM file('/etc/passwd'))", "file()"),
    ("SELECT 1 UNION ALL SELECT * FROM file('/etc/passwd')", "file()"),
    ("SELECT * APPLY file FROM (SELECT '/etc/passwd' AS p)", "APPLY"),
    ("SHOW TABLES FROM system WHERE file('/etc/passwd') != ''", "SHOW"),
    ("SHOW TABLES LIKE '%' LIMIT 1", "SHOW"),
    ("SHOW TABLES INTO OUTFILE '/tmp/aitrail-never'", "INTO OUTFILE"),
    # A line break in an alias would let the alias forge lines of the EXPLAIN AST dump.
    ("SELECT * FROM numbers(1) AS `a\n      Function file`", "syntax tree"),
    ("SELECT `x\n   Function file` FROM numbers(1)", "syntax tree"),
]


@pytest.mark.parametrize(("sql", "why"), REFUSED)
def test_everything_else_is_refused_and_changes_nothing(store, sql, why):
    with pytest.raises(QueryRefused) as caught:
        check_readonly(store, sql)
    assert not isinstance(caught.value, InvalidQuery), caught.value  # refused by policy, not by the parser
    assert why in str(caught.value)
    assert _span_count(store) == ROWS


def test_several_statements_are_refused_before_any_runs(store):
    with pytest.raises(QueryRefused, match="Multi-statements"):
        check_readonly(store, "SELECT 1; DROP TABLE aitrail.otel_traces")
    with pytest.raises(QueryRefused, match="Multi-statements"):
        check_readonly(store, "SELECT 1; INSERT INTO aitrail.otel_traces (TraceId) VALUES ('x')")
    assert _span_count(store) == ROWS


def test_into_outfile_is_refused_and_no_file_appears(store, tmp_path: Path):
    target = tmp_path / "out.tsv"
    for sql in (
        f"SELECT * FROM aitrail.otel_traces INTO OUTFILE '{target}'",
        f"SELECT 1 INTO OUTFILE '{target}' COMPRESSION 'gzip'",
        f"SELECT 1 INTO OUTFILE '{target}' AND STDOUT FORMAT CSV",
        f"DESCRIBE aitrail.otel_traces INTO OUTFILE '{target}'",
    ):
        with pytest.raises(QueryRefused, match="INTO OUTFILE"):
            check_readonly(store, sql)
    assert not target.exists()


def test_engine_errors_are_taken_apart():
    doubled = StoreError(
        "Code: 164. DB::Exception: Code: 164. DB::Exception: Cannot modify 'readonly' setting in readonly mode. "
        "(READONLY) (version 26.9.2.1). (READONLY)"
    )
    error = engine_error(doubled)
    assert (error.code, error.name) == (164, "READONLY")
    assert str(error) == "Code: 164. DB::Exception: Cannot modify 'readonly' setting in readonly mode. (READONLY)"
    assert engine_error(StoreError("no code here")).code is None
