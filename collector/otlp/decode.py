"""OTLP/HTTP request bodies in, protobuf request messages out (and the answers back).

Follows the OTLP specification (opentelemetry-proto ``docs/specification.md``):

* ``Content-Type: application/x-protobuf`` is binary protobuf; ``application/json``
  is OTLP/JSON, the protobuf JSON mapping except that trace and span ids are
  hex strings (not base64), enum fields may be integers or names, both
  lowerCamelCase and original field names are accepted, and fields with
  unknown names are ignored.
* ``Content-Encoding`` may be absent/``identity``, ``gzip``, or ``deflate``
  (zlib-wrapped or raw, since clients send either). Decompression stops at
  ``Limits.max_decompressed_bytes``: a small body that inflates to gigabytes
  costs at most the limit in memory, then answers 413.

Errors are :class:`~aitrail.errors.InvalidPayload` (400),
:class:`~aitrail.errors.PayloadTooLarge` (413) and
:class:`~aitrail.errors.UnsupportedMedia` (415).
"""

from __future__ import annotations

import json as _json
import zlib
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from aitrail.collector.otlp.otlp_json import to_message
from aitrail.errors import InvalidPayload, PayloadTooLarge, UnsupportedMedia

SIGNALS = ("traces", "logs", "metrics")

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CONTENT_TYPES = (PROTOBUF, JSON)
CONTENT_ENCODINGS = ("identity", "gzip", "deflate")

MiB = 1 << 20


@dataclass
class Limits:
    """How big a request may be: as received (compressed), and once decompressed."""

    max_body_bytes: int = 16 * MiB
    max_decompressed_bytes: int = 64 * MiB


_REQUEST: dict[str, type[Message]] = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
}
_RESPONSE: dict[str, type[Message]] = {
    "traces": trace_service_pb2.ExportTraceServiceResponse,
    "logs": logs_service_pb2.ExportLogsServiceResponse,
    "metrics": metrics_service_pb2.ExportMetricsServiceResponse,
}
_PARTIAL: dict[str, tuple[type[Message], str]] = {
    "traces": (trace_service_pb2.ExportTracePartialSuccess, "rejected_spans"),
    "logs": (logs_service_pb2.ExportLogsPartialSuccess, "rejected_log_records"),
    "metrics": (metrics_service_pb2.ExportMetricsPartialSuccess, "rejected_data_points"),
}


def _check_signal(signal: str) -> None:
    if signal not in _REQUEST:
        raise ValueError(f"unknown OTLP signal {signal!r}: expected one of {', '.join(SIGNALS)}")


def _mime(content_type: str | None) -> str:
    """``Application/JSON; charset=utf-8`` -> ``application/json``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def wants_json(content_type: str | None) -> bool:
    """Whether a request with this Content-Type is OTLP/JSON (and so should be answered in JSON)."""
    return _mime(content_type) == JSON


# --- decompression ------------------------------------------------------------------------------


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body decompresses to more than the {limit}-byte limit")


_CHUNK = 1 << 20


def _inflate(body: bytes | bytearray, wbits: int, limit: int, name: str) -> bytearray:
    """Inflate one or more concatenated streams, a chunk at a time, stopping once past ``limit`` bytes.

    Output goes into one bytearray (no final join), so memory stays near ``limit``
    however far the data would inflate.
    """
    out = bytearray()
    data: bytes | bytearray = body
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            while True:
                want = min(_CHUNK, limit - len(out) + 1)
                chunk = inflater.decompress(data, want)
                out += chunk
                if len(out) > limit:
                    raise _too_large(limit)
                data = inflater.unconsumed_tail
                # A short chunk with no input left means zlib has emitted all it can.
                if inflater.eof or (not data and len(chunk) < want):
                    break
        except zlib.error as exc:
            raise InvalidPayload(f"request body is not valid {name} data: {exc}") from exc
        if not inflater.eof:
            raise InvalidPayload(f"request body is truncated {name} data")
        data = inflater.unused_data
        # gzip allows several members back to back (RFC 1952 section 2.2); anything else after the end is garbage.
        if not data or (wbits > 16 and not data.strip(b"\0")):
            break
        if wbits <= 16 or data[:2] != b"\x1f\x8b":
            raise InvalidPayload(f"request body has {len(data)} bytes of garbage after the {name} data")
    return out


def _looks_like_zlib(body: bytes | bytearray) -> bool:
    """RFC 1950 header: compression method 8, window <= 32K, header checksum divisible by 31."""
    return len(body) >= 2 and (body[0] & 0x0F) == 8 and (body[0] >> 4) <= 7 and ((body[0] << 8) | body[1]) % 31 == 0


def _decompress(body: bytes, content_encoding: str, limits: Limits) -> bytes | bytearray:
    # A list means applied in order, so undo it from the end (RFC 9110 section 8.4).
    encodings = [e.strip().lower() for e in content_encoding.split(",") if e.strip()]
    limit = limits.max_decompressed_bytes
    data: bytes | bytearray = body
    for encoding in reversed(encodings):
        if encoding == "identity":
            continue
        if encoding in ("gzip", "x-gzip"):
            data = _inflate(data, 16 + zlib.MAX_WBITS, limit, "gzip")
        elif encoding == "deflate":
            if _looks_like_zlib(data):
                try:
                    data = _inflate(data, zlib.MAX_WBITS, limit, "deflate")
                    continue
                except PayloadTooLarge:
                    raise
                except InvalidPayload:
                    pass  # a raw stream whose first bytes happen to look like a zlib header
            data = _inflate(data, -zlib.MAX_WBITS, limit, "deflate")
        else:
            raise UnsupportedMedia(
                f"unsupported Content-Encoding {encoding!r}: supported are {', '.join(CONTENT_ENCODINGS)}"
            )
    if len(data) > limit:
        raise PayloadTooLarge(f"request body of {len(data)} bytes is over the {limit}-byte limit")
    return data


# --- OTLP/JSON ---------------------------------------------------------------------------------


def _parse_json(signal: str, body: bytes | bytearray) -> Message:
    if not body.strip():
        return _REQUEST[signal]()
    try:
        doc = _json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise InvalidPayload(f"request body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise InvalidPayload("request body nests JSON too deeply") from None
    if not isinstance(doc, dict):
        raise InvalidPayload(f"OTLP/JSON request body must be a JSON object, got {type(doc).__name__}")
    return to_message(_REQUEST[signal], doc, signal)


# --- the entry point ---------------------------------------------------------------------------


def decode_request(
    signal: str,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    limits: Limits,
) -> Message:
    """The Export{Trace,Logs,Metrics}ServiceRequest in an OTLP/HTTP request body.

    An empty body is an empty (valid) request.
    """
    _check_signal(signal)
    mime = _mime(content_type)
    if mime not in CONTENT_TYPES:
        shown = f"{content_type!r}" if content_type else "none"
        raise UnsupportedMedia(f"unsupported Content-Type {shown}: supported are {', '.join(CONTENT_TYPES)}")
    if len(body) > limits.max_body_bytes:
        raise PayloadTooLarge(f"request body of {len(body)} bytes is over the {limits.max_body_bytes}-byte limit")
    data: bytes | bytearray = body
    if content_encoding:
        data = _decompress(body, content_encoding, limits)
    elif len(body) > limits.max_decompressed_bytes:
        raise PayloadTooLarge(
            f"request body of {len(body)} bytes is over the {limits.max_decompressed_bytes}-byte limit"
        )
    if mime == PROTOBUF:
        try:
            return _REQUEST[signal].FromString(data)
        except (DecodeError, ValueError, RuntimeError) as exc:
            raise InvalidPayload(f"request body is not a valid protobuf {signal} request: {exc}") from exc
    return _parse_json(signal, data)


# --- answers -----------------------------------------------------------------------------------


def _serialize(message: Message, as_json: bool) -> bytes:
    if as_json:
        doc = json_format.MessageToDict(message)
        return _json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return message.SerializeToString()


def response_body(signal: str, json: bool, rejected: int = 0, error_message: str = "") -> bytes:
    """The Export*ServiceResponse for a successful request, in the request's encoding.

    ``partial_success`` is set only when items were rejected or there is something to say.
    """
    _check_signal(signal)
    response = _RESPONSE[signal]()
    if rejected > 0 or error_message:
        partial_type, field = _PARTIAL[signal]
        partial = partial_type(error_message=error_message)
        setattr(partial, field, max(rejected, 0))
        response.partial_success.CopyFrom(partial)
    return _serialize(response, json)


# google.rpc.Code values, the way the OpenTelemetry Collector maps an HTTP status onto one.
_RPC_CODE_FOR_HTTP = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    404: 12,  # UNIMPLEMENTED
    408: 4,  # DEADLINE_EXCEEDED
    413: 8,  # RESOURCE_EXHAUSTED (what gRPC says for a message over the size limit)
    415: 12,  # UNIMPLEMENTED (what gRPC says for an unknown compression)
    429: 8,  # RESOURCE_EXHAUSTED
    500: 13,  # INTERNAL
    502: 14,  # UNAVAILABLE
    503: 14,  # UNAVAILABLE
    504: 14,  # UNAVAILABLE
}


def rpc_code(code: int) -> int:
    """The google.rpc.Code for an HTTP status (UNKNOWN when none fits); codes below 100 are already rpc codes."""
    if 0 <= code < 100:
        return code
    return _RPC_CODE_FOR_HTTP.get(code, 2)  # 2 = UNKNOWN


def status_body(code: int, message: str, json: bool) -> bytes:
    """A ``google.rpc.Status`` for an error response (OTLP/HTTP 4xx/5xx), in the request's encoding.

    ``code`` may be the HTTP status of the response (mapped onto a google.rpc.Code
    as the Collector does) or a google.rpc.Code itself.
    """
    return _serialize(status_pb2.Status(code=rpc_code(code), message=message), json)
