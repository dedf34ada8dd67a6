"""Tenant A's reader cannot read tenant B's rows through the SQL endpoint, whatever the query's shape.

Every shape below is sent over HTTP with A's token (the password of HTTP
Basic, as clickhouse-connect sends it). Whatever the answer — rows or an
error — none of B's strings (prompt, log body, metric name, service, team,
tenant id, B's database name) may appear in it. Shapes marked ``REFUSED``
must also be refused; shapes marked ``OK`` must run (on A's rows only).
``SHAPES`` is counted in the README's Security section.
"""

from __future__ import annotations

import urllib.parse

import clickhouse_connect
import pytest
from security_support import A, B, B_MARKERS, basic, http, sql

from aitrail.collector.sqlendpoint.tenancy import TENANT_TABLES, tenant_database

REFUSED, OK, EITHER = "refused", "ok", "either"
BDB = tenant_database(B)
ADB = tenant_database(A)
G = "ai_generations"

SHAPES: list[tuple[str, str, str]] = [
    # -- direct and qualified names ---------------------------------------------------------------------------
    ("own view, unqualified", f"SELECT tenant, team, prompt FROM {G}", OK),
    ("own view, qualified", f"SELECT tenant, prompt FROM {ADB}.{G}", OK),
    ("own traces", "SELECT ResourceAttributes, SpanAttributes FROM otel_traces", OK),
    ("own logs", "SELECT Body, LogAttributes, ResourceAttributes FROM otel_logs", OK),
    ("own metrics", "SELECT MetricName, ResourceAttributes FROM otel_metrics_sum", OK),
    ("own alias columns", "SELECT ResourceAttributeItems FROM otel_traces", OK),
    ("B's tenant by WHERE", f"SELECT * FROM {G} WHERE tenant = '{B}'", OK),
    ("B's tenant by OR", f"SELECT * FROM {G} WHERE tenant = '{B}' OR 1 = 1", OK),
    ("aitrail.ai_generations", f"SELECT * FROM aitrail.{G}", REFUSED),
    ("aitrail.otel_traces", "SELECT * FROM aitrail.otel_traces", REFUSED),
    ("aitrail.otel_logs", "SELECT * FROM aitrail.otel_logs", REFUSED),
    ("aitrail.otel_metrics_sum", "SELECT * FROM aitrail.otel_metrics_sum", REFUSED),
    ("aitrail.otel_traces_trace_id_ts", "SELECT * FROM aitrail.otel_traces_trace_id_ts", REFUSED),
    ("aitrail.schema_migrations", "SELECT * FROM aitrail.schema_migrations", REFUSED),
    ("aitrail.ai_generations_mv", "SELECT * FROM aitrail.ai_generations_mv", REFUSED),
    ("unqualified mv", "SELECT * FROM ai_generations_mv", REFUSED),
    ("unqualified trace_id_ts", "SELECT * FROM otel_traces_trace_id_ts", REFUSED),
    ("backticks", f"SELECT * FROM `aitrail`.`{G}`", REFUSED),
    ("double quotes", f'SELECT * FROM "aitrail"."{G}"', REFUSED),
    ("one quoted dotted name", f"SELECT * FROM `aitrail.{G}`", REFUSED),
    ("upper case database", f"SELECT * FROM AITRAIL.{G}", REFUSED),
    ("upper case keywords", f"select * from AItrail.{G.upper()}", REFUSED),
    ("spaces around the dot", f"SELECT * FROM aitrail . {G}", REFUSED),
    ("comment inside the name", f"SELECT * FROM aitrail/* x */.{G}", REFUSED),
    ("comment before FROM", f"SELECT * /* ; */ FROM aitrail.{G}", REFUSED),
    ("line comment then newline", f"SELECT * FROM {G} -- hidden\nUNION ALL SELECT * FROM aitrail.{G}", REFUSED),
    ("hash comment", f"SELECT * FROM {G} # x\nUNION ALL SELECT * FROM aitrail.{G}", REFUSED),
    ("escaped identifier", f"SELECT * FROM `\\x61itrail`.{G}", REFUSED),
    ("cyrillic a", f"SELECT * FROM `\u0430itrail`.{G}", REFUSED),
    ("fullwidth a", f"SELECT * FROM `\uff41itrail`.{G}", REFUSED),
    ("zero-width space", f"SELECT * FROM `aitrail\u200b`.{G}", REFUSED),
    ("unicode alias", f"SELECT * FROM {G} AS `\u00e9\u00e8`", OK),
    ("B's database", f"SELECT * FROM {BDB}.{G}", REFUSED),
    ("B's database quoted", f"SELECT * FROM `{BDB}`.`{G}`", REFUSED),
    ("B's traces", f"SELECT * FROM {BDB}.otel_traces", REFUSED),
    ("B's logs", f"SELECT * FROM {BDB}.otel_logs", REFUSED),
    ("default database", f"SELECT * FROM default.{G}", REFUSED),
    ("several statements", f"SELECT 1; SELECT * FROM aitrail.{G}", REFUSED),
    ("statement after comment", f"SELECT 1 /* ; */; SELECT * FROM aitrail.{G}", REFUSED),
    ("alias with a line break", f"SELECT * FROM {G} AS `x\nTableIdentifier {ADB}.{G}`", REFUSED),
    ("alias spelled like a database", f"SELECT aitrail.prompt FROM {G} AS aitrail", REFUSED),
    ("table alias aitrail", f"SELECT * FROM {G} AS aitrail", OK),
    # -- subqueries ------------------------------------------------------------------------------------------
    ("FROM subquery", f"SELECT * FROM (SELECT * FROM aitrail.{G})", REFUSED),
    ("nested subquery", f"SELECT * FROM (SELECT * FROM (SELECT * FROM aitrail.{G}))", REFUSED),
    ("scalar subquery", f"SELECT (SELECT groupArray(prompt) FROM aitrail.{G})", REFUSED),
    ("EXISTS subquery", f"SELECT count() FROM {G} WHERE exists(SELECT 1 FROM aitrail.{G})", REFUSED),
    ("IN subquery", f"SELECT * FROM {G} WHERE prompt IN (SELECT prompt FROM aitrail.{G})", REFUSED),
    ("IN table", f"SELECT 'x' IN aitrail.{G}", REFUSED),
    ("IN table in parentheses", f"SELECT 'x' IN (aitrail.{G})", REFUSED),
    ("NOT IN table", f"SELECT * FROM {G} WHERE tenant NOT IN aitrail.{G}", REFUSED),
    ("GLOBAL IN", f"SELECT * FROM {G} WHERE tenant GLOBAL IN (SELECT tenant FROM aitrail.{G})", REFUSED),
    ("IN B's view", f"SELECT '{B}' IN {BDB}.{G}", REFUSED),
    ("subquery in WHERE", f"SELECT * FROM {G} WHERE (SELECT count() FROM {BDB}.{G}) > 0", REFUSED),
    ("subquery in ORDER BY", f"SELECT * FROM {G} ORDER BY (SELECT any(prompt) FROM aitrail.{G})", REFUSED),
    ("subquery in LIMIT", f"SELECT * FROM {G} LIMIT (SELECT count() FROM aitrail.{G})", REFUSED),
    ("subquery in LIKE", f"SELECT * FROM {G} WHERE prompt LIKE (SELECT any(prompt) FROM aitrail.{G})", REFUSED),
    ("subquery in a lambda", f"SELECT arrayMap(x -> (SELECT any(prompt) FROM aitrail.{G}), [1])", REFUSED),
    ("subquery in a window", f"SELECT count() OVER (PARTITION BY (SELECT 1 FROM aitrail.{G} LIMIT 1)) FROM {G}", REFUSED),
    ("subquery in arrayJoin", f"SELECT arrayJoin([(SELECT any(prompt) FROM aitrail.{G})])", REFUSED),
    ("subquery in numbers()", f"SELECT * FROM numbers((SELECT count() FROM aitrail.{G}))", REFUSED),
    ("own subqueries", f"SELECT * FROM {G} WHERE tenant IN (SELECT ResourceAttributes['aitrail.tenant.id'] FROM otel_traces)", OK),
    # -- joins -----------------------------------------------------------------------------------------------
    ("JOIN ON", f"SELECT * FROM {G} AS a JOIN aitrail.{G} AS b ON 1 = 1", REFUSED),
    ("comma join", f"SELECT * FROM {G}, aitrail.{G}", REFUSED),
    ("CROSS JOIN B", f"SELECT * FROM {G} CROSS JOIN {BDB}.{G}", REFUSED),
    ("LEFT JOIN USING", f"SELECT * FROM {G} LEFT JOIN aitrail.{G} USING (trace_id)", REFUSED),
    ("PASTE JOIN", f"SELECT * FROM {G} PASTE JOIN aitrail.{G}", REFUSED),
    ("ASOF JOIN", f"SELECT * FROM {G} AS a ASOF JOIN aitrail.{G} AS b ON a.trace_id = b.trace_id AND a.timestamp >= b.timestamp", REFUSED),
    ("self join", f"SELECT * FROM {G} AS x JOIN {G} AS y USING (trace_id)", OK),
    # -- UNION, INTERSECT, EXCEPT ----------------------------------------------------------------------------------
    ("UNION ALL", f"SELECT prompt FROM {G} UNION ALL SELECT prompt FROM aitrail.{G}", REFUSED),
    ("UNION DISTINCT", f"SELECT prompt FROM {G} UNION DISTINCT SELECT prompt FROM aitrail.{G}", REFUSED),
    ("UNION in parentheses", f"(SELECT prompt FROM {G}) UNION ALL (SELECT prompt FROM {BDB}.{G})", REFUSED),
    ("INTERSECT", f"SELECT prompt FROM {G} INTERSECT SELECT prompt FROM aitrail.{G}", REFUSED),
    ("EXCEPT", f"SELECT prompt FROM aitrail.{G} EXCEPT SELECT prompt FROM {G}", REFUSED),
    # -- CTEs ------------------------------------------------------------------------------------------------
    ("CTE", f"WITH x AS (SELECT * FROM aitrail.{G}) SELECT * FROM x", REFUSED),
    ("CTE shadowing the view", f"WITH {G} AS (SELECT * FROM aitrail.{G}) SELECT * FROM {G}", REFUSED),
    ("CTE of an identifier", f"WITH aitrail.{G} AS x SELECT * FROM x", REFUSED),
    ("CTE scalar", f"WITH (SELECT groupArray(prompt) FROM aitrail.{G}) AS p SELECT p", REFUSED),
    ("CTE in IN", f"WITH x AS (SELECT tenant FROM aitrail.{G}) SELECT * FROM {G} WHERE tenant IN x", REFUSED),
    ("recursive CTE", f"WITH RECURSIVE r AS (SELECT prompt FROM aitrail.{G}) SELECT * FROM r", REFUSED),
    ("CTE out of scope", "SELECT count() FROM (WITH otel_traces AS (SELECT 1 AS x) SELECT * FROM otel_traces) AS s, otel_traces AS t", OK),
    ("own CTE", f"WITH mine AS (SELECT * FROM {G}) SELECT tenant, prompt FROM mine", OK),
    # -- table functions -------------------------------------------------------------------------------------
    ("merge() by name", f"SELECT * FROM merge('aitrail', '^{G}$')", REFUSED),
    ("merge() by identifier", f"SELECT * FROM merge(aitrail, '{G}')", REFUSED),
    ("merge() by regexp", "SELECT * FROM merge(REGEXP('^aitrail'), '.*')", REFUSED),
    ("merge() of tenant dbs", "SELECT * FROM merge(REGEXP('^aitrail_tenant_'), '.*')", REFUSED),
    ("view() of aitrail", f"SELECT * FROM view(SELECT * FROM aitrail.{G})", REFUSED),
    ("view() of the own view", f"SELECT * FROM view(SELECT * FROM {G})", REFUSED),
    ("viewIfPermitted()", f"SELECT * FROM viewIfPermitted(SELECT * FROM aitrail.{G} ELSE null('prompt String'))", REFUSED),
    ("remote()", f"SELECT * FROM remote('127.0.0.1', aitrail.{G})", REFUSED),
    ("remoteSecure()", f"SELECT * FROM remoteSecure('127.0.0.1', aitrail, {G})", REFUSED),
    ("cluster()", f"SELECT * FROM cluster('default', aitrail.{G})", REFUSED),
    ("clusterAllReplicas()", f"SELECT * FROM clusterAllReplicas('default', aitrail, {G})", REFUSED),
    ("loop()", f"SELECT * FROM loop(aitrail, {G}) LIMIT 1", REFUSED),
    ("mergeTreeIndex()", f"SELECT * FROM mergeTreeIndex(aitrail, {G})", REFUSED),
    ("url()", f"SELECT * FROM url('http://127.0.0.1:1/?query=SELECT+1', TSV)", REFUSED),
    ("file()", "SELECT * FROM file('/etc/passwd', 'LineAsString')", REFUSED),
    ("s3()", "SELECT * FROM s3('http://127.0.0.1:1/b/k', 'TSV')", REFUSED),
    ("python()", "SELECT * FROM python(x)", REFUSED),
    ("dictionary()", "SELECT * FROM dictionary('d')", REFUSED),
    ("input()", "SELECT * FROM input('x String')", REFUSED),
    ("generateRandom()", "SELECT * FROM generateRandom('x String') LIMIT 1", REFUSED),
    ("parameterized view call", f"SELECT * FROM {G}(x = 1)", REFUSED),
    ("numbers()", "SELECT * FROM numbers(3)", OK),
    ("values()", "SELECT * FROM values('x String', 'a', 'b')", OK),
    ("generate_series()", "SELECT * FROM generate_series(1, 3)", OK),
    ("null()", "SELECT * FROM null('x String')", OK),
    # -- system and information_schema -----------------------------------------------------------------------------------
    ("system.tables", "SELECT * FROM system.tables", REFUSED),
    ("system.tables quoted", "SELECT * FROM `system`.`tables`", REFUSED),
    ("SYSTEM.TABLES", "SELECT * FROM SYSTEM.TABLES", REFUSED),
    ("system.parts", "SELECT * FROM system.parts", REFUSED),
    ("system.parts_columns", "SELECT * FROM system.parts_columns", REFUSED),
    ("system.columns", "SELECT * FROM system.columns", REFUSED),
    ("system.databases", "SELECT * FROM system.databases", REFUSED),
    ("system.query_log", "SELECT * FROM system.query_log", REFUSED),
    ("system.processes", "SELECT * FROM system.processes", REFUSED),
    ("system.errors", "SELECT * FROM system.errors", REFUSED),
    ("system.text_log", "SELECT * FROM system.text_log", REFUSED),
    ("system.dictionaries", "SELECT * FROM system.dictionaries", REFUSED),
    ("system.mutations", "SELECT * FROM system.mutations", REFUSED),
    ("system.query_cache", "SELECT * FROM system.query_cache", REFUSED),
    ("system tables in a subquery", "SELECT (SELECT groupArray(name) FROM system.tables)", REFUSED),
    ("system.tables IN", "SELECT 'x' IN system.tables", REFUSED),
    ("information_schema.tables", "SELECT * FROM information_schema.tables", REFUSED),
    ("INFORMATION_SCHEMA.COLUMNS", "SELECT * FROM INFORMATION_SCHEMA.COLUMNS", REFUSED),
    ("system.settings", "SELECT name, value FROM system.settings WHERE name = 'readonly'", OK),
    ("system.one", "SELECT * FROM system.one", OK),
    ("system.numbers", "SELECT * FROM system.numbers LIMIT 2", OK),
    # -- functions that reach tables by name ------------------------------------------------------------------------------
    ("dictGet", "SELECT dictGet('aitrail.d', 'x', toUInt64(1))", REFUSED),
    ("dictGetString", "SELECT dictGetString('d', 'x', toUInt64(1))", REFUSED),
    ("dictHas", "SELECT dictHas('d', toUInt64(1))", REFUSED),
    ("dictGet quoted name", "SELECT `dictGet`('d', 'x', toUInt64(1))", REFUSED),
    ("joinGet", f"SELECT joinGet('aitrail.{G}', 'prompt', 'x')", REFUSED),
    ("joinGet identifier", f"SELECT joinGet(aitrail.{G}, 'prompt', 'x')", REFUSED),
    ("hasColumnInTable", f"SELECT hasColumnInTable('aitrail', '{G}', 'prompt')", REFUSED),
    ("__getScalar", "SELECT __getScalar('x')", REFUSED),
    ("getMacro", "SELECT getMacro('x')", REFUSED),
    ("file function", "SELECT file('/etc/passwd')", REFUSED),
    ("aiGenerate", "SELECT aiGenerate('hello')", REFUSED),
    ("formatQuery is text only", f"SELECT formatQuery('SELECT * FROM aitrail.{G}')", OK),
    # -- settings --------------------------------------------------------------------------------------------
    ("SETTINGS readonly", f"SELECT * FROM {G} SETTINGS readonly = 0", REFUSED),
    ("SETTINGS additional_table_filters", f"SELECT * FROM {G} SETTINGS additional_table_filters = {{'x': '1'}}", REFUSED),
    ("SETTINGS optimizer", f"SELECT * FROM {G} SETTINGS query_plan_filter_push_down = 0", REFUSED),
    ("SETTINGS in a subquery", f"SELECT * FROM (SELECT * FROM {G} SETTINGS max_threads = 1)", REFUSED),
    ("SET statement", "SET readonly = 0", REFUSED),
    ("USE aitrail", "USE aitrail", REFUSED),
    ("USE B", f"USE {BDB}", REFUSED),
    # -- EXPLAIN, SHOW, DESCRIBE, EXISTS ---------------------------------------------------------------------------------
    ("EXPLAIN", f"EXPLAIN SELECT * FROM aitrail.{G}", REFUSED),
    ("EXPLAIN AST", f"EXPLAIN AST SELECT * FROM aitrail.{G}", REFUSED),
    ("EXPLAIN SYNTAX", f"EXPLAIN SYNTAX SELECT * FROM {BDB}.{G}", REFUSED),
    ("EXPLAIN ESTIMATE", f"EXPLAIN ESTIMATE SELECT * FROM aitrail.{G}", REFUSED),
    ("EXPLAIN QUERY TREE", f"EXPLAIN QUERY TREE SELECT * FROM {G}", REFUSED),
    ("SHOW CREATE aitrail table", f"SHOW CREATE TABLE aitrail.{G}", REFUSED),
    ("SHOW CREATE B's view", f"SHOW CREATE TABLE {BDB}.{G}", REFUSED),
    ("SHOW CREATE VIEW B", f"SHOW CREATE VIEW {BDB}.{G}", REFUSED),
    ("SHOW CREATE DATABASE", "SHOW CREATE DATABASE aitrail", REFUSED),
    ("SHOW CREATE own view", f"SHOW CREATE TABLE {G}", OK),
    ("SHOW TABLES", "SHOW TABLES", OK),
    ("SHOW TABLES FROM own", f"SHOW TABLES FROM {ADB}", OK),
    ("SHOW TABLES FROM aitrail", "SHOW TABLES FROM aitrail", REFUSED),
    ("SHOW TABLES FROM B", f"SHOW TABLES FROM {BDB}", REFUSED),
    ("SHOW TABLES FROM system", "SHOW TABLES FROM system", REFUSED),
    ("SHOW DATABASES", "SHOW DATABASES", REFUSED),
    ("SHOW DATABASES LIKE", "SHOW DATABASES LIKE 'aitrail%'", REFUSED),
    ("SHOW PROCESSLIST", "SHOW PROCESSLIST", REFUSED),
    ("SHOW COLUMNS", f"SHOW COLUMNS FROM aitrail.{G}", REFUSED),
    ("SHOW INDEX", f"SHOW INDEX FROM aitrail.{G}", REFUSED),
    ("SHOW GRANTS", "SHOW GRANTS", REFUSED),
    ("SHOW USERS", "SHOW USERS", REFUSED),
    ("SHOW SETTINGS", "SHOW SETTINGS LIKE '%'", REFUSED),
    ("SHOW DICTIONARIES", "SHOW DICTIONARIES", REFUSED),
    ("DESCRIBE aitrail", f"DESCRIBE aitrail.{G}", REFUSED),
    ("DESCRIBE TABLE B", f"DESCRIBE TABLE {BDB}.{G}", REFUSED),
    ("DESCRIBE subquery", f"DESC (SELECT * FROM aitrail.{G})", REFUSED),
    ("DESCRIBE merge()", "DESCRIBE TABLE merge('aitrail', '.*')", REFUSED),
    ("DESCRIBE own", f"DESCRIBE {G}", OK),
    ("EXISTS aitrail table", f"EXISTS TABLE aitrail.{G}", REFUSED),
    ("EXISTS B's view", f"EXISTS {BDB}.{G}", REFUSED),
    ("EXISTS DATABASE aitrail", "EXISTS DATABASE aitrail", REFUSED),
    ("EXISTS own", f"EXISTS TABLE {G}", OK),
    ("EXISTS own database", f"EXISTS DATABASE {ADB}", OK),
    # -- output tricks ---------------------------------------------------------------------------------------
    ("FORMAT clause", f"SELECT * FROM aitrail.{G} FORMAT JSON", REFUSED),
    ("INTO OUTFILE", f"SELECT * FROM {G} INTO OUTFILE '/tmp/aitrail-leak.tsv'", REFUSED),
    ("APPLY", f"SELECT * APPLY toString FROM {G}", REFUSED),
    ("FINAL and SAMPLE", f"SELECT * FROM {G} FINAL", EITHER),
    ("PREWHERE on the view", f"SELECT * FROM {G} PREWHERE tenant = '{B}'", EITHER),
    ("virtual columns", f"SELECT _part, _table, _database FROM {G}", EITHER),
    # -- the engine evaluating a reader's condition on other tenants' rows (error messages carry values) ------------
    ("cast error oracle, generations", f"SELECT count() FROM {G} WHERE toUInt8(prompt) = 1", EITHER),
    ("cast error oracle, with AND", f"SELECT count() FROM {G} WHERE timestamp > '2000-01-01' AND toUInt8(prompt) = 1", EITHER),
    ("cast error oracle, traces", "SELECT count() FROM otel_traces WHERE toUInt8(SpanAttributes['aitrail.prompt.text']) = 1", EITHER),
    ("cast error oracle, resource", "SELECT count() FROM otel_traces WHERE toUInt8(ResourceAttributes['service.name']) = 1", EITHER),
    ("cast error oracle, logs", "SELECT count() FROM otel_logs WHERE toUInt8(Body) = 1", EITHER),
    ("cast error oracle, metrics", "SELECT count() FROM otel_metrics_sum WHERE toUInt8(MetricName) = 1", EITHER),
    ("throwIf oracle", f"SELECT count() FROM {G} WHERE throwIf(prompt = 'SECRET-B-PROMPT', 'found') = 0", EITHER),
    ("division oracle", f"SELECT count() FROM {G} WHERE intDiv(1, length(prompt) - 15) = 0", EITHER),
    ("oracle in a subquery", f"SELECT * FROM (SELECT * FROM {G} WHERE toUInt8(team) = 1)", EITHER),
    # -- the engine's "Maybe you meant ...?" hints (tenant readers get them without database names) -------------
    ("misspelled view", "SELECT * FROM ai_generation", EITHER),
    ("aitrail-only table, unqualified", "SELECT * FROM schema_migrations", EITHER),
    ("system table, unqualified", "SELECT * FROM tables", EITHER),
    ("misspelled in a join", f"SELECT * FROM {G} AS a JOIN ai_generationss AS b ON 1", EITHER),
    ("oracle in a join", f"SELECT count() FROM {G} AS x JOIN otel_traces AS y ON x.trace_id = y.TraceId WHERE toUInt8(y.ServiceName) = 1", EITHER),
]
"""(what, SQL, expectation), sent as tenant A."""

PARAM_SHAPES: list[tuple[str, str, dict[str, str], str]] = [
    ("Identifier parameter naming aitrail", "SELECT * FROM {t:Identifier}", {"t": f"aitrail.{G}"}, REFUSED),
    ("Identifier parameter naming B", "SELECT * FROM {t:Identifier}", {"t": f"{BDB}.{G}"}, REFUSED),
    ("database parameter", "SELECT * FROM {db:Identifier}." + G, {"db": "aitrail"}, REFUSED),
    ("IN parameter", "SELECT 'x' IN {t:Identifier}", {"t": f"aitrail.{G}"}, REFUSED),
    ("String parameter", f"SELECT * FROM {G} WHERE tenant = {{t:String}}", {"t": B}, OK),
    ("own view parameter", "SELECT tenant FROM {t:Identifier}", {"t": G}, OK),
]

TRANSPORT_SHAPES: list[tuple[str, dict[str, str], dict[str, str], str]] = [
    # (what, URL fields, headers, expectation) for "SELECT tenant, prompt FROM ai_generations"
    ("database=aitrail", {"database": "aitrail"}, {}, REFUSED),
    ("database=B", {"database": BDB}, {}, REFUSED),
    ("X-ClickHouse-Database: aitrail", {}, {"X-ClickHouse-Database": "aitrail"}, REFUSED),
    ("database=own", {"database": ADB}, {}, OK),
    ("URL settings readonly=0", {"readonly": "0"}, {}, OK),
    ("URL setting additional_table_filters", {"additional_table_filters": "{}"}, {}, OK),
    ("session_id", {"session_id": "s1"}, {}, OK),
    ("user of B, password of A", {}, {"X-ClickHouse-User": "tenant-b"}, OK),
]

WRITE_SHAPES: list[str] = [
    f"INSERT INTO {G} (tenant, prompt) VALUES ('{A}', 'x')",
    f"INSERT INTO aitrail.{G} (tenant, prompt) VALUES ('{B}', 'x')",
    f"INSERT INTO {G} SELECT * FROM {G}",
    "INSERT INTO FUNCTION file('/tmp/aitrail-leak.tsv', 'TSV') SELECT 1",
    f"CREATE OR REPLACE VIEW {G} AS SELECT * FROM aitrail.{G}",
    f"CREATE VIEW {ADB}.leak AS SELECT * FROM aitrail.{G}",
    "CREATE TABLE t (x UInt8) ENGINE = Memory",
    "CREATE DATABASE leak",
    f"DROP VIEW {G}",
    f"DROP TABLE aitrail.{G}",
    f"DROP DATABASE {ADB}",
    f"TRUNCATE TABLE aitrail.{G}",
    f"ALTER TABLE aitrail.{G} DELETE WHERE 1",
    f"ALTER TABLE aitrail.{G} UPDATE prompt = '' WHERE 1",
    f"DELETE FROM aitrail.{G} WHERE 1",
    f"RENAME TABLE {G} TO old",
    f"EXCHANGE TABLES {G} AND {BDB}.{G}",
    f"DETACH TABLE {G}",
    f"ATTACH TABLE {G}",
    f"OPTIMIZE TABLE aitrail.{G} FINAL",
    "SYSTEM FLUSH LOGS",
    "SYSTEM DROP QUERY CACHE",
    "KILL QUERY WHERE 1",
    "GRANT SELECT ON aitrail.* TO default",
    "CREATE USER leak IDENTIFIED BY 'x'",
    f"CREATE ROW POLICY p ON aitrail.{G} USING 1 TO ALL",
    "CREATE FUNCTION leak AS x -> x",
    "BACKUP DATABASE aitrail TO File('/tmp/b')",
    "SET allow_ddl = 1",
]


def _leaks(answer, sent: str = "") -> list[str]:  # noqa: ANN001
    """B's strings in an answer, except those the query itself spelled (an error may quote the query back)."""
    seen = answer.text + " ".join(f"{k}: {v}" for k, v in answer.headers.items())
    return [m for m in B_MARKERS if m in seen and m not in sent]


def _judge(answer, expect: str, sent: str = "") -> None:  # noqa: ANN001
    leaks = _leaks(answer, sent)
    assert not leaks, f"tenant B's data reached tenant A: {leaks} in {answer.text[:500]}"
    if expect == REFUSED:
        assert answer.status >= 400, answer.text[:300]
    elif expect == OK:
        assert answer.status == 200, answer.text[:300]


@pytest.mark.parametrize(("what", "query", "expect"), SHAPES, ids=[s[0] for s in SHAPES])
def test_query_shape(secured, what, query, expect):
    _judge(sql(secured.sql, query, secured.tokens["a"]), expect, query)


@pytest.mark.parametrize(("what", "query", "params", "expect"), PARAM_SHAPES, ids=[s[0] for s in PARAM_SHAPES])
def test_query_parameters(secured, what, query, params, expect):
    _judge(sql(secured.sql, query, secured.tokens["a"], params=params), expect, query + repr(params))


@pytest.mark.parametrize(("what", "fields", "headers", "expect"), TRANSPORT_SHAPES, ids=[s[0] for s in TRANSPORT_SHAPES])
def test_transport_shapes(secured, what, fields, headers, expect):
    query = urllib.parse.urlencode({"default_format": "TabSeparated", **fields})
    answer = http(f"{secured.sql}/?{query}", f"SELECT tenant, prompt FROM {G}".encode(), {**basic(secured.tokens["a"]), **headers})
    _judge(answer, expect, repr(fields) + repr(headers))
    if expect == OK:
        assert answer.text.split("\t")[0] == A


def test_get_and_multipart_requests_are_scoped_too(secured):
    auth = basic(secured.tokens["a"])
    refused = http(f"{secured.sql}/?query=" + urllib.parse.quote(f"SELECT * FROM aitrail.{G}"), headers=auth)
    _judge(refused, REFUSED)
    own = http(f"{secured.sql}/?query=" + urllib.parse.quote(f"SELECT DISTINCT tenant FROM {G}"), headers=auth)
    assert own.status == 200 and own.text == f"{A}\n"
    boundary = "xYz"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\nSELECT * FROM aitrail.{G}\r\n"
            f"--{boundary}--\r\n").encode()
    multipart = http(f"{secured.sql}/", form, {**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    _judge(multipart, REFUSED)


@pytest.mark.parametrize("statement", WRITE_SHAPES)
def test_nothing_is_written_through_the_sql_endpoint(secured, statement):
    for token in ("a", "admin"):
        answer = sql(secured.sql, statement, secured.tokens[token])
        assert answer.status >= 400, (token, answer.text)
        assert not _leaks(answer, statement) or token == "admin"


def test_writes_left_no_trace_and_use_changed_nothing(secured):
    """After every write shape and USE: A still sees only its own rows, in its own database, and B's rows are intact."""
    for statement in WRITE_SHAPES:
        sql(secured.sql, statement, secured.tokens["a"])
    sql(secured.sql, "USE aitrail", secured.tokens["a"])
    mine = sql(secured.sql, f"SELECT currentDatabase(), tenant, count() FROM {G} GROUP BY tenant", secured.tokens["a"], fmt="TSV")
    assert mine.status == 200 and mine.text == f"{ADB}\t{A}\t2\n"
    tables = sql(secured.sql, "SHOW TABLES", secured.tokens["a"], fmt="TSV").text.split()
    assert sorted(tables) == sorted(TENANT_TABLES)
    everyone = sql(secured.sql, f"SELECT tenant, count() FROM aitrail.{G} GROUP BY tenant ORDER BY tenant", secured.tokens["admin"], fmt="TSV")
    assert everyone.text == f"{A}\t2\n{B}\t3\n"


def test_clickhouse_connect_sees_only_its_tenant(secured):
    """The standard client, as a tenant: connects (it reads system.settings), reads its rows, is refused the rest."""
    client = clickhouse_connect.get_client(host="127.0.0.1", port=secured.collector.sql_port, username="a", password=secured.tokens["a"])
    try:
        assert client.query(f"SELECT DISTINCT tenant, team FROM {G}").result_rows == [(A, "team-a")]
        assert client.query("SELECT count() FROM otel_logs").result_rows == [(1,)]
        assert client.query("SELECT DISTINCT MetricName FROM otel_metrics_sum").result_rows == [("metric_a",)]
        with pytest.raises(Exception) as refused:
            client.query(f"SELECT * FROM aitrail.{G}")
        assert "refused" in str(refused.value) and not [m for m in B_MARKERS if m in str(refused.value)]
        with pytest.raises(Exception):
            client.command(f"DROP VIEW {G}")
        with pytest.raises(Exception):
            client.insert(G, [[A, "x"]], column_names=["tenant", "prompt"])
    finally:
        client.close()


def test_each_view_filters_every_table(secured):
    """Every tenant table: A's view has A's rows, B's view B's, and their sum is the whole table (admin reads it)."""
    for table in TENANT_TABLES:
        counts = {}
        for who in ("a", "b"):
            answer = sql(secured.sql, f"SELECT count() FROM {table}", secured.tokens[who], fmt="TSV")
            assert answer.status == 200, answer.text
            counts[who] = int(answer.text)
        total = sql(secured.sql, f"SELECT count() FROM aitrail.{table}", secured.tokens["admin"], fmt="TSV")
        assert counts["a"] + counts["b"] == int(total.text), table


def test_admin_reads_everything(secured):
    answer = sql(secured.sql, f"SELECT DISTINCT tenant FROM aitrail.{G} ORDER BY tenant", secured.tokens["admin"], fmt="TSV")
    assert answer.text == f"{A}\n{B}\n"
    assert sql(secured.sql, "SELECT count() FROM system.tables", secured.tokens["admin"]).status == 200


def test_number_of_shapes():
    """docs/security.md states how many query shapes were tried; keep it true."""
    from pathlib import Path

    total = len(SHAPES) + len(PARAM_SHAPES) + len(TRANSPORT_SHAPES) + len(WRITE_SHAPES) + 2  # + GET and multipart
    page = (Path(__file__).parents[2] / "docs" / "security.md").read_text()
    assert f"{total} query shapes" in page, total


def test_engine_hints_name_no_database(secured):
    answer = sql(secured.sql, "SELECT * FROM schema_migrations", secured.tokens["a"])
    assert answer.status == 404 and "UNKNOWN_TABLE" in answer.text and "aitrail." not in answer.text


def test_the_limit_barrier_is_what_stops_error_oracles(secured):
    """Why the views end in LIMIT: without it the engine evaluates a reader's condition on other tenants' rows.

    A plain filtering view lets ``toUInt8(prompt)`` fail on B's prompt and put it in the error message; the
    tenant's view (same filter plus the LIMIT barrier) never evaluates it on B's rows.
    """
    from aitrail.errors import StoreError

    store = secured.collector.store
    store.command("CREATE DATABASE IF NOT EXISTS barrier_demo")
    try:
        store.command(f"CREATE OR REPLACE VIEW barrier_demo.g AS SELECT * FROM aitrail.{G} WHERE tenant = '{A}'")
        try:
            store.query("SELECT count() FROM barrier_demo.g WHERE toUInt8(prompt) = 1", readonly=True)
            leaked = False
        except StoreError as exc:
            leaked = "SECRET-B-PROMPT" in str(exc)
        answer = sql(secured.sql, f"SELECT count() FROM {G} WHERE toUInt8(prompt) = 1", secured.tokens["a"], fmt="TSV")
        assert answer.status == 200 and answer.text == "0\n"
        if not leaked:
            pytest.skip("the plain view did not leak this time (the order of evaluation depends on the data parts)")
    finally:
        store.command("DROP DATABASE IF EXISTS barrier_demo")
