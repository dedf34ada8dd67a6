"""A generator of edit histories in a real git repository, keeping the truth of who wrote every line.

AI writes through the SDK (``aitrail.track`` + ``record_edit``) and through ``aitrail wrap`` around a script;
commits go through the installed post-commit hook. Then lines move between files, are re-indented, files are
renamed with ``git mv``, a branch is squash-merged and another rebased, a person edits some AI lines and writes
new ones, and two generations write the same line. The generator keeps, for every line of every file, who wrote
it — a generation (its span id) or ``human`` — by applying each operation to its own model of the files, never by
asking aitrail. :func:`score` then compares ``aitrail blame`` with that truth.

Used by the end-to-end test (tests/linkage/test_end_to_end.py) and ``python -m bench attribution``.
"""

from __future__ import annotations

import copy
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HUMAN = "human"

GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Ana Dev", "GIT_AUTHOR_EMAIL": "ana@example.com",
                "GIT_COMMITTER_NAME": "Ana Dev", "GIT_COMMITTER_EMAIL": "ana@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


@dataclass
class Line:
    text: str
    owner: str
    """The span id of the generation that wrote this text here, or ``human``."""


@dataclass
class History:
    """A repository at ``root`` whose generations go to the collector at ``endpoint``."""

    root: Path
    endpoint: str
    seed: int = 7
    remote: str = "https://git.example.com/acme/shop.git"
    files: dict[str, list[Line]] = field(default_factory=dict)
    wraps: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """Prompt of each ``aitrail wrap`` run -> the (path, index) of the lines it wrote (its span id is resolved later)."""
    commits: list[str] = field(default_factory=list)
    counter: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.env = {**os.environ, **GIT_IDENTITY, "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint}
        self.root.mkdir(parents=True, exist_ok=True)
        import aitrail

        aitrail.configure(endpoint=self.endpoint, user_email=GIT_IDENTITY["GIT_AUTHOR_EMAIL"], team="payments")
        self.git("init", "-q", "-b", "main")
        self.git("remote", "add", "origin", self.remote)
        from aitrail.sdk.hooks import install

        install(self.root)
        self.human_new("README.md", 2)
        self.commit("start")

    # --- plumbing -----------------------------------------------------------------------------------------

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, env=self.env)
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {done.stderr}")
        return done.stdout.strip()

    def _text(self, path: str) -> str:
        return "".join(line.text + "\n" for line in self.files.get(path, []))

    def _write(self, path: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self._text(path))

    def _fresh(self, kind: str, indent: int = 4) -> str:
        self.counter += 1
        n = self.counter
        return " " * indent + f"{kind}_{n} = compute_{self.rng.randrange(10**6)}(value, {n})"

    # --- AI ----------------------------------------------------------------------------------------------

    def ai(self, path: str, count: int, texts: list[str] | None = None, prompt: str | None = None) -> str:
        """A generation (SDK ``track``) appends ``count`` new lines (or ``texts``) to ``path``; returns its span id."""
        import aitrail

        old = self._text(path) if path in self.files else None
        new_lines = texts or [self._fresh("ai") for _ in range(count)]
        with aitrail.track(assistant="sdk-bot", prompt=prompt or f"write {count} lines in {path}", model="m-1",
                           cwd=self.root) as gen:
            span_id = format(gen.span_context.span_id, "016x")
            self.files.setdefault(path, []).extend(Line(t, span_id) for t in new_lines)
            self._write(path)
            gen.record_edit(self.root / path, self._text(path), old_text=old)
            gen.usage(100, 40, cost=0.01)
        aitrail.flush()
        return span_id

    def wrap(self, path: str, count: int) -> str:
        """``aitrail wrap`` around a script that appends ``count`` lines to ``path``; returns the prompt."""
        self.counter += 1
        prompt = f"wrapped run {self.counter}: add helpers to {path}"
        new_lines = [self._fresh("wrapped") for _ in range(count)]
        start = len(self.files.get(path, []))
        self.files.setdefault(path, []).extend(Line(t, f"wrap:{prompt}") for t in new_lines)
        script = f"import pathlib; p = pathlib.Path({str(self.root / path)!r}); p.parent.mkdir(parents=True, " \
                 f"exist_ok=True); p.write_text({self._text(path)!r})"
        aitrail_cli = Path(sys.executable).parent / "aitrail"
        done = subprocess.run([str(aitrail_cli), "wrap", "--assistant", "wrapped-bot", "--prompt", prompt, "--",
                               sys.executable, "-c", script], cwd=self.root, env=self.env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"aitrail wrap failed: {done.stderr}")
        self.wraps[prompt] = [(path, start + i) for i in range(count)]
        return prompt

    def resolve_wraps(self, span_of_prompt: Callable[[str], str]) -> None:
        """Give the lines each ``aitrail wrap`` run wrote the span id of its generation (found by its prompt)."""
        for prompt in self.wraps:
            span_id = span_of_prompt(prompt)
            for lines in self.files.values():
                for line in lines:
                    if line.owner == f"wrap:{prompt}":
                        line.owner = span_id

    # --- people and history --------------------------------------------------------------------------------

    def human_new(self, path: str, count: int, texts: list[str] | None = None) -> None:
        new_lines = texts or [self._fresh("manual", 0) for _ in range(count)]
        self.files.setdefault(path, []).extend(Line(text, HUMAN) for text in new_lines)
        self._write(path)

    def human_edit(self, path: str, count: int) -> None:
        """A person changes ``count`` AI lines (the text changes, so the line is theirs now)."""
        ai = [line for line in self.files[path] if line.owner != HUMAN]
        for line in self.rng.sample(ai, min(count, len(ai))):
            line.text, line.owner = line.text.rstrip(")") + " + tweak_by_hand)", HUMAN
        self._write(path)

    def move(self, src: str, dst: str, count: int) -> None:
        """Cut ``count`` lines from ``src`` and paste them, re-indented, into ``dst``."""
        lines = self.files[src]
        start = self.rng.randrange(max(1, len(lines) - count + 1))
        block = lines[start:start + count]
        del lines[start:start + count]
        for line in block:
            line.text = "        " + line.text.strip()
        self.files.setdefault(dst, []).extend(block)
        self._write(src)
        self._write(dst)

    def reindent(self, path: str) -> None:
        for line in self.files[path]:
            line.text = "  " + line.text
        self._write(path)

    def rename(self, src: str, dst: str) -> None:
        (self.root / dst).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", src, dst)
        self.files[dst] = self.files.pop(src)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        sha = self.git("rev-parse", "HEAD")
        self.commits.append(sha)
        return sha

    def squash_merge(self, branch: str, work: Callable[[], None]) -> None:
        """On a new branch, ``work`` and commit (twice); then ``git merge --squash`` it into main."""
        self.git("checkout", "-q", "-b", branch)
        work()
        self.commit(f"{branch}: part 1")
        self.human_new(f"{branch}.txt", 1)
        self.commit(f"{branch}: part 2")
        self.git("checkout", "-q", "main")
        self.git("merge", "--squash", branch)
        self.commit(f"squashed {branch}")

    def rebase(self, branch: str, on_branch: Callable[[], None], on_main: Callable[[], None]) -> None:
        """``on_branch`` work on a new branch, ``on_main`` meanwhile on main (other files); rebase, fast-forward."""
        main_files = copy.deepcopy(self.files)
        self.git("checkout", "-q", "-b", branch)
        on_branch()
        self.commit(f"{branch}: work")
        branch_files, touched = self.files, {p for p in self.files if self.files[p] != main_files.get(p)}
        self.files = main_files
        self.git("checkout", "-q", "main")
        on_main()
        self.commit("meanwhile on main")
        self.git("checkout", "-q", branch)
        self.git("rebase", "-q", "main")
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--ff-only", branch)
        for path in touched:
            self.files[path] = branch_files[path]

    def pause(self) -> None:
        """Let the clock pass a whole second: commit times are whole seconds (see docs/linkage.md)."""
        time.sleep(1.05)

    # --- truth ---------------------------------------------------------------------------------------------

    def truth(self) -> dict[str, list[Line]]:
        return self.files


def scripted(history: History) -> None:
    """Every hard case once: SDK and wrap generations, moves, re-indents, renames, squash merge, rebase,
    human edits and new lines, and two generations writing the same line."""
    h = history
    h.ai("app/core.py", 8)
    h.human_new("app/core.py", 3)
    h.commit("core")
    h.wrap("app/helpers.py", 5)
    h.commit("helpers, written by a wrapped assistant")
    h.move("app/core.py", "app/helpers.py", 3)
    h.reindent("app/core.py")
    h.commit("move and re-indent")
    h.rename("app/core.py", "app/engine.py")
    h.commit("rename core to engine")
    h.squash_merge("feature", lambda: (h.ai("app/feature.py", 6), h.human_edit("app/feature.py", 2)))
    h.rebase("topic", lambda: h.ai("app/topic.py", 5), lambda: h.ai("app/main_only.py", 4))
    shared = "    token = issue_token(user, scope='admin')"
    h.ai("app/auth.py", 2, texts=["def issue(user):", shared])
    h.commit("auth")
    h.pause()
    h.ai("app/admin.py", 2, texts=["def admin(user):", shared])  # a second generation writes the same line
    h.commit("admin")
    h.human_new("app/engine.py", 2)
    h.human_edit("app/helpers.py", 1)
    h.commit("people at work")


def randomized(history: History, steps: int) -> None:
    """``steps`` random operations (after the scripted ones), committing as people do."""
    h = history
    scripted(h)
    for step in range(steps):
        paths = [p for p in h.files if p.endswith(".py")]
        op = h.rng.random()
        if op < 0.35 or not paths:
            h.ai(f"app/m{h.rng.randrange(6)}.py", h.rng.randrange(3, 12))
        elif op < 0.45:
            h.wrap(f"app/w{h.rng.randrange(3)}.py", h.rng.randrange(2, 6))
        elif op < 0.6:
            h.human_new(h.rng.choice(paths), h.rng.randrange(1, 5))
        elif op < 0.7:
            h.human_edit(h.rng.choice(paths), 1)
        elif op < 0.8 and len(paths) > 1:
            src, dst = h.rng.sample(paths, 2)
            if len(h.files[src]) > 3:
                h.move(src, dst, 2)
        elif op < 0.88:
            h.reindent(h.rng.choice(paths))
        else:
            src = h.rng.choice(paths)
            dst = f"app/renamed_{step}.py"
            h.rename(src, dst)
        h.commit(f"step {step}")


@dataclass(frozen=True)
class Score:
    ai_lines: int
    ai_right: int
    human_lines: int
    human_called_ai: int
    lost: list[dict[str, Any]]

    @property
    def recall(self) -> float:
        return self.ai_right / self.ai_lines if self.ai_lines else 1.0

    @property
    def human_false_ai(self) -> float:
        return self.human_called_ai / self.human_lines if self.human_lines else 0.0


def score(history: History, blame: Callable[[Path], list[dict[str, Any]]]) -> Score:
    """Compare ``blame`` (``aitrail blame --json`` of a file) with the truth, over fingerprinted lines."""
    from aitrail.sdk.fingerprint import line_fingerprint

    ai = ai_right = human = human_ai = 0
    lost = []
    for path, lines in history.truth().items():
        if not lines or not path.endswith(".py"):
            continue
        blamed = blame(history.root / path)
        assert [b["text"] for b in blamed] == [line.text for line in lines], path
        for line, b in zip(lines, blamed):
            if line_fingerprint(line.text) is None:
                continue
            if line.owner == HUMAN:
                human += 1
                human_ai += b["origin"] == "ai"
            else:
                ai += 1
                if b.get("generation_id") == line.owner:
                    ai_right += 1
                else:
                    lost.append({"path": path, "line": b["line"], "text": line.text, "expected": line.owner,
                                 "got": b.get("generation_id", "human")})
    return Score(ai, ai_right, human, human_ai, lost)
