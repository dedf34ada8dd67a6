"""What a generation wrote: from texts, and from real ``git diff`` output, which must agree.

Expected lines and ranges are computed from how each new text was built
(which lines were inserted where), never from a diff algorithm.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitrail.sdk.edits import Edit, attributes, edit_from_texts, edits_from_diff, language_of
from aitrail.sdk.fingerprint import fingerprints, to_signed
from aitrail.sdk.vocabulary import (
    CODE_FILE_PATH,
    LANGUAGE,
    LINE_END,
    LINE_FINGERPRINTS,
    LINE_START,
    LINES_ADDED,
    LINES_REMOVED,
)


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git sees no user or system configuration, and no repository above tmp_path."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS"):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        check=check,
        capture_output=True,
    )
    return done.stdout.decode("utf-8")


# --- building texts whose changes are known --------------------------------------


@dataclass
class Built:
    """A new text made from an old one, with what was inserted and removed recorded as it was built."""

    old: list[str]
    new: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    added_at: list[int] = field(default_factory=list)  # 1-based line numbers in the new text
    removed: int = 0

    def keep(self, line: str) -> None:
        self.new.append(line)

    def insert(self, line: str) -> None:
        self.new.append(line)
        self.added.append(line)
        self.added_at.append(len(self.new))

    def ranges(self) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for n in self.added_at:
            if out and out[-1][1] == n - 1:
                out[-1] = (out[-1][0], n)
            else:
                out.append((n, n))
        return out


def text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def base(n: int, name: str = "value") -> list[str]:
    return [f"{name}_{i} = compute({i})" for i in range(1, n + 1)]


def build(old: list[str], inserts: dict[int, list[str]], deletes: set[int] = frozenset()) -> Built:
    """inserts[k]: lines inserted before old line k (0-based; len(old) = at the end); deletes: 0-based old lines."""
    built = Built(old=old)
    for k in range(len(old) + 1):
        for line in inserts.get(k, []):
            built.insert(line)
        if k < len(old):
            if k in deletes:
                built.removed += 1
            else:
                built.keep(old[k])
    return built


def check(edit: Edit, built: Built) -> None:
    assert list(edit.added) == built.added
    assert edit.removed == built.removed
    assert list(edit.ranges) == built.ranges()


# --- edit_from_texts ---------------------------------------------------------------


def test_insertions_in_several_places() -> None:
    old = base(20)
    built = build(old, {0: ["header = 0"], 5: ["new_a = 1", "new_b = 2"], 20: ["tail = 3"]})
    edit = edit_from_texts("src/app.py", text(old), text(built.new))
    check(edit, built)
    assert edit.ranges == ((1, 1), (7, 8), (24, 24))
    assert (edit.line_start, edit.line_end) == (1, 24)
    assert edit.language == "python"


def test_replacement() -> None:
    old = base(20)
    built = build(old, {9: ["replaced_a = 1", "replaced_b = 2"]}, deletes={9, 10, 11})
    edit = edit_from_texts("x.go", text(old), text(built.new))
    check(edit, built)
    assert (edit.removed, edit.ranges) == (3, ((10, 11),))


def test_deletion_only() -> None:
    old = base(10)
    built = build(old, {}, deletes={2, 3, 7})
    edit = edit_from_texts("x.rs", text(old), text(built.new))
    assert (edit.added, edit.removed, edit.ranges) == ((), 3, ())
    assert (edit.line_start, edit.line_end) == (0, 0)


def test_new_file_and_deleted_file() -> None:
    lines = base(4)
    created = edit_from_texts("new.ts", None, text(lines))
    assert (created.added, created.removed, created.ranges) == (tuple(lines), 0, ((1, 4),))
    assert edit_from_texts("new.ts", "", text(lines)) == created
    deleted = edit_from_texts("old.ts", text(lines), None)
    assert (deleted.added, deleted.removed, deleted.ranges) == ((), 4, ())


def test_unchanged_and_empty() -> None:
    assert edit_from_texts("a.py", "x = 1\n", "x = 1\n") == Edit("a.py", (), 0, (), "python")
    assert edit_from_texts("a.py", None, None) == Edit("a.py", (), 0, (), "python")
    assert edit_from_texts("empty.txt", None, "") == Edit("empty.txt", (), 0, (), "")


def test_a_missing_final_newline_is_a_change_as_in_git() -> None:
    edit = edit_from_texts("a.py", "first = 1\nlast = 2", "first = 1\nlast = 2\nmore = 3\n")
    assert (edit.added, edit.removed, edit.ranges) == (("last = 2", "more = 3"), 1, ((2, 3),))
    no_final = edit_from_texts("a.py", None, "a = 1\nb = 2")
    assert (no_final.added, no_final.ranges) == (("a = 1", "b = 2"), ((1, 2),))


def test_crlf_lines_are_added_without_terminators() -> None:
    edit = edit_from_texts("a.cs", "a = 1;\r\nb = 2;\r\n", "a = 1;\r\nx = 9;\r\nb = 2;\r\n")
    assert (edit.added, edit.ranges) == (("x = 9;",), ((2, 2),))


def test_only_newlines_split_lines() -> None:
    edit = edit_from_texts("a.txt", None, "form\x0cfeed = 1\nline\u2028sep = 2\n")
    assert edit.added == ("form\x0cfeed = 1", "line\u2028sep = 2")


def test_fingerprints_and_attributes() -> None:
    old = base(6)
    built = build(old, {3: ["total = price * qty", "}", ""]})
    edit = edit_from_texts("shop/cart.py", text(old), text(built.new))
    assert edit.fingerprints == tuple(fingerprints(["total = price * qty"]))
    assert attributes(edit) == {
        CODE_FILE_PATH: "shop/cart.py",
        LINE_START: 4,
        LINE_END: 6,
        LINES_ADDED: 3,
        LINES_REMOVED: 0,
        LINE_FINGERPRINTS: [to_signed(fp) for fp in edit.fingerprints],
        LANGUAGE: "python",
    }
    assert all(-(2**63) <= v < 2**63 for v in attributes(edit)[LINE_FINGERPRINTS])


def test_attributes_of_a_deletion_leave_out_the_range() -> None:
    edit = edit_from_texts("notes.unknownext", "a line here\n", None)
    assert attributes(edit) == {CODE_FILE_PATH: "notes.unknownext", LINES_ADDED: 0, LINES_REMOVED: 1}


@st.composite
def changes(draw: st.DrawFn) -> Built:
    n = draw(st.integers(0, 25))
    old = base(n, "old")
    deletes = draw(st.sets(st.integers(0, n - 1), max_size=n)) if n else set()
    counts = draw(st.lists(st.integers(0, 3), min_size=n + 1, max_size=n + 1))
    counter = iter(range(10_000))
    inserts = {k: [f"added_{next(counter)} = {k}" for _ in range(c)] for k, c in enumerate(counts) if c}
    return build(old, inserts, deletes)


@settings(max_examples=300, deadline=None)
@given(changes())
def test_edit_from_texts_recovers_how_the_text_was_built(built: Built) -> None:
    check(edit_from_texts("f.py", text(built.old), text(built.new)), built)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(built=changes(), context=st.sampled_from(["-U0", "-U1", "-U3"]))
def test_git_diff_no_index_agrees(tmp_path: Path, built: Built, context: str) -> None:
    old, new = tmp_path / "old.py", tmp_path / "new.py"
    old.write_text(text(built.old))
    new.write_text(text(built.new))
    diff = git(tmp_path, "diff", "--no-index", context, "old.py", "new.py", check=False)
    edits = edits_from_diff(diff)
    if not built.added and not built.removed:
        assert edits == []
        return
    (edit,) = edits
    check(edit, built)
    assert edit.path == "new.py"


# --- edits_from_diff against real git repositories -----------------------------------


def commit_files(repo: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "before")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    return path


def b(lines: list[str], crlf: bool = False) -> bytes:
    return text(lines).replace("\n", "\r\n" if crlf else "\n").encode()


APP = base(60, "app")
APP_CHANGE = build(
    APP,
    {2: ["import logging"], 20: ["log = logging.getLogger(__name__)", "log.info('started')"], 45: ["checked = verify(app_45)"], 60: ["main()"]},
    deletes={10, 30, 31, 45},
)
SQL = ["select id from users;", "-- old comment on users", "select name from teams;"]
SQL_CHANGE = build(SQL, {1: ["++ not a header but a line"]}, deletes={1})
ORIGINAL = base(30, "lib")
RENAMED_CHANGE = build(ORIGINAL, {12: ["patched = True"]}, deletes={12})
CRLF = base(8, "win")
CRLF_CHANGE = build(CRLF, {4: ["inserted_on_windows = 1"]})
NEW_MODULE = ["def hello():", "    return 'hi'"]
GONE = base(7, "gone")


def scenario(repo: Path) -> dict[str, tuple[bytes | None, bytes | None]]:
    """Commit the old files, make the changes and stage them; returns path -> (old bytes, new bytes)."""
    commit_files(
        repo,
        {
            "src/app.py": b(APP),
            "db/queries.sql": b(SQL),
            "lib/original.py": b(ORIGINAL),
            "win/legacy.cs": b(CRLF, crlf=True),
            "old_stuff.py": b(GONE),
            "docs/no newline.md": b"# Title\nlast line without newline",
            "caf\u00e9/na\u00efve.py": b(base(3)),
            "moved/same.txt": b(base(12, "same")),
        },
    )
    (repo / "src/app.py").write_bytes(b(APP_CHANGE.new))
    (repo / "db/queries.sql").write_bytes(b(SQL_CHANGE.new))
    git(repo, "mv", "lib/original.py", "lib/renamed.py")
    (repo / "lib/renamed.py").write_bytes(b(RENAMED_CHANGE.new))
    (repo / "win/legacy.cs").write_bytes(b(CRLF_CHANGE.new, crlf=True))
    (repo / "old_stuff.py").unlink()
    (repo / "docs/no newline.md").write_bytes(b"# Title\nlast line without newline\nand one more\n")
    (repo / "caf\u00e9/na\u00efve.py").write_bytes(b([*base(3), "appended = True"]))
    (repo / "src/new_module.py").write_bytes(b(NEW_MODULE))
    (repo / "empty.txt").write_bytes(b"")
    git(repo, "mv", "moved/same.txt", "moved/renamed_same.txt")
    git(repo, "add", "-A")
    return {
        "src/app.py": (b(APP), b(APP_CHANGE.new)),
        "db/queries.sql": (b(SQL), b(SQL_CHANGE.new)),
        "lib/renamed.py": (b(ORIGINAL), b(RENAMED_CHANGE.new)),
        "win/legacy.cs": (b(CRLF, crlf=True), b(CRLF_CHANGE.new, crlf=True)),
        "old_stuff.py": (b(GONE), None),
        "docs/no newline.md": (b"# Title\nlast line without newline", b"# Title\nlast line without newline\nand one more\n"),
        "caf\u00e9/na\u00efve.py": (b(base(3)), b([*base(3), "appended = True"])),
        "src/new_module.py": (None, b(NEW_MODULE)),
        "empty.txt": (None, b""),
        "moved/renamed_same.txt": (b(base(12, "same")), b(base(12, "same"))),
    }


def decode(content: bytes | None) -> str | None:
    return content.decode() if content is not None else None


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["-U0"],
        ["-U1"],
        ["-U12"],
        ["--no-prefix"],
        ["--src-prefix=old/", "--dst-prefix=new/"],
        ["-c", "diff.mnemonicPrefix=true"],
        ["-c", "core.quotePath=false"],
    ],
)
def test_git_diff_agrees_with_texts(repo: Path, options: list[str]) -> None:
    expected = scenario(repo)
    config, diff_options = (options, []) if options[:1] == ["-c"] else ([], options)
    diff = git(repo, *config, "diff", "--cached", "-M", *diff_options)
    edits = {edit.path: edit for edit in edits_from_diff(diff)}
    assert set(edits) == set(expected)
    for path, (old, new) in expected.items():
        assert edits[path] == edit_from_texts(path, decode(old), decode(new)), path


def test_git_diff_matches_how_the_changes_were_built(repo: Path) -> None:
    scenario(repo)
    edits = {edit.path: edit for edit in edits_from_diff(git(repo, "diff", "--cached", "-M"))}
    check(edits["src/app.py"], APP_CHANGE)
    check(edits["db/queries.sql"], SQL_CHANGE)
    check(edits["lib/renamed.py"], RENAMED_CHANGE)
    check(edits["win/legacy.cs"], CRLF_CHANGE)
    assert edits["src/app.py"].ranges == ((3, 3), (21, 22), (46, 46), (61, 61))
    assert (edits["old_stuff.py"].added, edits["old_stuff.py"].removed, edits["old_stuff.py"].ranges) == ((), 7, ())
    assert edits["src/new_module.py"].added == tuple(NEW_MODULE)
    assert edits["src/new_module.py"].ranges == ((1, 2),)
    assert edits["docs/no newline.md"].added == ("last line without newline", "and one more")
    assert edits["docs/no newline.md"].removed == 1
    assert edits["caf\u00e9/na\u00efve.py"].ranges == ((4, 4),)
    assert edits["moved/renamed_same.txt"] == Edit("moved/renamed_same.txt", (), 0, (), "")
    assert edits["empty.txt"] == Edit("empty.txt", (), 0, (), "")
    assert edits["win/legacy.cs"].language == "csharp"


def test_without_rename_detection_a_rename_is_a_delete_and_an_add(repo: Path) -> None:
    scenario(repo)
    edits = {edit.path: edit for edit in edits_from_diff(git(repo, "diff", "--cached", "--no-renames"))}
    assert edits["lib/original.py"].removed == len(ORIGINAL) and not edits["lib/original.py"].added
    assert edits["lib/renamed.py"].added == tuple(RENAMED_CHANGE.new) and edits["lib/renamed.py"].removed == 0


def test_git_show_output_with_its_commit_message(repo: Path) -> None:
    commit_files(repo, {"a.py": b(base(5))})
    built = build(base(5), {2: ["inserted = 1"]})
    (repo / "a.py").write_bytes(b(built.new))
    git(repo, "commit", "-q", "-am", "Message\n\n--- a/not_a_file\n+++ b/not_a_file\n@@ -1 +1 @@\n-x\n+y\n")
    (edit,) = edits_from_diff(git(repo, "show", "HEAD"))
    assert edit.path == "a.py"
    check(edit, built)


def test_binary_files_are_named_without_lines(repo: Path) -> None:
    commit_files(repo, {"keep.txt": b"x\n"})
    (repo / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    git(repo, "add", "-A")
    assert edits_from_diff(git(repo, "diff", "--cached")) == [Edit("image.png", (), 0, (), "")]


def test_mode_change_only(repo: Path) -> None:
    commit_files(repo, {"run.sh": b"echo hello\n"})
    git(repo, "update-index", "--chmod=+x", "run.sh")
    assert edits_from_diff(git(repo, "diff", "--cached")) == [Edit("run.sh", (), 0, (), "shell")]


# --- hand-written diffs --------------------------------------------------------------


def test_plain_unified_diff_with_timestamps_and_several_files() -> None:
    diff = (
        "--- old/a.py\t2024-05-01 10:00:00.000000000 +0000\n"
        "+++ new/a.py\t2024-05-02 11:00:00.000000000 +0000\n"
        "@@ -1,3 +1,4 @@\n"
        " one = 1\n"
        "+two = 2\n"
        " three = 3\n"
        "-four = 4\n"
        "+FOUR = 4\n"
        "--- old/b.js\t2024-05-01 10:00:00.000000000 +0000\n"
        "+++ new/b.js\t2024-05-02 11:00:00.000000000 +0000\n"
        "@@ -10 +10,2 @@\n"
        "-let x = 1;\n"
        "+let x = 2;\n"
        "+let y = 3;\n"
    )
    a, js = edits_from_diff(diff)
    assert a == Edit("new/a.py", ("two = 2", "FOUR = 4"), 1, ((2, 2), (4, 4)), "python")
    assert js == Edit("new/b.js", ("let x = 2;", "let y = 3;"), 1, ((10, 11),), "javascript")


def test_hunk_headers_without_counts() -> None:
    diff = (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n"
        "@@ -0,0 +1 @@\n+import os\n"
        "@@ -3 +4 @@ def f():\n-    return 1\n+    return 2\n"
        "@@ -9 +9,0 @@\n-gone = True\n"
    )
    (edit,) = edits_from_diff(diff)
    assert edit == Edit("x.py", ("import os", "    return 2"), 2, ((1, 1), (4, 4)), "python")
    assert (edit.line_start, edit.line_end) == (1, 4)


def test_context_lines_stripped_of_their_space_and_crlf_diffs() -> None:
    diff = "--- a/m.md\r\n+++ b/m.md\r\n@@ -1,3 +1,4 @@\r\n first line\r\n\r\n+added line\r\n last line\r\n"
    assert edits_from_diff(diff) == [Edit("m.md", ("added line",), 0, ((3, 3),), "markdown")]


def test_quoted_paths() -> None:
    diff = (
        'diff --git "a/t\\303\\251st \\"q\\".py" "b/t\\303\\251st \\"q\\".py"\n'
        "new file mode 100644\n"
        "--- /dev/null\n"
        '+++ "b/t\\303\\251st \\"q\\".py"\n'
        "@@ -0,0 +1 @@\n"
        "+x = 1\n"
    )
    assert edits_from_diff(diff) == [Edit('t\u00e9st "q".py', ("x = 1",), 0, ((1, 1),), "python")]


def test_not_a_diff() -> None:
    assert edits_from_diff("") == []
    assert edits_from_diff("just some text\n--- \nnothing here\n") == []


# --- languages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a.py", "python"),
        ("src/App.TSX", "typescript"),
        ("x.jsx", "javascript"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("Foo.java", "java"),
        ("k.kt", "kotlin"),
        ("a.c", "c"),
        ("a.hpp", "cpp"),
        ("a.cs", "csharp"),
        ("a.rb", "ruby"),
        ("a.php", "php"),
        ("a.swift", "swift"),
        ("run.sh", "shell"),
        ("q.sql", "sql"),
        ("infra/main.tf", "terraform"),
        ("config.yml", "yaml"),
        ("pyproject.toml", "toml"),
        ("README.md", "markdown"),
        ("Dockerfile", "dockerfile"),
        ("docker/Dockerfile.dev", "dockerfile"),
        ("Makefile", "makefile"),
        ("win\\path\\x.ps1", "powershell"),
        (".bashrc", ""),
        ("LICENSE", ""),
        ("archive.tar.gz", ""),
    ],
)
def test_language_of(path: str, language: str) -> None:
    assert language_of(path) == language
