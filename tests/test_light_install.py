"""`pip install aitrail` (no [server]) must give a working SDK and CLI: nothing may import the server parts."""

from __future__ import annotations

import subprocess
import sys

BLOCK = """
import sys, importlib.abc
SERVER = ("chdb", "pyarrow", "aiohttp", "clickhouse_connect", "grafana_client", "grafana_foundation_sdk")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in SERVER:
            raise ImportError(f"{name} is a server dependency")
sys.meta_path.insert(0, Block())
"""


def run(code: str, *env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True, timeout=120,
                          env={"AITRAIL_DISABLED": "1", "PATH": "/usr/bin:/bin", "HOME": "/tmp"})


def test_the_sdk_works_without_server_parts():
    result = run(
        "import aitrail\n"
        "with aitrail.track(assistant='t', prompt='p', model='m') as gen:\n"
        "    gen.record_edit('a.py', 'x = compute(1)\\n')\n"
        "aitrail.flush(timeout=5)\n"
        "from aitrail.sdk.instrument import instrument_anthropic\n"
        "print('ok')\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_cli_explains_what_to_install():
    result = run("import sys; sys.argv = ['aitrail', 'serve']\nfrom aitrail.cli import main\nmain()")
    assert result.returncode == 1
    assert "pip install 'aitrail[server]'" in result.stderr
    for command in ("['dashboards', 'build']", "['dashboards', 'push', '--grafana-url', 'x', '--token', 'y']"):
        result = run(f"import sys; sys.argv = ['aitrail', *{command}]\nfrom aitrail.cli import main\nmain()")
        assert result.returncode == 1 and "pip install 'aitrail[server]'" in result.stderr, result.stderr
    help_text = run("import sys; sys.argv = ['aitrail', '--help']\nfrom aitrail.cli import main\nmain()")
    assert "wrap" in help_text.stdout and "serve" in help_text.stdout
