"""Who is asking: each field from the first place that knows it, and the place recorded."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aitrail.sdk.environment import AITRAIL_TEAM, AITRAIL_USER_EMAIL, AITRAIL_USER_ID, AITRAIL_USER_NAME
from aitrail.sdk.identity import Identity, attributes, codeowners, path_matches, resolve_identity, team_of_owner
from aitrail.sdk.vocabulary import IDENTITY_SOURCE, TEAM, USER_EMAIL, USER_ID, USER_NAME


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
    for var in ("GIT_DIR", "GIT_WORK_TREE", AITRAIL_USER_ID, AITRAIL_USER_EMAIL, AITRAIL_USER_NAME, AITRAIL_TEAM):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    return path


def configured(repo: Path, email: str | None = "dev@example.com", name: str | None = "Dev Person") -> Path:
    if email:
        git(repo, "config", "user.email", email)
    if name:
        git(repo, "config", "user.name", name)
    return repo


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- precedence ------------------------------------------------------------------


def test_arguments_win_over_environment_and_git(repo: Path) -> None:
    configured(repo)
    env = {AITRAIL_USER_ID: "env-id", AITRAIL_USER_EMAIL: "env@example.com", AITRAIL_USER_NAME: "Env", AITRAIL_TEAM: "env-team"}
    who = resolve_identity(user_id="u1", email="arg@example.com", name="Arg", team="arg-team", repo_root=repo, env=env)
    assert who == Identity("u1", "arg@example.com", "Arg", "arg-team", dict.fromkeys(("user_id", "email", "name", "team"), "argument"))


def test_environment_wins_over_git(repo: Path) -> None:
    configured(repo)
    env = {AITRAIL_USER_ID: "env-id", AITRAIL_USER_EMAIL: "env@example.com", AITRAIL_USER_NAME: "Env Name", AITRAIL_TEAM: "env-team"}
    who = resolve_identity(repo_root=repo, env=env)
    assert (who.user_id, who.email, who.name, who.team) == ("env-id", "env@example.com", "Env Name", "env-team")
    assert who.sources == {
        "user_id": "environment:AITRAIL_USER_ID",
        "email": "environment:AITRAIL_USER_EMAIL",
        "name": "environment:AITRAIL_USER_NAME",
        "team": "environment:AITRAIL_TEAM",
    }


def test_the_process_environment_is_the_default(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AITRAIL_USER_EMAIL, "proc@example.com")
    who = resolve_identity(repo_root=repo)
    assert (who.email, who.sources["email"]) == ("proc@example.com", "environment:AITRAIL_USER_EMAIL")


def test_git_config_then_the_email_is_the_id(repo: Path) -> None:
    configured(repo)
    who = resolve_identity(repo_root=repo, env={})
    assert (who.user_id, who.email, who.name) == ("dev@example.com", "dev@example.com", "Dev Person")
    assert who.sources == {"user_id": "git-config", "email": "git-config", "name": "git-config", "team": "none"}


def test_fields_mix_sources(repo: Path) -> None:
    configured(repo, email="git@example.com", name="Git Name")
    who = resolve_identity(name="Given Name", repo_root=repo, env={AITRAIL_USER_EMAIL: "env@example.com"})
    assert (who.user_id, who.email, who.name) == ("env@example.com", "env@example.com", "Given Name")
    assert who.sources == {
        "user_id": "environment:AITRAIL_USER_EMAIL",
        "email": "environment:AITRAIL_USER_EMAIL",
        "name": "argument",
        "team": "none",
    }


def test_empty_values_count_as_unknown(repo: Path) -> None:
    configured(repo)
    who = resolve_identity(email="  ", repo_root=repo, env={AITRAIL_USER_EMAIL: "", AITRAIL_USER_ID: " "})
    assert (who.email, who.sources["email"]) == ("dev@example.com", "git-config")
    assert (who.user_id, who.sources["user_id"]) == ("dev@example.com", "git-config")


def test_nothing_known_is_said_not_guessed(repo: Path) -> None:
    who = resolve_identity(repo_root=repo, env={})
    assert (who.user_id, who.email, who.name, who.team) == ("", "", "", "")
    assert set(who.sources.values()) == {"none"}


def test_global_git_config_counts_too(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "home" / ".gitconfig").write_text("[user]\n\temail = global@example.com\n")
    who = resolve_identity(repo_root=repo, env={})
    assert (who.email, who.sources["email"], who.name, who.sources["name"]) == ("global@example.com", "git-config", "", "none")


def test_a_name_alone_gives_no_id(repo: Path) -> None:
    configured(repo, email=None, name="Only Name")
    who = resolve_identity(repo_root=repo, env={})
    assert (who.user_id, who.sources["user_id"], who.name) == ("", "none", "Only Name")


def test_missing_repository_root_never_raises(tmp_path: Path) -> None:
    who = resolve_identity(repo_root=tmp_path / "does-not-exist", path="src/a.py", env={})
    assert who.team == "" and who.sources["team"] == "none"


def test_repository_found_from_an_absolute_path(repo: Path) -> None:
    configured(repo)
    write(repo / "CODEOWNERS", "/services/ @acme/services-team\n")
    who = resolve_identity(path=str(repo / "services" / "api.py"), env={})
    assert (who.email, who.team, who.sources["team"]) == ("dev@example.com", "services-team", "codeowners:CODEOWNERS")


# --- CODEOWNERS ------------------------------------------------------------------

CODEOWNERS = """\
# Global owners, overridden below.
*                       @acme/platform @lead
*.js                    @acme/frontend
/services/payments/     @acme/payments-team   # payments
docs/*                  docs@example.com
apps/                   @octocat
/services/payments/legacy/
**/migrations           @acme/dba
"""


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ["@acme/platform", "@lead"]),
        ("web/app.js", ["@acme/frontend"]),
        ("services/payments/api.py", ["@acme/payments-team"]),
        ("services/payments/web/ui.js", ["@acme/payments-team"]),  # later rule wins over *.js
        ("services/payments/legacy/old.py", []),  # explicitly unowned
        ("docs/guide.md", ["docs@example.com"]),
        ("docs/deep/guide.md", ["@acme/platform", "@lead"]),  # docs/* is not recursive
        ("src/apps/thing/x.py", ["@octocat"]),
        ("services/payments/migrations/0001.sql", ["@acme/dba"]),
        ("./README.md", ["@acme/platform", "@lead"]),
    ],
)
def test_codeowners_last_match_wins(repo: Path, path: str, owners: list[str]) -> None:
    write(repo / ".github" / "CODEOWNERS", CODEOWNERS)
    assert codeowners(repo, path) == owners


def test_codeowners_of_an_absolute_path(repo: Path) -> None:
    write(repo / ".github" / "CODEOWNERS", CODEOWNERS)
    assert codeowners(repo, repo / "services" / "payments" / "api.py") == ["@acme/payments-team"]


def test_codeowners_file_locations_in_githubs_order(repo: Path) -> None:
    assert codeowners(repo, "x.py") == []
    write(repo / "docs" / "CODEOWNERS", "* @acme/docs\n")
    assert codeowners(repo, "x.py") == ["@acme/docs"]
    write(repo / "CODEOWNERS", "* @acme/root\n")
    assert codeowners(repo, "x.py") == ["@acme/root"]
    write(repo / ".github" / "CODEOWNERS", "* @acme/github\n")
    assert codeowners(repo, "x.py") == ["@acme/github"]


def test_team_from_codeowners(repo: Path) -> None:
    write(repo / ".github" / "CODEOWNERS", CODEOWNERS)
    who = resolve_identity(repo_root=repo, path="services/payments/api.py", env={})
    assert (who.team, who.sources["team"]) == ("payments-team", "codeowners:.github/CODEOWNERS")
    # The first owner that is a team; people and e-mails name no team.
    assert resolve_identity(repo_root=repo, path="README.md", env={}).team == "platform"
    nobody = resolve_identity(repo_root=repo, path="docs/guide.md", env={})
    assert (nobody.team, nobody.sources["team"]) == ("", "none")
    # Without a path: the owner of every file (the "*" rule), as for README.md.
    assert resolve_identity(repo_root=repo, env={}).team == "platform"


def test_team_of_owner() -> None:
    assert team_of_owner("@org/payments-team") == "payments-team"
    assert team_of_owner("@alice") is None
    assert team_of_owner("alice@example.com") is None


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("*", ["a", "a/b/c.py"], []),
        ("*.py", ["a.py", "src/deep/a.py"], ["a.pyc", "py", "a.py.txt"]),
        ("/build/logs/", ["build/logs/x.log", "build/logs/deep/x.log"], ["build/logs", "x/build/logs/y.log"]),
        ("apps/", ["apps/a.py", "x/y/apps/a.py"], ["apps", "myapps/a.py"]),
        ("docs/*", ["docs/a.md"], ["docs/a/b.md", "x/docs/a.md", "docs"]),
        ("/docs", ["docs", "docs/a/b.md"], ["x/docs/a.md", "docsy/a.md"]),
        ("docs", ["docs/a.md", "x/docs/a.md"], ["docsy/a.md"]),
        ("src/api", ["src/api/v1/x.go", "src/api"], ["lib/src/api/x.go", "src/apis/x.go"]),
        ("**/logs", ["logs/x", "a/b/logs/x", "logs"], ["catalogs/x"]),
        ("foo/**/bar", ["foo/bar", "foo/x/bar", "foo/x/y/bar/z"], ["x/foo/bar", "foo/barx"]),
        ("/src/**", ["src/a", "src/a/b"], ["src", "x/src/a"]),
        ("f?o.txt", ["foo.txt", "a/fxo.txt"], ["fo.txt", "fooo.txt"]),
        (r"my\ file.txt", ["my file.txt", "d/my file.txt"], ["my\\ file.txt"]),
        ("/*", ["a.py"], ["src/a.py"]),
        ("/*.md", ["README.md"], ["docs/a.md"]),
    ],
)
def test_path_patterns(pattern: str, matching: list[str], not_matching: list[str]) -> None:
    for path in matching:
        assert path_matches(pattern, path), (pattern, path)
    for path in not_matching:
        assert not path_matches(pattern, path), (pattern, path)


def test_escaped_spaces_in_codeowners(repo: Path) -> None:
    write(repo / "CODEOWNERS", "/my\\ docs/ @acme/writers\n")
    assert codeowners(repo, "my docs/a.md") == ["@acme/writers"]


def test_gitlab_sections_are_skipped(repo: Path) -> None:
    write(repo / "CODEOWNERS", "[Backend]\n*.rb @acme/ruby\n^[Optional][2]\n*.md @acme/docs\n")
    assert codeowners(repo, "app/x.rb") == ["@acme/ruby"]
    assert codeowners(repo, "README.md") == ["@acme/docs"]


# --- the team map ------------------------------------------------------------------

TEAM_MAP = """\
# which team owns the work
*                       platform              # default
/services/payments/     payments-team
*.tf                    @acme/infra
alice@example.com       growth
/services/payments/vendor/
bob@Example.com         Data Science
"""


@pytest.mark.parametrize(
    ("path", "email", "team"),
    [
        ("README.md", "", "platform"),
        ("services/payments/api.py", "", "payments-team"),
        ("services/payments/main.tf", "", "infra"),  # later rule
        ("services/payments/api.py", "alice@example.com", "growth"),  # the e-mail rule is below: the person wins
        ("services/payments/vendor/lib.py", "", ""),  # explicitly no team
        ("services/payments/vendor/lib.py", "BOB@example.com", "Data Science"),  # e-mails are case-insensitive
    ],
)
def test_team_map(repo: Path, path: str, email: str, team: str) -> None:
    write(repo / ".aitrail" / "teams", TEAM_MAP)
    env = {AITRAIL_USER_EMAIL: email} if email else {}
    who = resolve_identity(repo_root=repo, path=path, env=env)
    assert (who.team, who.sources["team"]) == (team, "team-map:.aitrail/teams")


def test_team_map_email_rules_without_a_path(repo: Path) -> None:
    configured(repo, email="alice@example.com")
    write(repo / ".aitrail" / "teams", "/services/ services\nalice@example.com growth\n")
    who = resolve_identity(repo_root=repo, env={})
    assert (who.team, who.sources["team"]) == ("growth", "team-map:.aitrail/teams")


def test_work_about_no_file_takes_the_rule_for_every_file(repo: Path) -> None:
    """A chat answer or a commit as a whole: the repository's default team (``*``), never a narrower rule."""
    write(repo / ".aitrail" / "teams", "*  platform\n/services/ services\n")
    who = resolve_identity(repo_root=repo, env={})
    assert (who.team, who.sources["team"]) == ("platform", "team-map:.aitrail/teams")
    write(repo / ".aitrail" / "teams", "/services/ services\n")
    write(repo / ".github" / "CODEOWNERS", "/docs/ @acme/writers\n* @acme/owners\n")
    fallback = resolve_identity(repo_root=repo, env={})
    assert (fallback.team, fallback.sources["team"]) == ("owners", "codeowners:.github/CODEOWNERS")


def test_team_map_wins_over_codeowners_and_falls_back_to_it(repo: Path) -> None:
    write(repo / ".github" / "CODEOWNERS", "* @acme/owners\n")
    write(repo / ".aitrail" / "teams", "/services/ services\n")
    mapped = resolve_identity(repo_root=repo, path="services/a.py", env={})
    assert (mapped.team, mapped.sources["team"]) == ("services", "team-map:.aitrail/teams")
    fallback = resolve_identity(repo_root=repo, path="lib/a.py", env={})
    assert (fallback.team, fallback.sources["team"]) == ("owners", "codeowners:.github/CODEOWNERS")


def test_team_argument_or_environment_wins_over_files(repo: Path) -> None:
    write(repo / ".aitrail" / "teams", "* mapped\n")
    assert resolve_identity(team="given", repo_root=repo, path="a.py", env={}).team == "given"
    assert resolve_identity(repo_root=repo, path="a.py", env={AITRAIL_TEAM: "from-env"}).team == "from-env"


# --- attributes ------------------------------------------------------------------


def test_attributes(repo: Path) -> None:
    configured(repo, name=None)
    write(repo / "CODEOWNERS", "* @acme/core\n")
    who = resolve_identity(repo_root=repo, path="x.py", env={})
    assert attributes(who) == {
        USER_ID: "dev@example.com",
        USER_EMAIL: "dev@example.com",
        TEAM: "core",
        IDENTITY_SOURCE: "user_id=git-config,email=git-config,name=none,team=codeowners:CODEOWNERS",
    }
    assert USER_NAME not in attributes(who)


def test_identity_is_hashable_and_comparable() -> None:
    a = Identity("u", "e", "n", "t", {"user_id": "argument"})
    b = Identity("u", "e", "n", "t", {"user_id": "argument"})
    assert a == b and hash(a) == hash(b)
    assert a != Identity("u", "e", "n", "t", {"user_id": "git-config"})
