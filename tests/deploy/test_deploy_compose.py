"""deploy/docker-compose.yml: the services, their images, ports, files and variables."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from deploy_support import DEPLOY, GUIDE, REPO, dockerfile_instructions, env_refs, exec_form, load_yaml

LOOPBACK_PORT = re.compile(r"^127\.0\.0\.1:(?P<host>\d+):(?P<container>\d+)(?:/tcp)?$")


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def published(service: dict[str, Any]) -> list[re.Match[str]]:
    """Each published port, parsed; fails on anything not bound to 127.0.0.1."""
    out = []
    for port in service.get("ports", []):
        assert isinstance(port, str), f"use the short syntax '127.0.0.1:HOST:CONTAINER', not {port!r}"
        match = LOOPBACK_PORT.match(port)
        assert match, f"port {port!r} is not bound to 127.0.0.1"
        out.append(match)
    return out


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each bind mount (named volumes are left out)."""
    out = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            out.append((source, target))
    return out


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping"
    return {k: str(v) for k, v in env.items()}


def test_the_services_and_the_optional_otelcol_profile(compose):
    assert set(services(compose)) == {"clickhouse", "collector", "grafana", "otelcol"}
    for name, service in services(compose).items():
        if name == "otelcol":
            assert service["profiles"] == ["otelcol"]
        else:
            assert "profiles" not in service, f"{name} must start with a plain `docker compose up`"


@pytest.mark.parametrize(
    "name, repository",
    [
        ("clickhouse", "clickhouse/clickhouse-server"),
        ("grafana", "grafana/grafana"),
        ("otelcol", "otel/opentelemetry-collector-contrib"),
    ],
)
def test_images_are_the_expected_ones_and_pinned(compose, name, repository):
    image = services(compose)[name]["image"]
    assert "$" not in image, "pin the tag in the file, not through a variable"
    repo, _, tag = image.partition(":")
    assert repo == repository
    assert tag and tag != "latest" and re.match(r"^\d+(\.\d+)+$", tag), f"{image}: pin a version tag"


def test_every_pulled_image_is_pinned(compose):
    for name, service in services(compose).items():
        if "build" in service:
            continue
        image = service["image"]
        assert ":" in image and not image.endswith((":latest", ":main", ":nightly")), f"{name}: {image}"


def test_every_published_port_is_on_loopback_and_unique(compose):
    host_ports = []
    for service in services(compose).values():
        host_ports += [m["host"] for m in published(service)]
    assert host_ports, "nothing published at all"
    assert len(host_ports) == len(set(host_ports)), f"host port used twice: {sorted(host_ports)}"


def test_nothing_uses_host_networking_or_privileges(compose):
    for name, service in services(compose).items():
        assert service.get("network_mode") != "host", name
        assert not service.get("privileged"), name


def test_collector_is_built_from_the_deploy_dockerfile_with_the_repository_as_context(compose):
    build = services(compose)["collector"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()


def test_collector_publishes_exactly_what_the_image_exposes(compose):
    exposed = set()
    for instruction in dockerfile_instructions(DEPLOY / "Dockerfile"):
        if instruction.keyword == "EXPOSE":
            exposed |= {p.split("/")[0] for p in instruction.args.split()}
    ports = published(services(compose)["collector"])
    assert {m["container"] for m in ports} == exposed
    assert all(m["host"] == m["container"] for m in ports), "keep the well-known OTLP ports on the host"


def test_collector_flags_exist_in_aitrail_serve(compose, serve_flags):
    command = services(compose)["collector"].get("command", [])
    assert isinstance(command, list), "exec form: a list"
    used = {arg for arg in command if arg.startswith("--")}
    assert used <= serve_flags, f"unknown to `aitrail serve`: {used - serve_flags}"


def test_collector_writes_to_the_clickhouse_service_as_the_writer(compose, serve_help):
    url = environment(services(compose)["collector"])["AITRAIL_CLICKHOUSE_URL"]
    assert "env var: AITRAIL_CLICKHOUSE_URL" in serve_help, "the CLI must read this variable"
    parts = urlsplit(re.sub(r"\$\{[^}]*\}", "secret", url))
    assert parts.scheme == "http"
    assert parts.hostname == "clickhouse" and parts.port == 8123
    assert parts.username == "aitrail_writer"
    assert parts.password == "secret", "the password comes from .env, never from the file"


def test_services_wait_for_a_healthy_clickhouse(compose):
    for name in ("collector", "grafana", "otelcol"):
        depends = services(compose)[name]["depends_on"]
        assert depends["clickhouse"]["condition"] == "service_healthy", name


def test_clickhouse_healthcheck_asks_the_server(compose):
    check = services(compose)["clickhouse"]["healthcheck"]
    test = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
    assert "/ping" in test or "SELECT 1" in test
    assert check["retries"] >= 3


def test_clickhouse_keeps_its_data_in_a_named_volume(compose):
    volumes = services(compose)["clickhouse"]["volumes"]
    named = [v.split(":")[0] for v in volumes if not v.startswith((".", "/"))]
    assert any(v.split(":")[1] == "/var/lib/clickhouse" for v in volumes)
    assert set(named) <= set(compose["volumes"])


def test_every_mounted_file_exists(compose):
    for name, service in services(compose).items():
        for source, target in bind_mounts(service):
            path = (DEPLOY / source).resolve()
            assert path.exists(), f"{name}: {source} does not exist"
            assert path.is_dir() == target.endswith(("provisioning", "dashboards")), f"{name}: {source} -> {target}"
            assert ":ro" in next(v for v in service["volumes"] if v.startswith(source + ":")), f"{name}: mount {source} read-only"


def test_clickhouse_runs_the_users_init_script_on_first_start(compose):
    clickhouse = services(compose)["clickhouse"]
    mounts = dict(bind_mounts(clickhouse))
    init = [s for s, t in mounts.items() if t.startswith("/docker-entrypoint-initdb.d/") and t.endswith(".sh")]
    assert init == ["./clickhouse/initdb/10-aitrail-users.sh"]
    env = environment(clickhouse)
    assert env["CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT"] == "1", "the admin must be able to CREATE USER"
    users_sql = env["AITRAIL_USERS_SQL"]
    assert mounts["./clickhouse/users.sql"] == users_sql


def test_grafana_gets_the_plugin_and_the_provisioning(compose):
    grafana = services(compose)["grafana"]
    assert "grafana-clickhouse-datasource" in environment(grafana)["GF_INSTALL_PLUGINS"].split(",")
    mounts = dict(bind_mounts(grafana))
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = load_yaml(DEPLOY / "grafana/provisioning/dashboards/aitrail.yaml")["providers"][0]
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert environment(grafana)["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_otelcol_reads_the_mounted_config(compose):
    otelcol = services(compose)["otelcol"]
    (config_arg,) = [a for a in otelcol["command"] if a.startswith("--config")]
    path = config_arg.split("=", 1)[1]
    assert dict(bind_mounts(otelcol))["./otelcol/config.yaml"] == path


def test_otelcol_publishes_its_receivers(compose, otelcol):
    receiver_ports = set()
    for receiver in otelcol["receivers"].values():
        for protocol in receiver["protocols"].values():
            receiver_ports.add(protocol["endpoint"].rsplit(":", 1)[1])
    assert {m["container"] for m in published(services(compose)["otelcol"])} == receiver_ports


def required_variables(compose_text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", compose_text))


def quick_start_variables(text: str) -> list[set[str]]:
    """The variable lists of every `for v in ...; do ... openssl rand` line (with its continuation)."""
    text = re.sub(r"\\\n[#\s]*", " ", text)
    return [set(m.split()) for m in re.findall(r"for v in ([A-Z0-9_ ]+);\s*do", text)]


def test_every_variable_is_in_env_example_and_every_secret_is_required():
    text = (DEPLOY / "docker-compose.yml").read_text()
    example = (DEPLOY / ".env.example").read_text()
    listed = dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", example, re.M))
    assert env_refs(text) == set(listed), "docker-compose.yml and .env.example disagree"
    for name, value in listed.items():
        if name.endswith("PASSWORD"):
            assert value == "", f".env.example must not ship a usable {name}"
            assert name in required_variables(text), f"{name} must be required (${{{name}:?...}})"


def test_the_quick_start_creates_every_required_variable():
    required = required_variables((DEPLOY / "docker-compose.yml").read_text())
    for doc in (DEPLOY / "docker-compose.yml", DEPLOY / ".env.example", GUIDE):
        lists = quick_start_variables(doc.read_text())
        assert lists, f"{doc} has no quick-start line"
        for variables in lists:
            assert variables == required, f"{doc}: {sorted(variables ^ required)}"


def test_env_file_is_ignored():
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_container_environment_matches_what_its_config_files_read(compose, otelcol):
    # Grafana's data source reads $AITRAIL_READER_PASSWORD; otelcol's exporter ${env:AITRAIL_OTELCOL_PASSWORD}.
    datasource = (DEPLOY / "grafana/provisioning/datasources/clickhouse.yaml").read_text()
    for var in set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", datasource)):
        assert var in environment(services(compose)["grafana"]), var
    config = (DEPLOY / "otelcol/config.yaml").read_text()
    for var in set(re.findall(r"\$\{env:([A-Z_][A-Z0-9_]*)", config)):
        assert var in environment(services(compose)["otelcol"]), var
    script = (DEPLOY / "clickhouse/initdb/10-aitrail-users.sh").read_text()
    for var in set(re.findall(r"\b(AITRAIL_[A-Z_]+_PASSWORD)\b", script)):
        assert var in environment(services(compose)["clickhouse"]), var


def test_collector_command_is_appended_to_the_image_entrypoint(compose):
    entrypoint = next(i for i in dockerfile_instructions(DEPLOY / "Dockerfile") if i.keyword == "ENTRYPOINT")
    assert exec_form(entrypoint)[:2] == ["aitrail", "serve"]
    assert "entrypoint" not in services(compose)["collector"], "keep the image's entrypoint"


def test_aitrail_commands_in_the_guide_use_real_flags():
    readme = GUIDE.read_text()
    used: dict[str, set[str]] = {}
    for command, rest in re.findall(r"\baitrail (serve|sql|usage|migrate)\b([^\n`|]*)", readme):
        used.setdefault(command, set()).update(re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest))
    assert used.get("sql"), "the guide shows how to read the data back"
    exe = Path(sys.executable).with_name("aitrail")
    env = {**os.environ, "COLUMNS": "240", "NO_COLOR": "1", "TERM": "dumb"}
    for command, flags in used.items():
        done = subprocess.run([str(exe), command, "--help"], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        known = set(re.findall(r"--[a-z][a-z-]*", done.stdout))
        assert flags <= known, f"aitrail {command}: {flags - known}"


def test_clickhouse_finds_the_format_schema_the_collector_generates(compose):
    """The server parses OTLP with aitrail's otlp.proto: compose mounts the generated file where the server's
    configuration (config.d/aitrail.xml) says format schemas are."""
    import xml.etree.ElementTree as ET

    from aitrail.collector.engine import schema

    mounts = {target: source for source, target in bind_mounts(services(compose)["clickhouse"])}
    configs = [(DEPLOY / s).resolve() for t, s in mounts.items() if t.startswith("/etc/clickhouse-server/config.d/")]
    paths = [e.text for c in configs for e in ET.parse(c).getroot().iter("format_schema_path")]
    assert len(paths) == 1 and paths[0].startswith("/") and paths[0].endswith("/"), paths
    deployed = mounts.get(paths[0] + schema.PROTO_FILE)
    assert deployed, f"nothing mounted at {paths[0]}{schema.PROTO_FILE}"
    assert (DEPLOY / deployed).resolve().read_text() == schema.proto_text(), (
        f"{deployed} is not the format schema aitrail generates: write schema.proto_text() to it")


def test_the_collectors_spool_is_on_a_named_volume(compose, dockerfile):
    """A 2xx means fsync'd in the spool: a container replaced with its spool in the container's own layer would
    lose what it had acknowledged and not stored yet."""
    (entry,) = [i for i in dockerfile if i.keyword == "ENTRYPOINT"]
    args = [*exec_form(entry), *services(compose)["collector"].get("command", [])]
    spool = Path(args[args.index("--spool-dir") + 1])
    volumes = [v.split(":") for v in services(compose)["collector"].get("volumes", [])]
    named = [(source, Path(target)) for source, target, *_ in volumes if not source.startswith((".", "/"))]
    assert any(spool == target or target in spool.parents for source, target in named), (spool, volumes)
    assert {source for source, _ in named} <= set(compose["volumes"])
    runs = " ".join(i.args for i in dockerfile if i.keyword == "RUN")
    assert re.search(rf"chown -R 10001:10001 {next(t for _, t in named)}\b", runs), "the volume must be the user's"
