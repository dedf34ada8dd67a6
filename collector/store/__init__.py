"""The ClickHouse store: embedded chDB by default, any ClickHouse server through clickhouse-connect.

Both speak the same SQL text; :func:`open_store` picks one from a :class:`StoreLocation`.
"""

from aitrail.collector.store.base import Store, StoreLocation, open_store, quote_identifier

__all__ = ["Store", "StoreLocation", "open_store", "quote_identifier"]
