"""OTLP: decoding OTLP/HTTP request bodies into protobuf messages, and encoding the answers."""

from aitrail.collector.otlp.decode import (
    SIGNALS,
    Limits,
    decode,
    decode_request,
    response_body,
    rpc_code,
    status_body,
    wants_json,
)

__all__ = ["SIGNALS", "Limits", "decode", "decode_request", "response_body", "rpc_code", "status_body", "wants_json"]
