"""``aitrail.linkage.sarif`` and ``aitrail findings import``: the real output of Bandit and Semgrep, CodeQL's
documented shape, re-imports, bad files and unresolved results. Expected findings are worked out here from the
files the tests write (which line holds which dangerous call), not from aitrail."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.collector.store import StoreLocation, open_store
from aitrail.linkage.sarif import Target, read_sarif
from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import line_fingerprint, to_signed
from scanner_runs import CODEQL_SARIF, bandit, semgrep

REMOTE = "https://git.example.com/acme/shop.git"
SERVICE = [
    "import pickle",
    "import subprocess",
    "",
    "def load(blob):",
    "    return pickle.loads(blob)",
    "",
    "",
    "def run(cmd):",
    "    subprocess.call(cmd, shell=True)",
]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.com", "HOME": str(root),
                               "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@example.com",
                               "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin:/usr/local/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "src").mkdir(parents=True)
    (root / "src" / "service.py").write_text("\n".join(SERVICE) + "\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", REMOTE)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "service")
    return root


def expected_line(pattern: str) -> tuple[int, str]:
    (number,) = [i for i, line in enumerate(SERVICE, 1) if pattern in line]
    return number, SERVICE[number - 1]


def by_rule(records) -> dict[str, dict]:
    return {r.attributes[v.FINDING_RULE].rsplit(".", 1)[-1]: r.attributes for r in records}


def test_bandit_results_resolve_to_lines_their_text_and_the_introducing_commit(repo, tmp_path):
    imported = read_sarif(bandit(repo, tmp_path / "bandit.sarif"), Target.of(repo, None))
    found = by_rule(imported.records)
    assert imported.unresolved == 0 and imported.results == len(imported.records)
    head = git(repo, "rev-parse", "HEAD")
    for rule, pattern, severity in (("B602", "shell=True", "high"), ("B301", "pickle.loads", "medium")):
        number, text = expected_line(pattern)
        a = found[rule]
        assert (a[v.CODE_FILE_PATH], a[v.LINE_START], a[v.FINDING_LINE_TEXT]) == ("src/service.py", number, text.strip())
        assert json.loads(a[v.LINE_FINGERPRINTS]) == [to_signed(line_fingerprint(text))]
        assert (a[v.VCS_REPOSITORY_URL_FULL], a[v.VCS_REF_HEAD_REVISION], a[v.SEVERITY]) == (REMOTE, head, severity)
        assert a[v.FINDING_INTRODUCED_COMMIT] == head and a[v.FINDING_INTRODUCED_AUTHOR] == "ana@example.com"
    assert found["B602"][v.FINDING_CWE] == ["CWE-78"]


def test_semgrep_results_with_the_tests_rules(repo, tmp_path):
    imported = read_sarif(semgrep(repo, tmp_path / "semgrep.sarif"), Target.of(repo, None))
    found = by_rule(imported.records)
    assert set(found) == {"subprocess-shell-true", "pickle-loads"}
    for rule, pattern in (("subprocess-shell-true", "shell=True"), ("pickle-loads", "pickle.loads")):
        number, text = expected_line(pattern)
        assert (found[rule][v.CODE_FILE_PATH], found[rule][v.LINE_START]) == ("src/service.py", number)
        assert found[rule][v.FINDING_SOURCE] == "semgrep"
    assert found["subprocess-shell-true"][v.SEVERITY] == "high"  # ERROR -> level error
    assert found["pickle-loads"][v.FINDING_CWE] == ["CWE-502"]


def test_codeql_shape_base_uri_chains_artifact_indexes_and_a_result_outside_the_repository(repo, tmp_path):
    sarif = tmp_path / "codeql.sarif"
    sarif.write_text(CODEQL_SARIF.read_text().replace("file:///C:/Users/Mary/code/TheProject/", repo.as_uri() + "/"))
    imported = read_sarif(sarif, Target.of(repo, git(repo, "rev-parse", "HEAD")))
    assert (imported.results, imported.unresolved) == (3, 1)
    found = {(a.attributes[v.FINDING_RULE], a.attributes[v.LINE_START]): a.attributes for a in imported.records}
    deser = found[("py/unsafe-deserialization", expected_line("pickle.loads")[0])]
    assert (deser[v.CODE_FILE_PATH], deser[v.SEVERITY], deser[v.FINDING_CWE]) == ("src/service.py", "critical", ["CWE-502"])
    assert deser[v.FINDING_LINE_TEXT] == expected_line("pickle.loads")[1].strip()  # read from the named commit
    shell = found[("py/command-line-injection", expected_line("shell=True")[0])]
    assert (shell[v.CODE_FILE_PATH], shell[v.SEVERITY], shell[v.FINDING_CWE]) == ("src/service.py", "high", ["CWE-78", "CWE-88"])
    outside = found[("py/command-line-injection", 3)]
    assert outside[v.FINDING_RESOLVED] == "false" and outside.get(v.CODE_FILE_PATH, "") == ""


def invoke(*args) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_import_twice_adds_nothing_the_second_time(repo, tmp_path):
    sarif = bandit(repo, tmp_path / "bandit.sarif")
    store = tmp_path / "store"
    first = invoke("findings", "import", sarif, "--repo", repo, "--data-dir", store, "--json")
    second = invoke("findings", "import", sarif, "--repo", repo, "--data-dir", store, "--json")
    assert first.exit_code == second.exit_code == 0, first.output
    results = len(json.loads(sarif.read_text())["runs"][0]["results"])
    assert json.loads(first.output)["findings"] == results
    with open_store(StoreLocation(data_dir=store)) as opened:
        (row,) = opened.rows("SELECT count() AS n, uniqExact(finding_id) AS ids FROM aitrail.ai_findings FINAL")
    assert (int(row["n"]), int(row["ids"])) == (results, results)


@pytest.mark.parametrize("defect, path", [
    (lambda d: d.update(version="2.0.0"), "$.version"),
    (lambda d: d["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"].update(startLine="six"),
     "$.runs[0].results[1].locations[0].physicalLocation.region.startLine"),
    (lambda d: d["runs"][0]["results"][2].update(level="fatal"), "$.runs[0].results[2].level"),
    (lambda d: d["runs"][0]["tool"]["driver"].pop("name"), "$.runs[0].tool.driver.name"),
    (lambda d: d["runs"][0]["results"][0].update(message=None), "$.runs[0].results[0].message"),
])
def test_bad_sarif_is_refused_whole_with_the_json_path_and_exit_status_2(repo, tmp_path, defect, path):
    doc = json.loads(bandit(repo, tmp_path / "bandit.sarif").read_text())
    defect(doc)
    bad = tmp_path / "bad.sarif"
    bad.write_text(json.dumps(doc))
    store = tmp_path / "store"
    result = invoke("findings", "import", bad, "--repo", repo, "--data-dir", store)
    assert result.exit_code == 2
    assert path in "".join(result.output.split()) and "Traceback" not in result.output  # any terminal width
    with open_store(StoreLocation(data_dir=store)) as opened:
        (row,) = opened.rows("SELECT count() AS n FROM aitrail.otel_traces")
    assert int(row["n"]) == 0
