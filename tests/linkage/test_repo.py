"""``aitrail.linkage.repo``: CODEOWNERS as GitHub reads it (the last matching pattern wins) and ``git blame``
across a move, in a real repository the test builds."""

from __future__ import annotations

import subprocess
from pathlib import Path

from aitrail.linkage.repo import UNCOMMITTED, blame, owners

ENV = {"GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.com", "GIT_COMMITTER_NAME": "Ana",
       "GIT_COMMITTER_EMAIL": "ana@example.com", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin:/usr/local/bin"}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env={**ENV, "HOME": str(root)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_codeowners_last_match_wins(tmp_path):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text(
        "# owners\n*            @acme/everyone\n*.py         @acme/python\n/shop/       @acme/shop  # the shop\n"
        "docs/       @acme/docs\nshop/pay/*.py @ana @bo\n")
    assert owners(tmp_path, "README.md") == ["@acme/everyone"]
    assert owners(tmp_path, "tools/x.py") == ["@acme/python"]
    assert owners(tmp_path, "shop/cart.py") == ["@acme/shop"]
    assert owners(tmp_path, "shop/pay/card.py") == ["@ana", "@bo"]
    assert owners(tmp_path, "src/docs/guide.md") == ["@acme/docs"]  # unanchored: at any depth
    assert owners(tmp_path / "nowhere", "a.py") == []


def test_blame_follows_a_line_moved_to_another_file_and_marks_uncommitted_lines(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.py").write_text("first = 1\nmoved_line = compute_the_total_of_every_invoice(value, currency)\nlast = 3\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "a")
    origin = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "a.py").write_text("first = 1\nlast = 3\n")
    (tmp_path / "b.py").write_text("other = 2\n        moved_line = compute_the_total_of_every_invoice(value, currency)\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "move")
    moved = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "b.py").write_text("other = 2\n        moved_line = compute_the_total_of_every_invoice(value, currency)\nnew = 4\n")
    lines = blame(tmp_path, "b.py")
    assert [(b.line, b.text.strip(), b.commit) for b in lines] == [
        (1, "other = 2", moved), (2, "moved_line = compute_the_total_of_every_invoice(value, currency)", origin), (3, "new = 4", UNCOMMITTED)]
    assert lines[1].author_email == "ana@example.com" and lines[1].committed_at > 0
    assert blame(tmp_path, "no-such-file.py") is None
