"""git-ai authorship notes (``authorship/3.0.0``) imported from a real repository through a real collector.

The notes are written by the test in the format of the Git AI Standard v3.0.0 (the git-ai binary cannot be
installed here), with ``git notes --ref=ai``; the expected rows are computed from the lines and attestations
the test wrote, never read back from aitrail.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aitrail.cli import app
from aitrail.errors import InvalidImport, StoreUnavailable
from aitrail.interop.git_ai import import_git_ai, parse_note
from aitrail.interop.spans import Destination
from aitrail.sdk.fingerprint import line_fingerprint

from interop_support import WITH_AND_WITHOUT_COLLECTOR, commit_files, destination_of, git, import_twice, rows, typed_rows

FIXTURES = Path(__file__).parent.parent / "fixtures" / "git_ai"
REPO_URL = "https://git.example.com/acme/shop.git"


def session_id(tool: str, conversation: str) -> str:
    """Section 1.2.3.1: "s_" + SHA256("<tool>:<conversation_id>")[0..14]."""
    return "s_" + hashlib.sha256(f"{tool}:{conversation}".encode()).hexdigest()[:14]


def human_key(identity: str) -> str:
    return "h_" + hashlib.sha256(identity.encode()).hexdigest()[:14]


def legacy_key(tool: str, conversation: str) -> str:
    return hashlib.sha256(f"{tool}:{conversation}".encode()).hexdigest()[:16]


def quoted(path: str) -> str:
    return f'"{path}"' if any(c in path for c in " \t\n") else path


def ranges_text(numbers: list[int]) -> str:
    """Comma-separated singles and ranges, consecutive lines as ranges (1-4,9-10,12)."""
    blocks: list[list[int]] = []
    for n in sorted(numbers):
        if blocks and n == blocks[-1][1] + 1:
            blocks[-1][1] = n
        else:
            blocks.append([n, n])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in blocks)


def write_note(root: Path, commit: str, attestations: dict[str, dict[str, list[int]]], metadata: dict) -> None:
    """A note as git-ai writes it: files, two-space attestation lines, ``---``, pretty JSON; added byte for byte."""
    text = ""
    for path, keys in attestations.items():
        text += quoted(path) + "\n" + "".join(f"  {key} {ranges_text(lines)}\n" for key, lines in keys.items())
    text += "---\n" + json.dumps(metadata, indent=2)
    blob = git(root, "hash-object", "-w", "--stdin", stdin=text).strip()
    git(root, "notes", "--ref=ai", "add", "-f", "-C", blob, commit)


CART_V1 = [
    "def total(items):",                                  # 1 AI (claude session)
    "    return sum(i.price * i.qty for i in items)",      # 2 AI
    "",                                                   # 3 AI (blank: no fingerprint)
    "def discount(total, rate):",                         # 4 AI
    "    # finance asked for this rule",                  # 5 human (known)
    "    rate = min(rate, 0.5)",                          # 6 human (known)
    "    return round(total * (1 - rate), 2)",            # 7 untracked
    "",                                                   # 8 untracked
    "def tax(total):",                                    # 9 AI
    "    return round(total * 0.2, 2)",                   # 10 AI
    "}",                                                  # 11 untracked (trivial)
    "VERSION = 'v1'",                                     # 12 untracked
]
README_V1 = ["# Shop", "How to run the shop locally:", "make serve"]  # legacy prompt (cursor), lines 1-3
CART_V2_ADDED = ["def shipping(weight):", "    return 4.99 if weight < 2 else 9.99"]  # codex, at lines 13-14

CLAUDE = ("claude", "conv-claude-1", "claude-sonnet-4-5-20250514")
CURSOR = ("cursor", "6ef2299e-a67f-432b-aa80-3d2fb4d28999", "gpt-4o")
CODEX = ("codex", "conv-codex-7", "gpt-5-codex")
HUMAN = "Ada Author <ada@example.com>"


def make_history(root: Path) -> dict:
    """Two noted commits; returns what the notes say, for the expectations."""
    first = commit_files(root, {"shop/cart.py": CART_V1, "docs/read me.md": README_V1}, "cart and readme")
    claude, human, cursor = session_id(*CLAUDE[:2]), human_key(HUMAN), legacy_key(*CURSOR[:2])
    write_note(root, first, {
        "shop/cart.py": {f"{claude}::t_0a1b2c3d4e5f60": [1, 2, 3, 4, 9, 10], human: [5, 6]},
        "docs/read me.md": {cursor: [1, 2, 3]},
    }, {
        "schema_version": "authorship/3.0.0", "git_ai_version": "1.4.5", "base_commit_sha": first,
        "prompts": {cursor: {"agent_id": dict(zip(("tool", "id", "model"), CURSOR)), "human_author": HUMAN,
                             "total_additions": 3, "total_deletions": 0, "accepted_lines": 3, "overriden_lines": 0}},
        "humans": {human: {"author": HUMAN}},
        "sessions": {claude: {"agent_id": dict(zip(("tool", "id", "model"), CLAUDE)), "human_author": "ada@example.com",
                              "custom_attributes": {"team": "payments"}}},
    })
    second = commit_files(root, {"shop/cart.py": CART_V1 + CART_V2_ADDED}, "shipping")
    codex = session_id(*CODEX[:2])
    write_note(root, second, {"shop/cart.py": {f"{codex}::t_99887766554433": [13, 14]}}, {
        "schema_version": "authorship/3.0.0", "git_ai_version": "1.4.5", "base_commit_sha": second, "prompts": {},
        "sessions": {codex: {"agent_id": dict(zip(("tool", "id", "model"), CODEX)), "human_author": None}},
    })
    files_v1 = {"shop/cart.py": CART_V1, "docs/read me.md": README_V1}
    return {
        first: {"files": files_v1, "added": files_v1,
                "ai": [("shop/cart.py", [1, 2, 3, 4, 9, 10], "claude-code", CLAUDE, "ada@example.com", "payments"),
                       ("docs/read me.md", [1, 2, 3], "cursor", CURSOR, "ada@example.com", "")]},
        second: {"files": {"shop/cart.py": CART_V1 + CART_V2_ADDED}, "added": {"shop/cart.py": CART_V2_ADDED},
                 "ai": [("shop/cart.py", [13, 14], "codex", CODEX, "", "")]},
    }


def test_the_spec_s_three_examples_parse_to_what_they_say():
    sessions = parse_note((FIXTURES / "sessions.note").read_text(), "c1")
    assert [(a.path, a.key, a.ranges) for a in sessions.attestations] == [
        ("src/main.rs", "s_c9883b05a2487d::t_9f8e7d6c5b4a32", ((1, 10), (15, 20))),
        ("src/main.rs", "s_c9883b05a2487d::t_a1b2c3d4e5f678", ((25, 25), (30, 35))),
        ("src/main.rs", "h_31dce776f88375", ((42, 50),)),
        ("src/lib.rs", "s_e7f2a90b31cc48::t_deadbeef012345", ((1, 50),)),
    ]
    lib = sessions.authors["s_e7f2a90b31cc48::t_deadbeef012345"]
    assert (lib.human, lib.tool, lib.conversation, lib.model, lib.email, lib.team) == (
        False, "claude", "conv_abc123def456", "claude-sonnet-4-5-20250514", "dev@example.com", "backend")
    person = sessions.authors["h_31dce776f88375"]
    assert (person.human, person.name, person.email) == (True, "Developer", "dev@example.com")
    legacy = parse_note((FIXTURES / "legacy.note").read_text(), "c2")
    assert {a.key for a in legacy.attestations} == {"abcd1234abcd1234", "ef0b5678ef0b5678"}
    assert (legacy.authors["ef0b5678ef0b5678"].model, legacy.authors["ef0b5678ef0b5678"].name) == ("claude-3-sonnet", "Developer")
    mixed = parse_note((FIXTURES / "mixed.note").read_text(), "c3")
    assert [(a.path, a.key, mixed.authors[a.key].human) for a in mixed.attestations] == [
        ("src/main.rs", "s_c9883b05a2487d::t_9f8e7d6c5b4a32", False), ("src/main.rs", "h_31dce776f88375", True),
        ("src/lib.rs", "abcd1234abcd1234", False)]


def test_a_key_given_twice_under_one_file_is_one_attestation_of_all_its_lines():
    text = ("a.py\n  0123456789abcdef 1-2\n  h_0123456789abcd 3\n  0123456789abcdef 7,9-10\n---\n"
            + json.dumps({"schema_version": "authorship/3.0.0", "base_commit_sha": "", "prompts": {
                "0123456789abcdef": {"agent_id": {"tool": "cursor", "id": "c", "model": "m"}, "human_author": None}},
                "humans": {"h_0123456789abcd": {"author": "A <a@example.com>"}}}))
    note = parse_note(text, "c0")
    assert [(a.key, a.ranges, a.line) for a in note.attestations] == [
        ("0123456789abcdef", ((1, 2), (7, 7), (9, 10)), 2), ("h_0123456789abcd", ((3, 3),), 3)]


def test_notes_become_generations_and_commits_line_by_line_and_a_reimport_adds_nothing(repo, collector, ch):
    truth = make_history(repo)
    read = destination_of(collector)

    summary = import_git_ai(str(repo), read)

    expected_generations = sum(len(t["ai"]) for t in truth.values())
    assert (summary.records, summary.commits, summary.generations, summary.sent) == (
        2, 2, expected_generations, expected_generations + 2)
    assert summary.human_lines == 2

    generations = rows(ch, "SELECT * FROM aitrail.ai_generations ORDER BY commit, file_path", expected_generations)
    got = sorted((g["commit"], g["file_path"], g["assistant"], g["model"], g["session_id"], g["user_email"], g["team"],
                  g["repository"], g["line_start"], g["line_end"], g["lines_added"], g["line_fingerprints"],
                  g["prompt_policy"], g["prompt"], g["input_tokens"], g["output_tokens"], g["decision"])
                 for g in generations)
    want = []
    for commit, t in truth.items():
        for path, numbers, assistant, (_, conversation, model), email, team in t["ai"]:
            lines = t["files"][path]
            prints = [fp for fp in (line_fingerprint(lines[n - 1]) for n in numbers) if fp is not None]
            want.append((commit, path, assistant, model, conversation, email, team, REPO_URL, min(numbers), max(numbers),
                         len(numbers), prints, "none", "", 0, 0, "accepted"))
    assert got == sorted(want)

    # Line by line: every fingerprinted AI line is one origin row; no human or untracked line is.
    origins = rows(ch, "SELECT fingerprint, file_path, assistant, model FROM aitrail.ai_line_origins", 1)
    want_origins = sorted(
        (line_fingerprint(t["files"][path][n - 1]), path, assistant, model)
        for t in truth.values() for path, numbers, assistant, (_, _, model), _, _ in t["ai"] for n in numbers
        if line_fingerprint(t["files"][path][n - 1]) is not None)
    assert sorted(tuple(o.values()) for o in origins) == want_origins
    human = {line_fingerprint(CART_V1[n - 1]) for n in (5, 6, 7, 12)}
    assert not human & {o["fingerprint"] for o in origins}

    commits = rows(ch, "SELECT * FROM aitrail.ai_commits FINAL ORDER BY timestamp, commit", 2)
    assert {c["commit"] for c in commits} == set(truth)
    for c in commits:
        t = truth[c["commit"]]
        ai_lines = {(path, n) for path, numbers, *_ in t["ai"] for n in numbers}
        files = {path: {"added": sum(line_fingerprint(x) is not None for x in added),
                        "ai": sum(line_fingerprint(x) is not None and (path, t["files"][path].index(x) + 1) in ai_lines
                                  for x in added)}
                 for path, added in t["added"].items()}
        assert {f["path"]: {"added": f["added"], "ai": f["ai"]} for f in json.loads(c["files"])} == files
        assert (c["lines_added"], c["ai_lines"]) == (sum(f["added"] for f in files.values()),
                                                     sum(f["ai"] for f in files.values()))
        assert c["assistants"] == sorted({a for _, _, a, *_ in t["ai"]})
        assert (c["author_email"], c["author_name"], c["committer_email"], c["repository"]) == (
            "ada@example.com", "Ada Author", "carl@example.com", REPO_URL)
        assert c["parents"] == git(repo, "rev-list", "--parents", "-n", "1", c["commit"]).split()[1:]
        assert sorted(c["generation_ids"]) == sorted(
            g["span_id"] for g in generations if g["commit"] == c["commit"])

    again = import_git_ai(str(repo), read)
    assert (again.sent, again.already_stored) == (0, expected_generations + 2)
    (count,) = ch.query("SELECT count() FROM aitrail.otel_traces").result_rows[0]
    assert count == expected_generations + 2


def test_an_import_that_could_not_be_sent_says_so_and_running_it_again_sends_it(repo, collector, ch):
    truth = make_history(repo)
    read = destination_of(collector)
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        unreachable = Destination(read.location, read.sql_url, endpoint=f"http://127.0.0.1:{closed.getsockname()[1]}")
        with pytest.raises(StoreUnavailable, match="cannot reach the collector"):
            import_git_ai(str(repo), unreachable)
    assert ch.query("SELECT count() FROM aitrail.otel_traces").result_rows == [(0,)]

    summary = import_git_ai(str(repo), read)
    assert summary.sent == sum(len(t["ai"]) for t in truth.values()) + len(truth)


def test_by_default_a_note_left_on_a_replaced_commit_is_not_imported(repo):
    truth = make_history(repo)
    git(repo, "commit", "--amend", "-q", "-m", "shipping, reworded")  # the note stays on the replaced commit
    assert import_git_ai(str(repo), None).commits == 1
    assert import_git_ai(str(repo), None, list(truth)[1]).commits == 2  # named, it and its ancestor are


def test_a_rev_range_imports_only_its_commits(repo, collector, ch):
    truth = make_history(repo)
    first, second = list(truth)
    summary = import_git_ai(str(repo), destination_of(collector), f"{first}..{second}")
    assert (summary.commits, summary.generations) == (1, 1)
    assert [c["commit"] for c in rows(ch, "SELECT commit FROM aitrail.ai_commits", 1)] == [second]


@pytest.mark.parametrize("bad, message", [
    ("  s_0123456789abcd::t_0123456789abcd 1-3\n", "line 1: an attestation before any file path"),
    ("shop/cart.py\n  s_0123456789abcd::t_0123456789abcd 1-3\n", "line 2: session s_0123456789abcd is not in metadata.sessions"),
    ("shop/cart.py\n  {legacy} 4-2\n", "line 2: line range 4-2 is empty"),
    ("shop/cart.py\n  {legacy} 1-99\n", "line 2: shop/cart.py has 14 lines at the commit"),
    ("shop/cart.py\n  {legacy} one\n", "line 2: 'one' is no line range"),
])
def test_a_malformed_note_refuses_the_whole_import_and_names_the_commit_and_line(repo, collector, ch, bad, message):
    truth = make_history(repo)
    second = list(truth)[1]
    key = legacy_key("cursor", "x")
    metadata = {"schema_version": "authorship/3.0.0", "base_commit_sha": second,
                "prompts": {key: {"agent_id": {"tool": "cursor", "id": "x", "model": "m"}, "human_author": None}}}
    text = bad.replace("{legacy}", key) + "---\n" + json.dumps(metadata)
    blob = git(repo, "hash-object", "-w", "--stdin", stdin=text).strip()
    git(repo, "notes", "--ref=ai", "add", "-f", "-C", blob, second)

    with pytest.raises(InvalidImport) as caught:
        import_git_ai(str(repo), destination_of(collector))
    assert f"refs/notes/ai note of commit {second}: {message}" in str(caught.value)
    collector_rows = ch.query("SELECT count() FROM aitrail.otel_traces").result_rows
    assert collector_rows == [(0,)]  # the first commit's good note was not sent either


def test_the_command_refuses_a_bad_schema_version_with_exit_status_2_and_no_traceback(repo):
    commit = commit_files(repo, {"a.py": ["print('hello world')"]}, "a")
    write_note(repo, commit, {}, {"schema_version": "authorship/2.0.0", "base_commit_sha": commit, "prompts": {}})
    result = CliRunner().invoke(app, ["import", "git-ai", "--repo", str(repo), "--dry-run"])
    assert result.exit_code == 2
    assert f"refs/notes/ai note of commit {commit}" in result.output and "authorship/3.0.0" in result.output
    assert "Traceback" not in result.output


def test_a_bad_range_or_a_folder_outside_git_is_an_error_that_says_which(repo, tmp_path):
    make_history(repo)
    runner = CliRunner()
    bad_range = runner.invoke(app, ["import", "git-ai", "--repo", str(repo), "--dry-run", "no-such-branch"])
    assert bad_range.exit_code == 1 and "no-such-branch is not a revision range" in bad_range.output
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    not_git = runner.invoke(app, ["import", "git-ai", "--repo", str(outside), "--dry-run"])
    assert not_git.exit_code == 1 and "is not in a git repository" in not_git.output
    assert "Traceback" not in bad_range.output + not_git.output


def test_a_dry_run_counts_without_a_store(repo):
    truth = make_history(repo)
    result = CliRunner().invoke(app, ["import", "git-ai", "--repo", str(repo), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert (counts["records"], counts["generations"], counts["sent"], counts["dry_run"]) == (
        2, sum(len(t["ai"]) for t in truth.values()), 0, True)


@WITH_AND_WITHOUT_COLLECTOR
def test_the_command_imports_with_or_without_a_collector_owning_the_data_directory(repo, tmp_path, request, running):
    truth = make_history(repo)
    store = tmp_path / "store"
    import_twice(request, running, store, ["import", "git-ai", "--repo", str(repo)])

    generations = typed_rows(request, store, "SELECT commit, file_path, line_start, line_end, lines_added "
                                             "FROM aitrail.ai_generations")
    assert sorted(generations) == sorted((commit, path, min(numbers), max(numbers), len(numbers))
                                         for commit, t in truth.items() for path, numbers, *_ in t["ai"])
    commits = typed_rows(request, store, "SELECT commit, repository FROM aitrail.ai_commits FINAL")
    assert sorted(commits) == sorted((commit, REPO_URL) for commit in truth)
