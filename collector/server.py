"""The collector assembled: store, pipeline, OTLP receivers (HTTP, gRPC) and the read-only SQL endpoint.

``Collector`` is the library object (start/stop inside an event loop);
``serve`` runs one until SIGTERM or Ctrl-C, flushing on the way out;
``BackgroundCollector`` runs one on a thread of its own, for the demo, the
tests, and anyone embedding aitrail in another program.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

from aitrail.collector import sqlendpoint, tls
from aitrail.collector.auth import Authenticator
from aitrail.collector.batcher import Batcher, ReadAfterWrite
from aitrail.collector.config import CollectorConfig, is_loopback
from aitrail.collector.derive import Deriver
from aitrail.collector.pipeline import Pipeline, standard_processors
from aitrail.collector.receivers import grpc as grpc_receiver
from aitrail.collector.receivers import http as http_receiver
from aitrail.collector.spool import Spool
from aitrail.collector.store import Store, open_store
from aitrail.collector.store.prices import merged, parse_overrides, sync_prices
from aitrail.collector.telemetry import SelfMetrics


log = logging.getLogger("aitrail.collector")


def _check_free(host: str, port: int, what: str) -> None:
    """Raise OSError (as the HTTP listeners do) when ``port`` is taken, before a library that logs it tries."""
    if port == 0:
        return
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise OSError(exc.errno, f"{what} port {host}:{port}: {exc.strerror}") from exc


def _bound_port(runner: web.AppRunner) -> int:
    return runner.addresses[0][1]


class Collector:
    """One collector: ``await start()``, then ``await stop()`` (which flushes everything pending)."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config.check()
        self.metrics = SelfMetrics()
        self.auth: Authenticator | None = None  # tokens (collector/auth.py), when a tokens file or AITRAIL_TOKENS is set
        self.store: Store | None = None
        self.http_port = self.grpc_port = self.sql_port = 0

    @property
    def http_url(self) -> str:
        return f"{self._scheme}://{self.config.host}:{self.http_port}"

    @property
    def _scheme(self) -> str:
        return "https" if self.config.tls_enabled else "http"

    @property
    def grpc_endpoint(self) -> str:
        return f"{self.config.host}:{self.grpc_port}"

    @property
    def sql_url(self) -> str:
        return f"{self._scheme}://{self.config.host}:{self.sql_port}"

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything acknowledged so far is in the store (not only in the spool); False on timeout."""
        return await self.batcher.flush(timeout)

    def wait_drained(self, timeout: float | None = 30.0) -> bool:
        """``flush`` from another thread than the collector's loop (tests, the demo, embedding programs)."""
        return self.batcher.wait_drained(timeout)

    def health(self) -> dict[str, Any]:
        return {
            "status": "degraded" if self.batcher.last_error else "ok",  # degraded: the store refuses inserts now
            "store": self.config.location.describe(),
            "pending_rows": self.batcher.pending_rows,
            "spool": self.batcher.stats(),
            "metrics": self.metrics.snapshot(),
        }

    async def start(self) -> None:
        cfg = self.config
        self.store = await asyncio.to_thread(open_store, cfg.location)
        try:
            await asyncio.to_thread(sync_prices, self.store, merged(parse_overrides(cfg.prices)))
            # Every 2xx is fsync'd in the spool first; the batcher drains the spool into the store.
            spool = await asyncio.to_thread(Spool(cfg.spool_path, self.metrics).open)
            self.batcher = Batcher(
                self.store, self.metrics, spool, cfg.flush_interval, cfg.max_batch_rows, cfg.max_pending_rows,
                cfg.max_spool_bytes, min_rows=cfg.min_batch_rows,
            )
            self.batcher.start()
            self.pipeline = Pipeline(standard_processors(cfg), self.batcher, self.metrics, cfg.item_limits)
            # Security: tokens (auth) and TLS, when configured; the same for the three listeners.
            self.auth = Authenticator.from_config(cfg.tokens_file)
            tls_context = tls.server_context(cfg.tls_cert, cfg.tls_key) if cfg.tls_cert and cfg.tls_key else None
            if self.auth is not None and tls_context is None and not is_loopback(cfg.host):
                log.warning("tokens travel in clear text to %s: give --tls-cert and --tls-key", cfg.host)
            app = http_receiver.build_app(
                self.pipeline, self.metrics, cfg.limits, self.health,
                authenticate=self.auth.ingest_http if self.auth else None,
                authorize_admin=self.auth.admin_http if self.auth else None,
            )
            # Bodies stay compressed until the decoder, which bounds decompression (zip bombs).
            self._http = web.AppRunner(app, access_log=None, auto_decompress=False)
            await self._http.setup()
            await web.TCPSite(self._http, cfg.host, cfg.http_port, ssl_context=tls_context).start()
            self.http_port = _bound_port(self._http)
            self._grpc = grpc_receiver.build_server(
                self.pipeline, self.metrics, cfg.limits, self.auth.ingest_grpc if self.auth else None
            )
            _check_free(cfg.host, cfg.grpc_port, "OTLP/gRPC")  # gRPC would log its own error line, then raise
            try:
                if cfg.tls_cert and cfg.tls_key:
                    credentials = tls.grpc_credentials(cfg.tls_cert, cfg.tls_key)
                    self.grpc_port = self._grpc.add_secure_port(f"{cfg.host}:{cfg.grpc_port}", credentials)
                else:
                    self.grpc_port = self._grpc.add_insecure_port(f"{cfg.host}:{cfg.grpc_port}")
            except RuntimeError as exc:  # gRPC's way of saying the address cannot be bound
                raise OSError(errno.EADDRINUSE, f"cannot listen on {cfg.host}:{cfg.grpc_port} for OTLP/gRPC") from exc
            await self._grpc.start()
            self._sql = await sqlendpoint.start(
                ReadAfterWrite(self.store, self.batcher) if cfg.read_after_write else self.store, cfg.host, cfg.sql_port,
                authorize=self.auth.sql_reader if self.auth else None, ssl_context=tls_context,
            )
            self.sql_port = _bound_port(self._sql)
            # Generations from assistants' native telemetry (collector/derive), every derive_interval seconds.
            self.deriver = Deriver(self.store, self.metrics, cfg.derive_interval, cfg.derive_window)
            await self.deriver.start()
            self.store.advertise(self.sql_url, self.http_url)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop accepting, store what was accepted (within shutdown_timeout; the rest stays in the spool), release the store."""
        if getattr(self, "_http", None) is not None:
            await self._http.cleanup()
            self._http = None
        if getattr(self, "_grpc", None) is not None:
            await self._grpc.stop(grace=5)
            self._grpc = None
        if getattr(self, "pipeline", None) is not None:
            await asyncio.to_thread(self.pipeline.close)
        if getattr(self, "deriver", None) is not None:
            await self.deriver.stop()
        if getattr(self, "batcher", None) is not None:
            await self.batcher.close(self.config.shutdown_timeout)  # what is not stored by then stays in the spool
        if getattr(self, "_sql", None) is not None:
            await self._sql.cleanup()
            self._sql = None
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
            self.store = None


async def serve(config: CollectorConfig, ready: Callable[[Collector], None] | None = None) -> None:
    """Run a collector until SIGTERM or SIGINT, then shut down gracefully."""
    collector = Collector(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # before start: a SIGTERM while recovering the spool is graceful too
        loop.add_signal_handler(sig, stop.set)
    await collector.start()
    if collector.auth is not None:  # SIGHUP: read the tokens file now (it is also re-read when it changes)
        loop.add_signal_handler(signal.SIGHUP, collector.auth.reload)
    try:
        if ready is not None:
            ready(collector)
        await stop.wait()
    finally:
        await collector.stop()


class BackgroundCollector:
    """A collector on its own thread and event loop: ``with BackgroundCollector(config) as c: ...``."""

    def __init__(self, config: CollectorConfig) -> None:
        self.collector = Collector(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="aitrail-collector", daemon=True)

    def __enter__(self) -> Collector:
        self._thread.start()
        try:
            self.call(self.collector.start())
        except BaseException:
            self._halt()
            raise
        return self.collector

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything acknowledged so far is in the store; False on timeout."""
        return self.collector.wait_drained(timeout)

    def call(self, coro: Any) -> Any:
        """Run a coroutine on the collector's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self.collector.stop())
        finally:
            self._halt()

    def _halt(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
