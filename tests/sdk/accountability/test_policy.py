"""``.aitrail/policy.toml``: the defaults without the file, every key read, and a bad file refused with the key
and what is wrong."""

from __future__ import annotations

import pytest

from aitrail.errors import ConfigError
from aitrail.sdk.accountability.policy import DEFAULT_CHECKLIST, POLICY_FILE, Policy, load_policy, parse_policy

FULL = """
[signoff]
paths = ["/services/payments/", "*.tf"]
changes = "all"
reviewers = 2
approvers = 1
not_prompter = true
distinct = false
owner = "always"

[checklist]
required = true
[checklist.questions]
tests = "Tests added"
rollback = "A rollback is planned"

[trailers]
"Reviewed-by" = "reviewer"
"LGTM-by" = "approver"

[github.states]
approved = "approver"

[people]
"@acme/payments" = ["bo@example.com", "cy@example.com"]
octocat = "octo@example.com"
"""


def test_without_a_file_the_defaults_apply(tmp_path):
    policy = load_policy(tmp_path)
    assert policy == Policy()
    assert (policy.reviewers, policy.approvers, policy.not_prompter, policy.owner, policy.checklist_required) == (
        1, 1, True, "where-named", False)
    assert list(policy.checklist) == ["tests", "security", "secrets", "licences", "explain"] == list(DEFAULT_CHECKLIST)


def test_every_key_is_read(tmp_path):
    (tmp_path / ".aitrail").mkdir()
    (tmp_path / POLICY_FILE).write_text(FULL)
    policy = load_policy(tmp_path)
    assert policy.paths == ("/services/payments/", "*.tf")
    assert (policy.changes, policy.reviewers, policy.approvers, policy.distinct, policy.owner) == ("all", 2, 1, False, "always")
    assert policy.checklist == {"tests": "Tests added", "rollback": "A rollback is planned"}
    assert policy.checklist_required is True
    assert policy.trailers == {"Reviewed-by": "reviewer", "LGTM-by": "approver"}
    assert policy.github_states == {"APPROVED": "approver"}
    assert policy.emails_of("@acme/payments") == ("bo@example.com", "cy@example.com")
    assert policy.emails_of("octocat") == policy.emails_of("@octocat") == ("octo@example.com",)
    assert policy.source == POLICY_FILE


@pytest.mark.parametrize(("text", "message"), [
    ("[signoff]\nreviewers = \"two\"\n", "signoff.reviewers: must be a whole number from 0 to 10, not 'two'"),
    ("[signoff]\nreviewers = -1\n", "signoff.reviewers: must be a whole number"),
    ("[signoff]\nowner = \"sometimes\"\n", "signoff.owner: must be one of where-named, always, never, not 'sometimes'"),
    ("[signoff]\nchanges = \"ai-ish\"\n", "signoff.changes: must be one of ai, all"),
    ("[signoff]\npaths = []\n", "signoff.paths: must be a non-empty list of strings"),
    ("[signoff]\nreviewer = 1\n", "signoff.reviewer: unknown setting"),
    ("[signoff]\nnot_prompter = \"yes\"\n", "signoff.not_prompter: must be true or false"),
    ("signoff = 3\n", "signoff: must be a table"),
    ("[trailers]\n\"Reviewed-by\" = \"boss\"\n", "trailers.Reviewed-by: must be one of reviewer, approver"),
    ("[github.states]\nAPPROVED = 1\n", "github.states.APPROVED: must be a non-empty string"),
    ("[checklist.questions]\ntests = \"\"\n", "checklist.questions.tests: must be a non-empty string"),
    ("[colour]\nred = 1\n", "colour: unknown setting"),
    ("[signoff\n", "not valid TOML"),
])
def test_a_bad_policy_is_refused_with_the_key_and_what_is_wrong(text, message):
    with pytest.raises(ConfigError) as raised:
        parse_policy(text)
    assert str(raised.value).startswith(f"{POLICY_FILE}: ")
    assert message in str(raised.value)
