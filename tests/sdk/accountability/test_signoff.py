"""Sign-off records: the current identity and its source, checklist answers, GitHub's review export matched to the
pull request's commits, and the spans the SDK emits for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from accountability_support import BO, ai_write, commit, git

import aitrail
from aitrail.errors import UsageError
from aitrail.sdk import vocabulary as v
from aitrail.sdk.accountability.signoff import (
    from_cli,
    from_github_reviews,
    parse_answers,
    parse_person,
    pull_request_commits,
    record,
    signoff_id,
)

REVIEWS = Path(__file__).parents[2] / "fixtures" / "github" / "pull_reviews.json"


def test_the_signer_is_the_identity_the_sdk_resolves_with_its_source(repo, monkeypatch):
    sha = git(repo, "rev-parse", "HEAD")
    (cli,) = from_cli(repo, "HEAD", "reviewer", {"tests": "yes"}, note="read it")
    assert (cli.commit, cli.signer_email, cli.signer_name, cli.source) == (sha, "ana@example.com", "Ana Prompter", "cli")
    assert "email=git-config" in cli.identity_source
    monkeypatch.setenv("AITRAIL_USER_EMAIL", BO[1])
    (env_signoff,) = from_cli(repo, "HEAD", "approver", {})
    assert env_signoff.signer_email == BO[1]
    assert "email=environment:AITRAIL_USER_EMAIL" in env_signoff.identity_source
    assert env_signoff.id == signoff_id(sha, "approver", BO[1], "cli")


def test_a_range_signs_off_each_of_its_commits(repo):
    first = commit_file(repo, "a.py", "value_a = compute()")
    second = commit_file(repo, "b.py", "value_b = compute()")
    assert [s.commit for s in from_cli(repo, "HEAD~2..HEAD", "reviewer", {})] == [first, second]


def commit_file(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text + "\n")
    return commit(repo, name)


@pytest.mark.parametrize("spec", ["no-such-branch", "HEAD..nowhere", "--all"])
def test_an_unknown_revision_is_a_usage_error_naming_it(repo, spec):
    with pytest.raises(UsageError, match="revision|range"):
        from_cli(repo, spec, "reviewer", {})


def test_checklist_answers_and_people_are_parsed_or_refused():
    assert parse_answers(["tests=yes", "secrets = N/A", "licences=no"]) == {
        "tests": "yes", "secrets": "n/a", "licences": "no"}
    with pytest.raises(UsageError, match="KEY=yes"):
        parse_answers(["tests=maybe"])
    assert parse_person("Bo Li <bo@example.com>") == ("Bo Li", "bo@example.com")
    assert parse_person("bo@example.com") == ("", "bo@example.com")
    assert parse_person("Bo Li") == ("Bo Li", "")


def test_github_reviews_cover_every_commit_of_the_pull_request(repo, env):
    ai_write(repo, "pricing.py", ["def price(x):", "    return round(x * 1.2, 2)"])
    first = commit(repo, "pricing")
    second = commit_file(repo, "c.py", "value_c = compute()")
    reviews = json.loads(REVIEWS.read_text().replace("HEAD_SHA", second))
    pr_commits = env / "pr-commits.json"
    pr_commits.write_text(json.dumps([{"sha": sha, "commit": {"message": "m"}, "parents": []} for sha in (first, second)]))

    found = from_github_reviews(reviews, pull_request_commits(repo, pr_commits, None),
                                people={"cy-approver": "cy@example.com"})
    counted = [r for r in reviews if r["state"] in ("APPROVED", "COMMENTED")]
    assert {(s.commit, s.role, s.signer_id, s.signer_email, s.source) for s in found} == {
        (sha, "approver" if r["state"] == "APPROVED" else "reviewer", r["user"]["login"],
         "cy@example.com" if r["user"]["login"] == "cy-approver" else "", "github")
        for sha in (first, second) for r in counted}
    assert {s.change for s in found} == {"https://api.github.com/repos/acme/shop/pulls/12"}
    assert pull_request_commits(repo, None, "HEAD~2..HEAD") == [first, second]
    with pytest.raises(UsageError, match="--commits FILE"):
        pull_request_commits(repo, None, None)
    with pytest.raises(UsageError, match="reviews API"):
        from_github_reviews({"message": "Not Found"}, [first])


def test_recorded_sign_offs_become_spans_with_the_vocabulary(repo, spans):
    (signoff,) = from_cli(repo, "HEAD", "reviewer", {"tests": "yes"}, note="fine")
    record([signoff])
    assert aitrail.flush()
    (span,) = [s for s in spans.get_finished_spans() if s.attributes.get(v.KIND) == v.KIND_SIGNOFF]
    attributes = dict(span.attributes)
    assert {k: attributes[k] for k in (v.SIGNOFF_ID, v.SIGNOFF_ROLE, v.SIGNOFF_SOURCE, v.VCS_REF_HEAD_REVISION,
                                       v.USER_EMAIL, v.SIGNOFF_NOTE)} == {
        v.SIGNOFF_ID: signoff.id, v.SIGNOFF_ROLE: "reviewer", v.SIGNOFF_SOURCE: "cli",
        v.VCS_REF_HEAD_REVISION: signoff.commit, v.USER_EMAIL: "ana@example.com", v.SIGNOFF_NOTE: "fine"}
    assert json.loads(attributes[v.SIGNOFF_CHECKLIST]) == {"tests": "yes"}


def test_the_commit_hook_sends_the_sign_offs_a_commit_s_trailers_name(repo, spans):
    from aitrail.sdk.hooks import record_commit

    (repo / "a.py").write_text("value = compute_value()\n")
    sha = commit(repo, "a", f"Reviewed-by: Bo Reviewer <{BO[1]}>", "Approved-by: cy@example.com", "Closes: #12")
    record_commit(repo)
    assert aitrail.flush()
    found = [dict(s.attributes) for s in spans.get_finished_spans() if s.attributes.get(v.KIND) == v.KIND_SIGNOFF]
    assert sorted((a[v.VCS_REF_HEAD_REVISION], a[v.SIGNOFF_ROLE], a[v.USER_EMAIL], a[v.SIGNOFF_SOURCE]) for a in found) == [
        (sha, "approver", "cy@example.com", "trailer"), (sha, "reviewer", BO[1], "trailer")]
