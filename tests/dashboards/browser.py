"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol, for the HTML report's test: open a
file, collect console messages, exceptions and network requests, evaluate JavaScript, take a screenshot.

Chromium is installed with apt-get when it is missing and the test runs as root (CI does); otherwise the test is
skipped with the reason.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--remote-debugging-port=0", "--window-size=1400,1000")


def find_or_install() -> tuple[str | None, str]:
    """Chromium's path, or None and why not."""
    found = shutil.which("chromium")
    if found:
        return found, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "Debian's chromium is not installed and this test is not root to apt-get install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return None, f"`{' '.join(command)}` failed: {done.stderr.strip()[-300:]}"
    found = shutil.which("chromium")
    return (found, "") if found else (None, "apt-get installed chromium but it is not on PATH")


@dataclass
class PageVisit:
    console: list[dict] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    result: Any = None
    screenshot: bytes = b""


async def _visit(chromium: str, url: str, script: str, user_dir: str) -> PageVisit:
    process = await asyncio.create_subprocess_exec(
        chromium, *FLAGS, f"--user-data-dir={user_dir}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    visit = PageVisit()
    try:
        endpoint = None
        while endpoint is None:
            line = await asyncio.wait_for(process.stderr.readline(), 60)
            if not line:
                raise RuntimeError("chromium exited before it listened for DevTools")
            if match := re.search(rb"DevTools listening on (ws://\S+)", line):
                endpoint = match.group(1).decode()
        async with aiohttp.ClientSession() as session, session.ws_connect(endpoint, max_msg_size=0) as ws:
            ids = iter(range(1, 10**6))
            pending: dict[int, asyncio.Future] = {}
            loaded = asyncio.get_running_loop().create_future()

            async def listen() -> None:
                async for message in ws:
                    data = json.loads(message.data)
                    if "id" in data and data["id"] in pending:
                        pending.pop(data["id"]).set_result(data)
                        continue
                    method, params = data.get("method"), data.get("params", {})
                    if method == "Runtime.consoleAPICalled":
                        visit.console.append({"type": params["type"], "args": [a.get("value") for a in params["args"]]})
                    elif method == "Runtime.exceptionThrown":
                        visit.exceptions.append(params["exceptionDetails"])
                    elif method == "Log.entryAdded":
                        visit.log.append(params["entry"])
                    elif method == "Network.requestWillBeSent":
                        visit.requests.append(params["request"]["url"])
                    elif method == "Page.loadEventFired" and not loaded.done():
                        loaded.set_result(True)

            listener = asyncio.create_task(listen())

            async def send(method: str, params: dict | None = None, session_id: str | None = None) -> dict:
                number = next(ids)
                pending[number] = asyncio.get_running_loop().create_future()
                await ws.send_json({"id": number, "method": method, "params": params or {},
                                    **({"sessionId": session_id} if session_id else {})})
                answer = await asyncio.wait_for(pending[number], 60)
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

            target = await send("Target.createTarget", {"url": "about:blank"})
            attached = await send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            sid = attached["sessionId"]
            for domain in ("Network", "Runtime", "Log", "Page"):
                await send(f"{domain}.enable", session_id=sid)
            await send("Page.navigate", {"url": url}, sid)
            await asyncio.wait_for(loaded, 60)
            evaluated = await send("Runtime.evaluate", {"expression": script, "returnByValue": True}, sid)
            visit.result = evaluated["result"].get("value")
            metrics = await send("Page.getLayoutMetrics", session_id=sid)
            size = metrics["cssContentSize"]
            shot = await send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}, sid)
            visit.screenshot = base64.b64decode(shot["data"])
            await asyncio.sleep(0.5)  # late console messages or requests, if any, still arrive
            listener.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
    return visit


def visit(chromium: str, path: Path, script: str) -> PageVisit:
    """Open ``path`` in headless Chromium, run ``script`` after the load event, and screenshot the whole page."""
    with tempfile.TemporaryDirectory(prefix="aitrail-chromium-") as user_dir:
        return asyncio.run(_visit(chromium, path.resolve().as_uri(), script, user_dir))
