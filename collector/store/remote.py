"""A ClickHouse server (or cluster) through clickhouse-connect: the same SQL as the embedded store."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from aitrail.collector.store.base import Store, dedup_settings, literal
from aitrail.errors import StoreError, StoreUnavailable


# clickhouse-connect logs every failed connection with urllib3's internals; the error raised here says it once.
logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)


def _reason(exc: BaseException) -> str:
    """The cause people can act on (``Connection refused``), not the HTTP library's layers around it."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text) or re.search(r"(Name or service not known|timed out)", text)
    return found.group(1).strip() if found else text.split(" executing HTTP request")[0][:300]


class RemoteStore(Store):
    """Any ClickHouse server reachable over HTTP(S), e.g. ``http://user:pass@host:8123``."""

    def __init__(self, url: str) -> None:
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import OperationalError

        self._operational = OperationalError
        try:
            # No session: the collector runs queries from several threads at once.
            self._client = clickhouse_connect.get_client(dsn=url, autogenerate_session_id=False)
        except OperationalError as exc:
            raise StoreUnavailable(f"cannot reach ClickHouse at {url.split('@')[-1]}: {_reason(exc)}") from exc

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._operational as exc:
            raise StoreUnavailable(f"ClickHouse did not answer: {_reason(exc)}") from exc
        except Exception as exc:
            raise StoreError(str(exc)) from exc

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._call(self._client.command, sql, parameters=dict(params) if params else None)

    def query_in(self, database: str, sql: str, params: Mapping[str, Any] | None = None,
                 fmt: str = "JSONEachRow") -> bytes:
        return self._call(
            self._client.raw_query, sql, parameters=dict(params) if params else None, settings={"readonly": 1},
            fmt=fmt, use_database=False, transport_settings={"X-ClickHouse-Database": database},
        )

    def query(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        fmt: str = "JSONEachRow",
        readonly: bool = False,
    ) -> bytes:
        settings = {"readonly": 1} if readonly else None
        return self._call(
            self._client.raw_query, sql, parameters=dict(params) if params else None, settings=settings, fmt=fmt
        )

    def insert(self, table: str, batch: Any, dedup_token: str | None = None) -> None:
        self._call(self._client.insert_arrow, f"{self.database}.{table}", batch,
                   settings=dedup_settings(dedup_token) or None)

    def insert_requests(self, statement: Callable[[str], str], structure: str, settings: Mapping[str, Any],
                        data: bytes, dedup_token: str | None = None) -> None:
        sql = f"{statement(f'input({literal(structure)})')} FORMAT Protobuf"
        self._call(self._client.command, sql, data=data, settings={**settings, **dedup_settings(dedup_token)})

    def close(self) -> None:
        self._client.close()
