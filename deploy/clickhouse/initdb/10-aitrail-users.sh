#!/bin/bash
# Creates aitrail's least-privilege users (deploy/clickhouse/users.sql) when the ClickHouse
# container initialises an empty data volume. The clickhouse/clickhouse-server image runs (or
# sources) /docker-entrypoint-initdb.d/*.sh once, with the server listening on 127.0.0.1 only.
#
# Environment (docker-compose.yml passes it):
#   CLICKHOUSE_USER, CLICKHOUSE_PASSWORD   the administrator the image created
#   AITRAIL_WRITER_PASSWORD                for aitrail_writer  (the aitrail collector)
#   AITRAIL_READER_PASSWORD                for aitrail_reader  (Grafana)
#   AITRAIL_OTELCOL_PASSWORD               for aitrail_otelcol (the OpenTelemetry Collector)
#   AITRAIL_USERS_SQL                      where users.sql is (default /aitrail/users.sql)
#
# Later password changes are not picked up from the environment: the data volume already
# exists. Use ALTER USER ... IDENTIFIED WITH sha256_password BY '...' instead.

aitrail_create_users() {
    local sql_file="${AITRAIL_USERS_SQL:-/aitrail/users.sql}"
    local name value sql
    if [ ! -r "$sql_file" ]; then
        echo "aitrail: cannot read $sql_file" >&2
        return 1
    fi
    sql="$(cat "$sql_file")"
    for name in AITRAIL_WRITER_PASSWORD AITRAIL_READER_PASSWORD AITRAIL_OTELCOL_PASSWORD; do
        value="${!name:-}"
        # The passwords end up inside URLs and SQL string literals: refuse anything that
        # would need quoting in either, rather than quote it wrong.
        if [[ ! "$value" =~ ^[A-Za-z0-9._~-]{12,}$ ]]; then
            echo "aitrail: $name must be at least 12 characters of A-Z a-z 0-9 . _ ~ - (try: openssl rand -hex 24)" >&2
            return 1
        fi
        # AITRAIL_WRITER_PASSWORD fills users.sql's CHANGE_ME_WRITER_PASSWORD, and so on.
        sql="${sql//CHANGE_ME_${name#AITRAIL_}/$value}"
    done
    if [[ "$sql" == *"'CHANGE_ME_"* ]]; then
        echo "aitrail: $sql_file still has a CHANGE_ME_ placeholder after substitution" >&2
        return 1
    fi
    printf '%s\n' "$sql" | clickhouse-client --multiquery --host 127.0.0.1 \
        --user "${CLICKHOUSE_USER:-default}" --password "${CLICKHOUSE_PASSWORD:-}"
}

aitrail_create_users || exit 1
echo "aitrail: created users aitrail_writer, aitrail_reader, aitrail_otelcol"
