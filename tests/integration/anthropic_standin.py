"""A stand-in for the Anthropic Messages API, so the real Claude Code CLI can run in tests without a key or network.

It answers ``POST /v1/messages`` (streamed as server-sent events, or plain JSON)
from a script: the request that offers tools and carries *n* ``tool_result``
blocks gets step *n* of the script — a ``tool_use`` (say ``Write`` with a
``file_path`` and ``content``) — and once the script is done, or for requests
that offer no tools (titles, summaries), a short text answer. So a script of
``[Write, Edit]`` makes Claude Code write a file, then edit it, then stop.

Every request is kept in :attr:`AnthropicStandin.requests` for assertions.
Run it by hand with ``python tests/integration/anthropic_standin.py PORT FILE``
(a one-step script writing a hello-world to FILE).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

USAGE = {"input_tokens": 321, "output_tokens": 54, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
"""Usage reported for every answer (Claude Code turns it into tokens and cost)."""


@dataclass
class ToolUse:
    """One scripted step: the model asks Claude Code to run ``name`` with ``input``."""

    name: str
    input: dict[str, Any]
    id: str = field(default_factory=lambda: f"toolu_{uuid.uuid4().hex[:24]}")


def _tool_results(body: dict[str, Any]) -> int:
    return sum(
        1
        for message in body.get("messages", [])
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    )


class AnthropicStandin:
    """The Messages API on 127.0.0.1, answering from ``script``; ``with AnthropicStandin([...]) as api: api.url``."""

    def __init__(self, script: list[ToolUse], final_text: str = "Done.", usage: dict[str, int] | None = None) -> None:
        self.script = script
        self.final_text = final_text
        self.usage = dict(usage or USAGE)
        self.requests: list[dict[str, Any]] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="anthropic-standin", daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer_for(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """(content blocks, stop reason) for one request."""
        tools = [t.get("name") for t in body.get("tools", []) if isinstance(t, dict)]
        step = _tool_results(body)
        if tools and step < len(self.script) and self.script[step].name in tools:
            use = self.script[step]
            return [{"type": "tool_use", "id": use.id, "name": use.name, "input": use.input}], "tool_use"
        return [{"type": "text", "text": self.final_text}], "end_turn"

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"path": request.path, "body": body})
        blocks, stop = self.answer_for(body)
        message = {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-standin"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**self.usage, "output_tokens": 1},
        }
        if not body.get("stream"):
            return web.json_response({**message, "content": blocks, "stop_reason": stop, "usage": self.usage})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def event(name: str, data: dict[str, Any]) -> None:
            await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

        await event("message_start", {"type": "message_start", "message": message})
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                start = {"type": "text", "text": ""}
                delta = {"type": "text_delta", "text": block["text"]}
            else:
                start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            await event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
            await event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            await event("content_block_stop", {"type": "content_block_stop", "index": index})
        await event(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
             "usage": {"output_tokens": self.usage["output_tokens"]}},
        )
        await event("message_stop", {"type": "message_stop"})
        await response.write_eof()
        return response

    async def _other(self, request: web.Request) -> web.Response:
        self.requests.append({"path": request.path, "method": request.method})
        if request.path.endswith("/count_tokens"):
            return web.json_response({"input_tokens": 10})
        return web.json_response({"type": "error", "error": {"type": "not_found_error", "message": request.path}}, status=404)

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_route("*", "/{tail:.*}", self._other)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def __enter__(self) -> AnthropicStandin:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


if __name__ == "__main__":
    port, target = int(sys.argv[1]), sys.argv[2]
    hello = ToolUse("Write", {"file_path": target, "content": "def hello():\n    return 'hello'\n\nprint(hello())\n"})
    standin = AnthropicStandin([hello])
    standin.port = port
    with standin:
        print(f"Anthropic stand-in on {standin.url}, writing {target}", flush=True)
        threading.Event().wait()
