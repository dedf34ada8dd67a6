"""The chain from a line to the prompt and the people: line → introducing commit → generation(s) → prompt,
assistant, model, tokens, cost, session → user, team → the commit's author, sign-offs and owners.

Everything here reads: the store through :func:`aitrail.collector.query.read_only_query` (a running collector's
SQL endpoint, as the token's tenant, or the store opened directly), the repository through
:mod:`aitrail.linkage.repo`. The SQL is in ``sql/*.sql`` beside this module; dashboards and reports reuse it.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aitrail.collector.query import read_only_query
from aitrail.collector.store import StoreLocation
from aitrail.errors import ConfigError
from aitrail.linkage import repo as git_repo
from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.git import git_context, relative_to_root

CHUNK = 300
"""Values bound per query (parameters travel in the SQL endpoint's URL, whose length is bounded)."""

SLACK_NS = 1_000_000_000
"""Commit times are whole seconds: a generation up to a second after its commit's time is still before it."""


def linkage_sql(name: str) -> str:
    """The text of one linkage query (``sql/<name>.sql``), for readers that run it elsewhere (dashboards, bench)."""
    return resources.files("aitrail.linkage").joinpath("sql", f"{name}.sql").read_text()


@dataclass
class Reader:
    """Runs the linkage SQL where the data is: for a tenant's token, on that tenant's views (tables unqualified)."""

    location: StoreLocation
    sql_url: str | None = None
    token: str | None = None

    def __post_init__(self) -> None:
        from aitrail.dashboards.reports import reads_one_tenant

        self._tenant = self.token is not None and reads_one_tenant(self.location, self.sql_url, self.token)

    def rows(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        sql = linkage_sql(name)
        if self._tenant:
            sql = sql.replace("aitrail.", "")
        data = read_only_query(self.location, sql, "JSONEachRow", params, sql_url=self.sql_url, token=self.token)
        return [json.loads(line) for line in data.splitlines() if line.strip()]

    def rows_in(self, name: str, key: str, values: Iterable[Any], **params: Any) -> list[dict[str, Any]]:
        """``rows`` for a list parameter of any length, in chunks. Lists of ids (hex) travel as one
        comma-separated String (the SQL splits it): the SQL endpoint takes every parameter as text, and an
        ``Array(String)`` would need its quotes escaped twice."""
        values = sorted(set(values))
        out: list[dict[str, Any]] = []
        for i in range(0, len(values), CHUNK):
            chunk = values[i:i + CHUNK]
            out.extend(self.rows(name, {**params, key: ",".join(chunk) if isinstance(chunk[0], str) else chunk}))
        return out


# --- findings --------------------------------------------------------------------------------------------


def findings(reader: Reader, *, finding: str = "", team: str = "", repository: str = "", severity: str = "",
             origin: str = "") -> list[dict[str, Any]]:
    """Findings with their origin (``ai`` or ``human``), the generation that wrote the line and the others."""
    return reader.rows("findings", {"finding": finding, "team": team, "repository": repository,
                                    "severity": severity, "origin": origin})


def generations(reader: Reader, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Generation id -> the generation in full (prompt, assistant, model, tokens, cost, session, person, team)."""
    return {row["generation_id"]: row for row in reader.rows_in("generations", "ids", [i for i in ids if i])}


def signoffs(reader: Reader, commits: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Commit -> its sign-offs (reviewers, approvers)."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in reader.rows_in("signoffs", "commits", [c for c in commits if c]):
        found[row.pop("commit")].append(row)
    return found


def commit_rows(reader: Reader, commits: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Commit -> its row as the hook recorded it (author, committer, time)."""
    return {row["commit"]: row for row in reader.rows_in("commits", "commits", [c for c in commits if c])}


def _local_root(repository: str, repo: Path | None) -> Path | None:
    """The working tree to read CODEOWNERS from: ``repo`` (or the current directory) when it is that repository."""
    ctx = git_context(repo or Path.cwd())
    if ctx is None or (repository and ctx.repository and ctx.repository != repository):
        return None
    return ctx.root


def finding_chain(reader: Reader, finding_id: str, repo: Path | None = None) -> dict[str, Any] | None:
    """One finding and its whole chain; None when there is no such finding."""
    rows = findings(reader, finding=finding_id)
    if not rows:
        return None
    row = rows[0]
    ids = [row["generation_id"], *row["other_generation_ids"]]
    details = generations(reader, ids)
    commit = row["introduced_commit"]
    recorded = commit_rows(reader, [commit]).get(commit, {}) if commit else {}
    root = _local_root(row["repository"], repo)
    return {
        "finding": {k: row[k] for k in ("finding_id", "detected_at", "source", "rule", "cwe", "severity", "message",
                                        "repository", "commit", "file_path", "line_start", "line_end", "line_text",
                                        "resolved", "status")},
        "origin": row["origin"],
        "generation": details.get(row["generation_id"]) if row["generation_id"] else None,
        "other_generations": [details[i] for i in row["other_generation_ids"] if i in details],
        "commit": {
            "commit": commit,
            "author_email": row["introduced_author"] or recorded.get("author_email", ""),
            "committer_email": recorded.get("committer_email", ""),
            "time": row["introduced_at"] if commit else "",
            "signoffs": signoffs(reader, [commit]).get(commit, []) if commit else [],
        },
        "owners": git_repo.owners(root, row["file_path"]) if root is not None and row["file_path"] else [],
    }


# --- blame and who ----------------------------------------------------------------------------------------


def pick_origin(candidates: Sequence[dict[str, Any]], bound_ns: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The origin among one line's candidate generations (the latest at or before ``bound_ns``) and the others."""
    before = [c for c in candidates if int(c["time_ns"]) <= bound_ns]
    origin = max(before, key=lambda c: int(c["time_ns"])) if before else None
    others, seen = [], {origin["span_id"]} if origin else set()
    for c in candidates:
        if c["span_id"] not in seen:
            seen.add(c["span_id"])
            others.append(c)
    return origin, others


def _line_entry(line: int, text: str, origin: dict[str, Any] | None, others: list[dict[str, Any]],
                details: dict[str, dict[str, Any]], blamed: git_repo.BlameLine | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"line": line, "text": text, "origin": "ai" if origin else "human"}
    if blamed is not None and blamed.commit != git_repo.UNCOMMITTED:
        entry.update(commit=blamed.commit, author_email=blamed.author_email)
    if origin is not None:
        full = details.get(origin["span_id"], {})
        entry.update(
            generation_id=origin["span_id"], trace_id=origin["trace_id"], assistant=origin["assistant"],
            model=origin["model"], prompt=full.get("prompt", ""), prompt_policy=full.get("prompt_policy", ""),
            user_email=origin["user_email"], team=origin["team"], time=full.get("time", ""),
            session_id=full.get("session_id", ""), cost_usd=full.get("cost_usd", 0.0),
            cost_estimated=bool(full.get("cost_estimated", False)),
            file_path=origin["file_path"],
        )
    if others:
        entry["other_generation_ids"] = [o["span_id"] for o in others]
    return entry


def blame_file(reader: Reader, path: Path | str, rev: str | None = None) -> list[dict[str, Any]]:
    """Per line of ``path`` (at ``rev``, else the working tree): AI or human, and for AI lines the generation."""
    ctx = git_context(Path(path).parent if Path(path).parent.exists() else Path.cwd())
    if ctx is None:
        raise ConfigError(f"{path} is not in a git repository")
    relative = relative_to_root(ctx.root, Path(path).resolve() if not Path(path).is_absolute() else path)
    blamed = git_repo.blame(ctx.root, relative, rev)
    if blamed is None:
        raise ConfigError(f"git cannot blame {relative}" + (f" at {rev}" if rev else "") + ": is it tracked?")
    return link_lines(reader, ctx.repository, blamed)


def link_lines(reader: Reader, repository: str, lines: Sequence[git_repo.BlameLine]) -> list[dict[str, Any]]:
    """Link blamed lines to their generations (one query per few hundred distinct fingerprints)."""
    fps = {b.line: line_fingerprint(b.text) for b in lines}
    candidates: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in reader.rows_in("line_origins", "fingerprints", [fp for fp in fps.values() if fp is not None],
                              repository=repository):
        candidates[int(row["fingerprint"])].append(row)
    now = time.time_ns()
    picked = []
    for b in lines:
        fp = fps[b.line]
        bound = now if b.commit == git_repo.UNCOMMITTED else b.committed_at * 1_000_000_000 + SLACK_NS
        origin, others = pick_origin(candidates.get(fp, []), bound) if fp is not None else (None, [])
        picked.append((b, origin, others))
    details = generations(reader, {o["span_id"] for _, o, _ in picked if o})
    return [_line_entry(b.line, b.text, o, others, details, b) for b, o, others in picked]


def who_text(reader: Reader, text: str, repository: str = "") -> dict[str, Any]:
    """Who wrote a line with this text: every generation that did (latest first), the latest being the origin."""
    fp = line_fingerprint(text)
    rows = reader.rows("line_origins", {"fingerprints": [fp], "repository": repository}) if fp is not None else []
    origin, others = pick_origin(rows, time.time_ns())
    details = generations(reader, {r["span_id"] for r in rows})
    entry = _line_entry(0, text.strip(), origin, others, details, None)
    entry.pop("line")
    entry["generations"] = [details[r["span_id"]] for r in sorted(rows, key=lambda r: -int(r["time_ns"]))
                            if r["span_id"] in details]
    return entry


def who_line(reader: Reader, path: Path | str, line: int, rev: str | None = None) -> dict[str, Any]:
    """Who wrote line ``line`` of ``path``: its blame entry, with every generation that wrote that text."""
    entries = blame_file(reader, path, rev)
    if not 1 <= line <= len(entries):
        raise ConfigError(f"{path} has {len(entries)} lines; there is no line {line}")
    entry = entries[line - 1]
    ids = [i for i in [entry.get("generation_id"), *entry.get("other_generation_ids", [])] if i]
    details = generations(reader, ids)
    entry["generations"] = [details[i] for i in ids if i in details]
    return entry
