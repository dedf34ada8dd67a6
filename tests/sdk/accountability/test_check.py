"""``aitrail.sdk.accountability.check`` on real repositories: AI lines written through the SDK, commits by the
prompter, sign-offs from trailers and the local journal, CODEOWNERS changing between commits, policy variants.
Expected AI lines are counted here from the lines the test wrote (fingerprinted lines only)."""

from __future__ import annotations

from accountability_support import ANA, BO, CY, ai_write, commit, git

from aitrail.sdk.accountability.check import check, policy_in_force, pushed_commits
from aitrail.sdk.accountability.history import range_base, resolve_commits
from aitrail.sdk.accountability.policy import Policy, parse_policy
from aitrail.sdk.accountability.signoff import Signoff, SignoffJournal, from_cli
from aitrail.sdk.fingerprint import line_fingerprint

PRICING = [
    "def price_with_tax(price, rate):",
    "    if rate < 0:",
    "        raise ValueError('negative rate')",
    "    return round(price * (1 + rate), 2)",
    "",
]
AI_LINES = sum(line_fingerprint(line) is not None for line in PRICING)


def person(who: tuple[str, str]) -> str:
    return f"{who[0]} <{who[1]}>"


def test_an_ai_commit_without_sign_off_misses_a_reviewer_and_an_approver_other_than_its_prompter(repo):
    ai_write(repo, "shop/pricing.py", PRICING)
    sha = commit(repo, "pricing")
    (result,) = check(repo, "HEAD", Policy()).commits
    assert (result.commit, result.ai_lines, result.needs_signoff, result.prompters) == (sha, AI_LINES, True, (ANA[1],))
    assert not result.ok
    assert result.missing == (f"approvers: 0 of 1 (an approver other than the prompter ({ANA[1]}))",
                              f"reviewers: 0 of 1 (a reviewer other than the prompter ({ANA[1]}) and the other signers)")


def test_a_human_commit_needs_no_sign_off_under_the_default_policy(repo):
    (repo / "notes.py").write_text("# written by hand\nvalue = compute_value()\n")
    commit(repo, "by hand")
    (result,) = check(repo, "HEAD", Policy()).commits
    assert (result.ai_lines, result.needs_signoff, result.ok) == (0, False, True)


def test_trailers_sign_off_and_the_prompter_or_one_person_twice_does_not_count(repo):
    ai_write(repo, "pricing.py", PRICING)
    commit(repo, "good", f"Reviewed-by: {person(BO)}", f"Approved-by: {person(CY)}")
    ai_write(repo, "tax.py", [f"{line}  # v2" if line else line for line in PRICING])
    commit(repo, "self-approved", f"Reviewed-by: {person(BO)}", f"Approved-by: {person(ANA)}")
    ai_write(repo, "fee.py", [f"{line}  # v3" if line else line for line in PRICING])
    commit(repo, "one person twice", f"Acked-by: {person(BO)}", f"Approved-by: {person(BO)}")

    good, self_approved, twice = check(repo, "HEAD~3..HEAD", Policy()).commits
    assert good.ok and {(s.role, s.signer_email, s.source) for s in good.signoffs} == {
        ("reviewer", BO[1], "trailer"), ("approver", CY[1], "trailer")}
    assert self_approved.missing == (f"approvers: 0 of 1 (an approver other than the prompter ({ANA[1]}))",)
    assert twice.missing == (f"reviewers: 0 of 1 (a reviewer other than the prompter ({ANA[1]}) and the other signers)",)
    assert check(repo, "HEAD", Policy(distinct=False)).ok  # allowed when the policy says signers may be one person


def test_the_trailer_to_role_mapping_comes_from_the_policy(repo):
    ai_write(repo, "pricing.py", PRICING)
    commit(repo, "pricing", f"Reviewed-by: {person(BO)}", f"Signed-off-by: {person(CY)}")
    assert not check(repo, "HEAD", Policy()).ok  # by default Signed-off-by is a reviewer's: no approver
    policy = parse_policy('[trailers]\n"Reviewed-by" = "reviewer"\n"Signed-off-by" = "approver"\n')
    assert check(repo, "HEAD", policy).ok


def test_sign_offs_recorded_with_the_cli_are_read_back_from_the_local_journal(repo, monkeypatch):
    ai_write(repo, "pricing.py", PRICING)
    sha = commit(repo, "pricing")
    for who, role in ((BO, "reviewer"), (CY, "approver")):
        monkeypatch.setenv("AITRAIL_USER_EMAIL", who[1])
        SignoffJournal().append(from_cli(repo, "HEAD", role, {"tests": "yes"}))
    (result,) = check(repo, "HEAD", Policy()).commits
    assert result.ok and {(s.commit, s.role, s.signer_email, s.source) for s in result.signoffs} == {
        (sha, "reviewer", BO[1], "cli"), (sha, "approver", CY[1], "cli")}


def test_the_owner_is_read_from_codeowners_as_it_was_at_each_commit(repo):
    (repo / ".github").mkdir()
    (repo / ".github" / "CODEOWNERS").write_text("*.py @acme/payments\n")
    ai_write(repo, "pricing.py", PRICING)
    first = commit(repo, "pricing", f"Reviewed-by: {person(BO)}", f"Approved-by: {person(CY)}")
    (repo / ".github" / "CODEOWNERS").write_text("*.py dee@example.com\n")
    ai_write(repo, "tax.py", [f"{line}  # tax" if line else line for line in PRICING])
    second = commit(repo, "tax", f"Reviewed-by: {person(BO)}", f"Approved-by: {person(CY)}")
    policy = parse_policy('[people]\n"@acme/payments" = ["bo@example.com", "eve@example.com"]\n')

    at_first, at_second = check(repo, f"{first}~1..{second}", policy).commits
    assert at_first.ok  # Bo is in @acme/payments, the owner when the first commit was made
    assert at_second.missing == (f"owner: none of dee@example.com (owners of tax.py in .github/CODEOWNERS at "
                                 f"{second[:12]}) signed off",)
    assert check(repo, second, parse_policy('[signoff]\nowner = "never"\n')).ok


def test_checklist_answers_are_required_only_where_the_policy_says_so(repo, monkeypatch):
    ai_write(repo, "pricing.py", PRICING)
    commit(repo, "pricing")
    monkeypatch.setenv("AITRAIL_USER_EMAIL", BO[1])
    SignoffJournal().append(from_cli(repo, "HEAD", "reviewer", {"tests": "yes", "secrets": "no"}))
    monkeypatch.setenv("AITRAIL_USER_EMAIL", CY[1])
    SignoffJournal().append(from_cli(repo, "HEAD", "approver", {"tests": "n/a"}))
    assert check(repo, "HEAD", Policy()).ok
    required = parse_policy('[checklist]\nrequired = true\n[checklist.questions]\n'
                            'tests = "Tests updated"\nsecrets = "No secrets"\nexplain = "Can explain it"\n')
    (result,) = check(repo, "HEAD", required).commits
    assert result.missing == ("checklist secrets: answered no by bo@example.com (No secrets)",
                              "checklist explain: unanswered (Can explain it)")


def test_paths_counts_and_changes_variants(repo):
    ai_write(repo, "docs/guide.py", PRICING)
    commit(repo, "docs", f"Reviewed-by: {person(BO)}", f"Approved-by: {person(CY)}")
    assert check(repo, "HEAD", parse_policy('[signoff]\npaths = ["/services/"]\n')).commits[0].needs_signoff is False
    two = check(repo, "HEAD", parse_policy("[signoff]\nreviewers = 2\n")).commits[0]
    assert two.missing == (f"reviewers: 1 of 2 (a reviewer other than the prompter ({ANA[1]}) and the other signers)",)
    (repo / "hand.py").write_text("value = compute_value()\n")
    commit(repo, "by hand")
    assert check(repo, "HEAD", parse_policy('[signoff]\nchanges = "all"\n')).commits[0].needs_signoff is True


def test_on_a_machine_without_the_journal_the_ai_assisted_trailer_says_which_commits_are_ai_written(repo):
    (repo / "tool.py").write_text("def run(cmd):\n    return execute(cmd)\n")
    commit(repo, "from CI's point of view", "AI-Assisted: 2/2 lines (codex)")
    (result,) = check(repo, "HEAD", Policy()).commits
    assert (result.ai_lines, result.needs_signoff, result.ok) == (2, True, False)


def test_the_commits_a_push_sends_are_read_from_git_s_pre_push_input(repo, env):
    remote = env / "remote.git"
    git(env, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    pushed = git(repo, "rev-parse", "HEAD")
    (repo / "a.py").write_text("value = compute_value()\n")
    first = commit(repo, "a")
    (repo / "b.py").write_text("other = compute_other()\n")
    second = commit(repo, "b")
    line = f"refs/heads/main {second} refs/heads/main {pushed}\n"
    assert pushed_commits(repo, line) == [first, second]
    new_branch = f"refs/heads/topic {second} refs/heads/topic {'0' * 40}\n"
    assert pushed_commits(repo, new_branch) == [first, second]  # what no remote branch has
    assert pushed_commits(repo, f"(delete) {'0' * 40} refs/heads/old {pushed}\n") == []


def test_a_signoff_id_is_deterministic_and_differs_by_role_signer_and_source():
    base = Signoff("c" * 40, "reviewer", "bo@example.com", "Bo", "cli")
    assert base.id == Signoff("c" * 40, "reviewer", "BO@example.com", "Bo Li", "cli", note="x").id
    assert len({base.id, Signoff("c" * 40, "approver", "bo@example.com", "Bo", "cli").id,
                Signoff("c" * 40, "reviewer", "cy@example.com", "Cy", "cli").id,
                Signoff("c" * 40, "reviewer", "bo@example.com", "Bo", "trailer").id}) == 4


def test_the_policy_in_force_is_read_where_the_commits_start_for_every_way_of_naming_them(repo):
    """Each form of range against its base, found here with git's own commands: A..B its left side, A...B the
    merge base, one revision its parent, a list (a push) the parent of its oldest commit; before the first
    commit, and for commits this clone lacks, nothing (the defaults)."""
    root_commit = git(repo, "rev-parse", "HEAD")
    (repo / ".aitrail").mkdir()
    (repo / ".aitrail" / "policy.toml").write_text("[signoff]\nreviewers = 2\n")
    strict = commit(repo, "policy: two reviewers")
    git(repo, "switch", "-q", "-c", "topic")
    (repo / ".aitrail" / "policy.toml").write_text("[signoff]\nreviewers = 0\n")
    lowered = commit(repo, "policy: none")
    (repo / "a.py").write_text("value = compute_value()\n")
    topic = commit(repo, "a")
    git(repo, "switch", "-q", "main")
    (repo / "b.py").write_text("other = compute_other()\n")
    main = commit(repo, "b")

    def read(spec):  # (revision, reviewers) of the policy in force
        policy = policy_in_force(repo, spec)
        return policy.revision, policy.reviewers

    assert read("main..topic") == (main, 2)
    assert range_base(repo, "main..topic").name == "main"
    assert git(repo, "merge-base", "main", "topic") == strict
    assert read("main...topic") == (strict, 2)
    assert read("topic") == (lowered, 0)  # one revision: its parent, where the lowering has landed
    assert read(resolve_commits(repo, "main..topic")) == (strict, 2)
    assert read(["f" * 40, topic]) == (lowered, 0)  # a commit the clone lacks is passed over
    assert read(["f" * 40]) == ("", Policy().reviewers)
    assert read(root_commit) == ("", Policy().reviewers)
    assert policy_in_force(repo, root_commit).source == "defaults: no commit before the commits checked"
    assert policy_in_force(repo, "HEAD~1..HEAD").source == f".aitrail/policy.toml at HEAD~1 ({strict[:12]})"


def test_the_pre_push_hook_holds_a_push_to_the_policy_before_it(repo, env):
    """A push whose first commit removes the reviewers the policy asks is still held to the remote's policy."""
    from aitrail.sdk.hooks import _pre_push

    (repo / ".aitrail").mkdir()
    (repo / ".aitrail" / "policy.toml").write_text("[signoff]\nreviewers = 1\napprovers = 0\n")
    commit(repo, "policy")
    remote = env / "remote.git"
    git(env, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    pushed = git(repo, "rev-parse", "HEAD")
    (repo / ".aitrail" / "policy.toml").write_text("[signoff]\nreviewers = 0\napprovers = 0\n")
    commit(repo, "policy: nobody")
    ai_write(repo, "pricing.py", PRICING)
    sha = commit(repo, "pricing")
    refs = f"refs/heads/main {sha} refs/heads/main {pushed}\n"
    policy = policy_in_force(repo, pushed_commits(repo, refs))
    assert (policy.revision, policy.reviewers) == (pushed, 1)
    result = check(repo, pushed_commits(repo, refs), policy)
    assert [(c.commit, c.ok) for c in result.commits if c.needs_signoff] == [(sha, False)]
