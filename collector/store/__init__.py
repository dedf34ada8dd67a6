"""The ClickHouse store: embedded chDB by default, any ClickHouse server through clickhouse-connect.

Both speak the same SQL text behind one interface (:class:`Store`); :func:`open_store` picks one from a
:class:`StoreLocation`.
"""

from __future__ import annotations

from aitrail.collector.store.base import Store, StoreLocation, quote_identifier


def open_store(location: StoreLocation, migrate: bool = True, readonly: bool = False) -> Store:
    """Open the store at ``location``; migrate its schema to this code's version unless told not to."""
    if location.clickhouse_url:
        from aitrail.collector.store.remote import RemoteStore

        store: Store = RemoteStore(location.clickhouse_url)
    else:
        from aitrail.collector.store.embedded import EmbeddedStore

        assert location.data_dir is not None
        store = EmbeddedStore(location.data_dir)
    if migrate and not readonly:
        from aitrail.collector.store.schema import migrate as run_migrations

        from aitrail.collector.store.prices import sync_prices

        try:
            run_migrations(store)
            sync_prices(store, only_if_empty=True)  # the shipped price table; the collector applies its overrides
        except BaseException:
            store.close()
            raise
    return store


__all__ = ["Store", "StoreLocation", "open_store", "quote_identifier"]
