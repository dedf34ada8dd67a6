"""The demo's story in a real git repository: an AI writes a vulnerable line, it is committed, Bandit finds it,
and aitrail answers who and what is behind it and whether the change may ship.

Every step is the product's own library — the SDK (``aitrail.track``, :func:`~aitrail.sdk.hooks.record_commit`,
sign-offs), the findings import (:func:`~aitrail.linkage.sarif.read_sarif`,
:func:`~aitrail.collector.imports.deliver`), the linkage (:func:`~aitrail.linkage.chain.finding_chain`) and
``aitrail check`` (:func:`~aitrail.sdk.accountability.check.check`) — run against the demo's collector. The SDK's
journals live in the scratch directory for the story's length, so nothing of the person's own is touched.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitrail.errors import ConfigError
from aitrail.sdk import environment
from aitrail.sdk import vocabulary as v

VULNERABLE = "    return subprocess.call(cmd, shell=True)"
REPOSITORY = "https://git.example.com/acme/payments-service"
PROMPTER = ("ana@example.com", "Ana", "payments")
REVIEWER = ("chen@example.com", "Chen")
APPROVER = ("bruno@example.com", "Bruno")
"""The approver is also the owner CODEOWNERS names for ``app/``: one sign-off answers both rules."""


@dataclass(frozen=True)
class Step:
    """One generation of the story: the prompt, and the file and lines it wrote."""

    prompt: str
    path: str
    lines: tuple[str, ...]


STEPS = (
    Step("write a function that runs a shell command", "app/run.py",
         ("import subprocess", "", "", "def run(cmd):", '    """Run a shell command; its exit status."""', VULNERABLE)),
    Step("write a helper that formats an invoice total", "app/invoice.py",
         ("def total(amounts):", "    return round(sum(amounts), 2)")),
)


@contextmanager
def scratch_sdk(scratch: Path, endpoint: str) -> Iterator[None]:
    """The SDK configured as the prompter, sending to ``endpoint``, its journals and outbox in ``scratch``; the
    environment and the SDK are put back as they were afterwards."""
    import aitrail

    saved = {key: os.environ.get(key) for key in (environment.AITRAIL_JOURNAL, environment.AITRAIL_OUTBOX)}
    os.environ[environment.AITRAIL_JOURNAL] = str(scratch / "journal.jsonl")
    os.environ[environment.AITRAIL_OUTBOX] = str(scratch / "outbox")
    email, name, team = PROMPTER
    aitrail.configure(endpoint=endpoint, user_email=email, user_name=name, team=team, prompt_policy="full")
    try:
        yield
    finally:
        aitrail.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def git(root: Path, *args: str, author: tuple[str, str] = PROMPTER[:2]) -> str:
    """Run git in ``root`` as ``author``, away from the person's own git configuration."""
    email, name = author
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": name,
           "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    try:
        done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise ConfigError("the demo's repository needs git: install git and run `aitrail demo` again") from None
    except subprocess.CalledProcessError as exc:
        raise ConfigError(f"git {' '.join(args)} failed in the demo's repository: {exc.stderr.strip()}") from None
    return done.stdout.strip()


def make_repository(root: Path) -> None:
    """A repository with a README and CODEOWNERS (the approver owns ``app/``), committed by a person."""
    from aitrail.sdk.hooks import record_commit

    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", f"{REPOSITORY}.git")
    (root / "README.md").write_text("# payments-service\n")
    (root / ".github").mkdir()
    (root / ".github" / "CODEOWNERS").write_text(f"app/ {APPROVER[0]}\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    record_commit(root)


def generate(root: Path, step: Step) -> str:
    """One generation through the SDK writing ``step``'s file; its span id."""
    import aitrail

    text = "".join(line + "\n" for line in step.lines)
    with aitrail.track(assistant="claude-code", prompt=step.prompt, model="claude-sonnet-4-5", provider="anthropic",
                       cwd=root) as gen:
        target = root / step.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        gen.record_edit(target, text, old_text=None)
        gen.usage(1800, 240)
        gen.decision("accepted")
    return format(gen.span_context.span_id, "016x")


def bandit_sarif(root: Path, out: Path) -> str | None:
    """Run Bandit on the repository into SARIF ``out``; None when it ran, else why it could not."""
    if not all(importlib.util.find_spec(module) for module in ("bandit", "sarif_om", "jschema_to_python")):
        return "Bandit with SARIF output is not installed: pip install 'bandit[sarif]' (`make install` does)"
    done = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", ".", "-f", "sarif", "-o", str(out)],
                          cwd=root, capture_output=True, text=True)
    return None if out.exists() else f"Bandit did not write its SARIF: {done.stderr.strip()[-300:]}"


def signoffs(sha: str) -> list[Any]:
    """The reviewer's and the approver's sign-offs of ``sha`` (as ``aitrail signoff`` records them)."""
    from aitrail.sdk.accountability.policy import DEFAULT_CHECKLIST
    from aitrail.sdk.accountability.signoff import APPROVER as APPROVE, REVIEWER as REVIEW, SOURCE_CLI, Signoff

    answers = {key: "yes" for key in DEFAULT_CHECKLIST}
    return [Signoff(sha, role, email, name, SOURCE_CLI, signer_id=email, repository=REPOSITORY, checklist=answers,
                    time=time.time(), team=PROMPTER[2])
            for role, (email, name) in ((REVIEW, REVIEWER), (APPROVE, APPROVER))]


def run_story(scratch: Path, location: Any, collector: Any, stored: Callable[[], None]) -> dict[str, Any]:
    """The whole story against ``collector`` (its store at ``location``); ``stored`` waits until what was sent is
    stored. Returns the generations, the commit, the scan, the finding's chain and the checks before and after."""
    import aitrail
    from aitrail.collector.imports import deliver
    from aitrail.linkage.chain import Reader, finding_chain
    from aitrail.linkage.sarif import Target, read_sarif
    from aitrail.sdk.accountability.check import check, collector_evidence, describe
    from aitrail.sdk.accountability.policy import load_policy
    from aitrail.sdk.accountability.signoff import record
    from aitrail.sdk.hooks import record_commit

    root = scratch / "repo"
    story: dict[str, Any] = {"repository": REPOSITORY, "prompter": PROMPTER[0], "vulnerable": VULNERABLE.strip()}
    with scratch_sdk(scratch, collector.http_url):
        make_repository(root)
        story["generations"] = [{"generation_id": generate(root, step), "prompt": step.prompt, "path": step.path,
                                 "lines": list(step.lines)} for step in STEPS]
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Run shell commands; invoice totals")
        sha = record_commit(root).sha
        story["commit"] = sha
        aitrail.flush()
        stored()

        def checked() -> dict[str, Any]:
            evidence = collector_evidence([sha], collector.sql_url)
            result = check(root, [sha], load_policy(root), evidence)
            return {**result.as_json(), "described": describe(result)}

        story["check_before"] = checked()
        record(signoffs(sha))
        aitrail.flush()
        stored()
        story["check_after"] = checked()

    sarif = scratch / "bandit.sarif"
    story["scan_skipped"] = bandit_sarif(root, sarif)
    story["finding"] = None
    if story["scan_skipped"] is None:
        imported = read_sarif(sarif, Target.of(root, None))
        # The scan is the payments team's CI job: its records carry the team, as its resource attributes would.
        deliver(list(imported.records), location, collector.http_url, resource_attributes={v.TEAM: PROMPTER[2]})
        stored()
        story["findings_imported"] = len(imported.records)
        reader = Reader(location, collector.sql_url)
        chains = [finding_chain(reader, r.id, root) for r in imported.records]
        story["finding"] = next((c for c in chains if c and c["finding"]["line_text"] == VULNERABLE.strip()), None)
    return story
