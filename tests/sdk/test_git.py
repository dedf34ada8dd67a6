"""The repository context comes from real git repositories, made with the git command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from aitrail.sdk.git import GitContext, attributes, git_context, relative_path, strip_credentials
from aitrail.sdk.vocabulary import VCS_REF_HEAD_NAME, VCS_REF_HEAD_REVISION, VCS_REPOSITORY_URL_FULL


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git sees no user or system configuration, and no repository above tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX"):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test Person", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def make_repo(path: Path, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if commit:
        (path / "README.md").write_text("hello\n")
        git(path, "add", "README.md")
        git(path, "commit", "-q", "-m", "first")
    return path


def test_outside_a_repository_is_none(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_context(plain) is None
    assert git_context(plain / "missing" / "file.py") is None


def test_a_repository_with_a_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    ctx = git_context(repo)
    head = git(repo, "rev-parse", "HEAD")
    assert ctx == GitContext(root=Path(git(repo, "rev-parse", "--show-toplevel")), repository="", branch="main", commit=head)
    assert len(ctx.commit) == 40


def test_from_a_subdirectory_a_file_and_a_file_not_yet_written(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "src" / "pkg").mkdir(parents=True)
    (repo / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    root = git_context(repo).root
    assert git_context(repo / "src" / "pkg").root == root
    assert git_context(repo / "src" / "pkg" / "mod.py").root == root
    assert git_context(str(repo / "src" / "new" / "deeper" / "file.py")).root == root


def test_no_commits_yet(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "fresh", commit=False)
    ctx = git_context(repo)
    assert ctx is not None
    assert (ctx.branch, ctx.commit, ctx.repository) == ("main", "", "")


def test_detached_head_has_no_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "--detach")
    ctx = git_context(repo)
    assert ctx.branch == ""
    assert ctx.commit == git(repo, "rev-parse", "HEAD")


def test_branch_name_with_slashes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", "feature/ai-audit")
    assert git_context(repo).branch == "feature/ai-audit"


def test_origin_is_preferred_and_credentials_are_stripped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "remote", "add", "upstream", "https://github.com/upstream/project.git")
    git(repo, "remote", "add", "origin", "https://x-access-token:ghs_secret123@github.com/acme/project.git")
    ctx = git_context(repo)
    assert ctx.repository == "https://github.com/acme/project.git"
    assert "secret" not in repr(ctx)


def test_without_origin_the_first_configured_remote(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "remote", "add", "zeta", "git@github.com:acme/zeta.git")
    git(repo, "remote", "add", "alpha", "git@github.com:acme/alpha.git")
    assert git_context(repo).repository == "git@github.com:acme/zeta.git"


def test_hook_environment_does_not_point_at_another_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = make_repo(tmp_path / "ours")
    theirs = make_repo(tmp_path / "theirs")
    git(theirs, "checkout", "-q", "-b", "theirs-branch")
    monkeypatch.setenv("GIT_DIR", str(theirs / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(theirs))
    ctx = git_context(ours)
    assert ctx.branch == "main"
    assert ctx.root.name == "ours"


def test_never_raises_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert git_context(repo) is None


def test_never_raises_on_odd_input(tmp_path: Path) -> None:
    assert git_context(tmp_path / "nul\0byte") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@github.com/acme/x.git", "https://github.com/acme/x.git"),
        ("https://oauth2:glpat-xxxxxxxx@gitlab.com/group/sub/repo.git", "https://gitlab.com/group/sub/repo.git"),
        ("https://ghp_abcdef@github.com/acme/x", "https://github.com/acme/x"),
        ("http://user:p%40ss@host:8080/x.git", "http://host:8080/x.git"),
        ("https://user:pa@ss@host/x.git", "https://host/x.git"),
        ("https://github.com/acme/x.git", "https://github.com/acme/x.git"),
        ("git@github.com:acme/x.git", "git@github.com:acme/x.git"),
        ("ssh://git@github.com/acme/x.git", "ssh://git@github.com/acme/x.git"),
        ("ssh://deploy:hunter2@host:2222/x.git", "ssh://host:2222/x.git"),
        ("git+ssh://git@host/x", "git+ssh://git@host/x"),
        ("https://npm.example.com/@scope/pkg.git", "https://npm.example.com/@scope/pkg.git"),
        ("  https://u:p@host/x  ", "https://host/x"),
        ("/srv/git/project.git", "/srv/git/project.git"),
        ("file:///srv/git/project.git", "file:///srv/git/project.git"),
        ("", ""),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


def test_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "src").mkdir()
    ctx = git_context(repo)
    assert relative_path(ctx, repo / "src" / "app.py") == "src/app.py"
    assert relative_path(ctx, str(repo / "src" / ".." / "src" / "./app.py")) == "src/app.py"
    assert relative_path(ctx, repo) == "."
    # Relative to the current directory when that is inside the repository ...
    monkeypatch.chdir(repo / "src")
    assert relative_path(ctx, "app.py") == "src/app.py"
    assert relative_path(ctx, "../README.md") == "README.md"
    # ... and taken as repository-relative otherwise.
    monkeypatch.chdir(tmp_path)
    assert relative_path(ctx, "src/./app.py") == "src/app.py"


def test_relative_path_outside_the_repository_stays_as_given(tmp_path: Path) -> None:
    ctx = git_context(make_repo(tmp_path / "repo"))
    outside = tmp_path / "elsewhere" / "x.py"
    assert relative_path(ctx, outside) == outside.as_posix()
    assert relative_path(ctx, str(tmp_path / "elsewhere" / "sub" / ".." / "x.py")) == outside.as_posix()
    assert relative_path(ctx, tmp_path / "repository-lookalike" / "x.py") == (tmp_path / "repository-lookalike" / "x.py").as_posix()


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_relative_path_through_a_symlink(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    link = tmp_path / "link"
    link.symlink_to(repo)
    ctx = git_context(link)
    assert relative_path(ctx, link / "src" / "app.py") == "src/app.py"
    assert relative_path(ctx, repo / "src" / "app.py") == "src/app.py"


def test_attributes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "remote", "add", "origin", "https://bot:secret@git.example.com/acme/app.git")
    ctx = git_context(repo)
    assert attributes(ctx) == {
        VCS_REPOSITORY_URL_FULL: "https://git.example.com/acme/app.git",
        VCS_REF_HEAD_NAME: "main",
        VCS_REF_HEAD_REVISION: git(repo, "rev-parse", "HEAD"),
    }


def test_attributes_leave_out_what_is_unknown(tmp_path: Path) -> None:
    fresh = git_context(make_repo(tmp_path / "fresh", commit=False))
    assert attributes(fresh) == {VCS_REF_HEAD_NAME: "main"}
    assert attributes(None) == {}
