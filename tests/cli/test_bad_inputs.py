"""Every command, with bad inputs, ends in a message and an exit status: never a Python traceback.

The commands are found on the application itself (a new command is swept too), and each gets the bad inputs
its parameters invite: nothing at all, empty arguments, words where numbers go, garbage files and missing
files where paths go, unreachable servers and a server of the wrong kind where URLs go. The inputs are
given one at a time, so each must be caught by itself. ``serve`` also gets a busy port, so that a case it
accepts fails at binding instead of running on.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import typer.main
from typer.testing import CliRunner

from aitrail.cli import app

runner = CliRunner()
UNREACHABLE = "http://127.0.0.1:9"


def _commands(command=None, path=()) -> Iterator[tuple[tuple[str, ...], object]]:
    command = command or typer.main.get_command(app)
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


COMMANDS = dict(_commands())
REQUIRED_ARGUMENT = {"query": "SELECT 1", "command": "true", "hook": "post-commit", "token_id": "tok-1"}
"""A valid value for each required argument, so that the bad input under test is the only one."""
LOCATIONS = {"data_dir", "spool_dir", "repo"}
"""Paths that name a directory a command may create or look inside."""


def _values(param, files: dict[str, str], web: str) -> list[str]:
    """The bad values for one parameter."""
    if param.param_type_name == "argument":
        return [""]
    if getattr(param, "is_flag", False):
        return []
    name = param.name
    if name.endswith("url"):
        return [UNREACHABLE, "not a url", web]
    if name in LOCATIONS:
        return [files["garbage"]]
    if name in ("config", "tokens_file", "tls_cert", "tls_key"):
        return [files["garbage"], files["missing"], files["wrong_types"]]
    return ["", "soon", "-1"]


def _cases(files: dict[str, str], web: str) -> Iterator[tuple[str, list[str]]]:
    for path, command in COMMANDS.items():
        base = [v for p in command.params if p.param_type_name == "argument" and p.required
                for v in [REQUIRED_ARGUMENT.get(p.name, "x")]]
        if path == ("token", "create"):
            base += ["--tenant", "acme"]
        yield " ".join(path), [*path]
        for param in command.params:
            for value in _values(param, files, web):
                if param.param_type_name == "argument":
                    args = [value if p is param else REQUIRED_ARGUMENT.get(p.name, "x")
                            for p in command.params if p.param_type_name == "argument" and p.required]
                    options = ["--tenant", "acme"] if path == ("token", "create") else []
                    yield f"{' '.join(path)} <{param.name}={value!r}>", [*path, *options, *args]
                else:
                    yield f"{' '.join(path)} {param.opts[0]} {value!r}", [*path, *base, param.opts[0], value]


@pytest.fixture(scope="module")
def busy_port():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


@pytest.fixture(scope="module")
def web_standin():
    """A stand-in for "a server of the wrong kind" (a web server that is no collector): 404 to everything."""

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_error(404)

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def files(tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00\xff not [toml] { json\n")
    wrong_types = tmp_path / "wrong.toml"
    wrong_types.write_text('[collector]\nflush_interval = "soon"\n[store]\ndata_dir = 3\n')
    return {"garbage": str(garbage), "missing": str(tmp_path / "missing" / "file.toml"), "wrong_types": str(wrong_types)}


def test_every_command_is_swept():
    assert {"serve", "sql", "usage", "migrate", "derive", "wrap", "hook install", "token create"} <= {
        " ".join(p) for p in COMMANDS}


def test_no_bad_input_ends_in_a_traceback(files, tmp_path, busy_port, web_standin, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not a git repository: the hooks refuse, nothing outside tmp_path changes
    environment = {
        "AITRAIL_DATA_DIR": str(tmp_path / "no-store"), "AITRAIL_JOURNAL": str(tmp_path / "journal"),
        "AITRAIL_TOKENS_FILE": str(tmp_path / "tokens.json"), "GIT_CEILING_DIRECTORIES": str(tmp_path.parent),
        "OTEL_EXPORTER_OTLP_ENDPOINT": UNREACHABLE, "AITRAIL_CONFIG": None, "AITRAIL_SQL_URL": None,
    }
    tracebacks = []
    for label, args in _cases(files, web_standin):
        if args[0] == "serve":
            args = [*args, "--http-port", str(busy_port)] if "--http-port" not in args else args
        if args[0] == "demo" and "--data-dir" not in args:
            continue  # the demo with good inputs runs the whole product: tests/cli/test_cli.py does that
        result = runner.invoke(app, args, env=environment)
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        if crashed or "Traceback" in result.output:
            tracebacks.append(f"{label}: {result.exception!r} {result.output[-300:]}")
    assert not tracebacks, "\n".join(tracebacks)
