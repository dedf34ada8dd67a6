"""Settings through the command line, as a user gives them: options, environment, the --config file, defaults.

The precedence test starts the real executable and reads where it says it listens and stores, then checks the
port really answers: the command line beats the environment, which beats the file, which beats the default.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.collector.config import CollectorConfig

runner = CliRunner()
AITRAIL = shutil.which("aitrail", path=os.path.dirname(sys.executable))


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_serve_takes_the_command_line_then_the_environment_then_the_file_then_the_default(tmp_path):
    http, grpc_in_file, grpc_on_command_line, sql = free_ports(4)
    from_file, from_env = tmp_path / "from-file", tmp_path / "from-env"
    config = tmp_path / "aitrail.toml"
    config.write_text(f'[collector]\nhttp_port = {http}\ngrpc_port = {grpc_in_file}\nsql_port = {sql}\n'
                      f'[store]\ndata_dir = "{from_file}"\n')
    env = {**os.environ, "AITRAIL_DATA_DIR": str(from_env), "AITRAIL_CONFIG": str(config)}
    process = subprocess.Popen([AITRAIL, "serve", "--grpc-port", str(grpc_on_command_line)], env=env,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        banner = []
        for line in process.stderr:
            banner.append(line)
            if "Ctrl-C" in line:
                break
        said = "".join(banner)
        assert f"127.0.0.1:{http}" in said, said  # the file beats the default
        assert f"127.0.0.1:{grpc_on_command_line}" in said and str(grpc_in_file) not in said  # the command line beats the file
        assert str(from_env) in said and not from_file.exists()  # the environment beats the file
        assert CollectorConfig.host in said  # nobody said: the default
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=30) as answer:
            assert answer.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


@pytest.mark.parametrize(("line", "expected"), [
    ('flush_interval = "soon"', 'flush_interval = "soon" in {path}: expected a number'),
    ("http_port = 4318.5", "http_port = 4318.5 in {path}: expected a whole number"),
    ('allow_insecure_listen = "yes"', 'allow_insecure_listen = "yes" in {path}: expected true or false'),
    ("team_attributes = 3", "team_attributes = 3 in {path}: expected a list of strings"),
    ("tokens_file = 1", "tokens_file = 1 in {path}: expected a path"),
])
def test_a_wrongly_typed_setting_names_the_key_the_value_and_what_is_expected(tmp_path, line, expected):
    config = tmp_path / "aitrail.toml"
    config.write_text(f"[collector]\n{line}\n")
    result = invoke("serve", "--config", config)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert expected.format(path=config) in result.output
    assert "docs/configuration.md" in result.output


def test_unknown_settings_and_tables_are_named(tmp_path):
    config = tmp_path / "aitrail.toml"
    config.write_text("[collector]\nhttp_prot = 1\n[stor]\ndata_dir = 'x'\n")
    result = invoke("serve", "--config", config)
    assert result.exit_code == 1 and "[collector] http_prot" in result.output and "[stor]" in result.output


def test_serve_help_shows_the_config_tables_and_the_defaults_it_owns_nowhere():
    result = invoke("serve", "--help", env={"COLUMNS": "200"})
    assert "[collector] and \\[store]" not in result.output and "[collector] and [store]" in result.output
    assert f"(default {CollectorConfig.http_port})" in result.output


def test_sql_reads_the_store_the_config_file_names(tmp_path):
    store = tmp_path / "store"
    assert invoke("migrate", "--data-dir", store).exit_code == 0
    config = tmp_path / "aitrail.toml"
    config.write_text(f'[store]\ndata_dir = "{store}"\n')
    result = invoke("sql", "--config", config, "--format", "json", "SELECT count() AS n FROM aitrail.otel_traces",
                    env={"AITRAIL_DATA_DIR": ""})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": 0}]


def test_reading_a_store_that_does_not_exist_is_an_error_and_creates_nothing(tmp_path):
    typo = tmp_path / "TYPO"
    for command in (["sql", "SELECT 1"], ["usage"], ["migrate", "--status"]):
        result = invoke(*command, "--data-dir", typo)
        assert not typo.exists(), command
        if command[0] != "migrate":
            assert result.exit_code == 1 and f"there is no store at {typo}" in result.output


def test_usage_of_an_empty_store_says_there_is_no_data_yet_and_how_to_send_some(tmp_path):
    store = tmp_path / "store"
    assert invoke("migrate", "--data-dir", store).exit_code == 0
    result = invoke("usage", "--data-dir", store)
    assert result.exit_code == 0 and "no AI activity stored" in result.output and "aitrail serve" in result.output


def test_a_read_says_how_many_acknowledged_records_wait_in_a_stopped_collectors_spool(tmp_path):
    from aitrail.collector.spool import Spool, encode_record

    store = tmp_path / "store"
    assert invoke("migrate", "--data-dir", store).exit_code == 0
    spool = Spool(store / "spool").open()
    try:
        spool.write([encode_record({"otel_traces": pa.table({"x": [1, 2]})}) for _ in range(3)])
    finally:
        spool.close()
    result = invoke("sql", "--data-dir", store, "SELECT count() AS n FROM aitrail.otel_traces")
    assert result.exit_code == 0
    assert "3 acknowledged request(s) wait in the collector's spool" in result.stderr
