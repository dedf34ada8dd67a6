"""The collector: OTLP in, one model, ClickHouse out."""
