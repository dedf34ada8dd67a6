"""deploy/Dockerfile: base image, user, ports, entrypoint flags, and a build context that has everything."""

from __future__ import annotations

import json
import re
import tomllib

from deploy_support import REPO, exec_form


def instructions(dockerfile, keyword):
    return [i for i in dockerfile if i.keyword == keyword]


def entrypoint(dockerfile) -> list[str]:
    (only,) = instructions(dockerfile, "ENTRYPOINT")
    return exec_form(only)


def flag_values(args: list[str]) -> dict[str, str | None]:
    """--flag value / --flag=value / bare --flag, from an argument list."""
    out: dict[str, str | None] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if eq:
                out[name] = value
            elif i + 1 < len(args) and not args[i + 1].startswith("--"):
                out[name] = args[i + 1]
                i += 1
            else:
                out[name] = None
        i += 1
    return out


def exposed(dockerfile) -> set[str]:
    ports = set()
    for instruction in instructions(dockerfile, "EXPOSE"):
        ports |= {p.split("/")[0] for p in instruction.args.split()}
    return ports


def test_base_image_is_python_311_slim(dockerfile):
    (base,) = instructions(dockerfile, "FROM")
    assert base.args.split()[0] == "python:3.11-slim"
    assert dockerfile[0].keyword == "FROM"


def test_runs_as_a_non_root_user(dockerfile):
    users = instructions(dockerfile, "USER")
    assert users, "no USER: the collector would run as root"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0")
    keywords = [i.keyword for i in dockerfile]
    assert keywords.index("ENTRYPOINT") > max(i for i, k in enumerate(keywords) if k == "USER")
    (useradd,) = [i for i in instructions(dockerfile, "RUN") if "useradd" in i.args]
    assert re.search(rf"--uid {re.escape(user)}\b", useradd.args) or user in useradd.args.split()


def test_exposes_otlp_and_the_sql_port(dockerfile):
    assert exposed(dockerfile) == {"4317", "4318", "8124"}


def test_entrypoint_is_aitrail_serve_listening_beyond_loopback(dockerfile):
    args = entrypoint(dockerfile)
    assert args[:2] == ["aitrail", "serve"]
    flags = flag_values(args[2:])
    assert flags["--host"] == "0.0.0.0"
    assert "--allow-insecure-listen" in flags, "aitrail refuses 0.0.0.0 without it"


def test_entrypoint_flags_exist_in_aitrail_serve(dockerfile, serve_flags):
    used = set(flag_values(entrypoint(dockerfile)[2:]))
    assert used <= serve_flags, f"unknown to `aitrail serve`: {used - serve_flags}"


def test_entrypoint_ports_are_the_exposed_ones(dockerfile):
    flags = flag_values(entrypoint(dockerfile)[2:])
    ports = {flags[f] for f in ("--grpc-port", "--http-port", "--sql-port")}
    assert ports == exposed(dockerfile)


def test_no_store_location_or_secret_is_baked_in(dockerfile, serve_help):
    args = entrypoint(dockerfile)
    assert "--clickhouse-url" not in flag_values(args[2:]), "the URL (with its password) comes from the environment"
    assert "env var: AITRAIL_CLICKHOUSE_URL" in serve_help
    for instruction in instructions(dockerfile, "ENV") + instructions(dockerfile, "ARG"):
        assert not re.search(r"AITRAIL_(CLICKHOUSE_URL|DATA_DIR)|PASSWORD", instruction.args), instruction
    # AITRAIL_DATA_DIR together with AITRAIL_CLICKHOUSE_URL is refused by the CLI.


def test_installs_the_project_with_the_server_extra(dockerfile):
    runs = " ".join(i.args for i in instructions(dockerfile, "RUN"))
    assert re.search(r"pip install [\"']?\.\[server\][\"']?", runs)


def test_copies_everything_the_package_build_needs(dockerfile):
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    needed = {"pyproject.toml", pyproject["project"]["readme"]}
    # the package, and the top-level folders its links (aitrail/sdk -> ../sdk, ...) point into
    needed |= {"aitrail"} | {link.resolve().relative_to(REPO).parts[0]
                             for link in (REPO / "aitrail").iterdir() if link.is_symlink()}
    copied = set()
    for instruction in instructions(dockerfile, "COPY"):
        args = instruction.args.split()
        assert not any(a.startswith("--from") for a in args), "single stage: nothing to copy from"
        sources = args[:-1]
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: not in the build context (the repository root)"
            assert source not in (".", "./"), "copy what the build needs, not the context (.venv, .git)"
        copied |= {s.rstrip("/") for s in sources}
    assert needed <= copied, f"the image build would miss: {sorted(needed - copied)}"


def test_healthcheck_asks_the_collectors_healthz_on_its_http_port(dockerfile):
    (check,) = instructions(dockerfile, "HEALTHCHECK")
    http_port = flag_values(entrypoint(dockerfile)[2:])["--http-port"]
    command = check.args[check.args.index("CMD") + 3 :].strip()
    assert f"127.0.0.1:{http_port}/healthz" in " ".join(json.loads(command))
