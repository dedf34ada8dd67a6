"""A local stand-in for the Anthropic and OpenAI HTTP APIs, for the real clients to talk to in tests.

``POST /v1/messages`` answers as the Anthropic Messages API and
``POST /v1/chat/completions`` as OpenAI's; both stream Server-Sent Events
when the request says ``"stream": true``. The answer is ``echo: <prompt>``,
the token counts follow from the words, and every answer is kept in
``StandIn.answers`` for tests to compare with what the caller got.

The requested model chooses a failure: ``fail-429`` / ``fail-500`` answer
with that status and the provider's JSON error body; ``fail-midstream``
starts a stream and then sends the provider's error event.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RESPONSE_MODEL_SUFFIX = "-20250929"
"""The stand-in answers as a dated model: the response model differs from the requested one."""
CACHE_READ_TOKENS = 4
"""Anthropic answers report this many cache-read input tokens (OpenAI: cached tokens within the prompt's)."""
CACHE_CREATION_TOKENS = 2
"""Anthropic answers report this many cache-creation input tokens."""


@dataclass
class Answer:
    """What the stand-in answered to one request."""

    api: str
    request: dict[str, Any]
    id: str
    model: str
    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str
    sent: Any = None
    """The JSON body sent, or for a stream the event payloads a client yields (pings are not)."""


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if b.get("type") == "text"]
        if texts:
            return "\n".join(texts)
    return ""


def _chunks(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


@dataclass
class StandIn:
    """The server; a context manager. ``url`` is the base for Anthropic, ``url + "/v1"`` for OpenAI."""

    answers: list[Answer] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                standin._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="standin", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- answering ----------------------------------------------------------------------
    def _answer(self, api: str, body: dict[str, Any]) -> Answer:
        prompt = last_user_text(body.get("messages") or [])
        text = f"echo: {prompt}"
        with self._lock:
            n = next(self._ids)
        answer = Answer(
            api=api, request=body, id=f"msg_standin_{n}" if api == "anthropic" else f"chatcmpl-standin-{n}",
            model=body["model"] + RESPONSE_MODEL_SUFFIX, text=text,
            input_tokens=len(prompt.split()) + 10, output_tokens=len(text.split()),
            finish_reason="end_turn" if api == "anthropic" else "stop",
        )
        with self._lock:
            self.answers.append(answer)
            self.requests.append(body)
        return answer

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = json.loads(handler.rfile.read(length) or b"{}")
        path = handler.path.split("?")[0]
        if path == "/v1/messages":
            api = "anthropic"
        elif path == "/v1/chat/completions":
            api = "openai"
        else:
            return self._json(handler, 404, {"error": {"message": f"no route {path}"}})
        model = str(body.get("model", ""))
        if model in ("fail-429", "fail-500"):
            status = int(model[-3:])
            with self._lock:
                self.requests.append(body)
            return self._json(handler, status, _error_body(api, status), {"x-should-retry": "false"})
        answer = self._answer(api, body)
        if body.get("stream"):
            events = _anthropic_events(answer) if api == "anthropic" else _openai_events(answer)
            answer.sent = [json.loads(data) for event, data in events if data != "[DONE]" and event != "ping"]
            return self._sse(handler, events)
        answer.sent = _anthropic_message(answer) if api == "anthropic" else _openai_completion(answer)
        return self._json(handler, 200, answer.sent)

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.send_header("request-id", "req_standin")
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _sse(handler: BaseHTTPRequestHandler, events: list[tuple[str | None, str]]) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.send_header("connection", "close")
        handler.end_headers()
        for event, data in events:
            chunk = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
            handler.wfile.write(chunk.encode())
            handler.wfile.flush()
        handler.close_connection = True


def _error_body(api: str, status: int) -> dict[str, Any]:
    kind, message = {429: ("rate_limit_error", "Rate limit reached"), 500: ("api_error", "Internal server error")}[status]
    if api == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_standin"}
    return {"error": {"message": message, "type": "requests" if status == 429 else "server_error", "param": None,
                      "code": "rate_limit_exceeded" if status == 429 else None}}


def _anthropic_usage(answer: Answer) -> dict[str, Any]:
    return {"input_tokens": answer.input_tokens, "output_tokens": answer.output_tokens,
            "cache_read_input_tokens": CACHE_READ_TOKENS, "cache_creation_input_tokens": CACHE_CREATION_TOKENS}


def _anthropic_message(answer: Answer) -> dict[str, Any]:
    return {"id": answer.id, "type": "message", "role": "assistant", "model": answer.model,
            "content": [{"type": "text", "text": answer.text}], "stop_reason": answer.finish_reason,
            "stop_sequence": None, "usage": _anthropic_usage(answer)}


def _anthropic_events(answer: Answer) -> list[tuple[str | None, str]]:
    start = _anthropic_message(answer) | {"content": [], "stop_reason": None}
    start["usage"] = _anthropic_usage(answer) | {"output_tokens": 1}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
    ]
    pieces = _chunks(answer.text)
    if answer.request["model"] == "fail-midstream":
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": pieces[0]}}))
        events.append(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
        return [(e, json.dumps(d)) for e, d in events]
    events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": piece}}) for piece in pieces]
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": answer.finish_reason, "stop_sequence": None},
                           "usage": {"output_tokens": answer.output_tokens}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return [(e, json.dumps(d)) for e, d in events]


def _openai_usage(answer: Answer) -> dict[str, Any]:
    return {"prompt_tokens": answer.input_tokens, "completion_tokens": answer.output_tokens,
            "total_tokens": answer.input_tokens + answer.output_tokens,
            "prompt_tokens_details": {"cached_tokens": CACHE_READ_TOKENS}}


def _openai_completion(answer: Answer) -> dict[str, Any]:
    return {"id": answer.id, "object": "chat.completion", "created": int(time.time()), "model": answer.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text, "refusal": None},
                         "finish_reason": answer.finish_reason, "logprobs": None}],
            "usage": _openai_usage(answer)}


def _openai_events(answer: Answer) -> list[tuple[str | None, str]]:
    include_usage = bool((answer.request.get("stream_options") or {}).get("include_usage"))
    base = {"id": answer.id, "object": "chat.completion.chunk", "created": int(time.time()), "model": answer.model}
    extra = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return json.dumps(base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
                          | extra)

    pieces = _chunks(answer.text)
    events = [chunk({"role": "assistant", "content": ""})]
    if answer.request["model"] == "fail-midstream":
        events += [chunk({"content": pieces[0]}),
                   json.dumps({"error": {"message": "The server had an error", "type": "server_error"}})]
        return [(None, e) for e in events]
    events += [chunk({"content": piece}) for piece in pieces]
    events.append(chunk({}, answer.finish_reason))
    if include_usage:
        events.append(json.dumps(base | {"choices": [], "usage": _openai_usage(answer)}))
    events.append("[DONE]")
    return [(None, e) for e in events]
