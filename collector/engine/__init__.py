"""The engine's side of ingest: ClickHouse parses OTLP request bodies and flattens them into the raw tables.

``schema`` derives, from opentelemetry-proto's own descriptors, the Protocol
Buffers schema ClickHouse's ``Protobuf`` input format reads requests with, and
the column structure that goes with it; ``traces`` turns that structure into
``otel_traces`` rows in SQL, exactly as the contrib ClickHouse exporter (and
:mod:`aitrail.collector.rows`) writes them.
"""
