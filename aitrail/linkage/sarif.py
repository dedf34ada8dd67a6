"""SARIF 2.1.0 from any scanner (Bandit, Semgrep, CodeQL...) into finding records.

Every result is resolved to the repository, its file relative to the repository root (SARIF URIs are often
absolute ``file://`` URIs, or relative to a ``uriBaseId`` that ``originalUriBaseIds`` defines, possibly in a
chain), its line range, the text of its lines (from ``git show COMMIT:path`` when a commit is given, else the
working tree, else the result's snippet) and their fingerprints. A result whose location cannot be resolved is
kept, marked unresolved. The whole file is checked before anything is sent: bad SARIF raises
:class:`~aitrail.errors.InvalidImport` naming the JSON path of the offending element, and nothing is imported.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from aitrail.errors import InvalidImport
from aitrail.linkage import repo as git_repo
from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.git import git_context
from aitrail.sdk.records import Record, finding_record

LEVEL_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
"""A result's SARIF level as a severity, when nothing more precise is given."""

_CWE = re.compile(r"cwe[-/_:]?0*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Imported:
    """What a SARIF file held: the finding records, and how many results could not be resolved to a line."""

    records: tuple[Record, ...]
    results: int
    unresolved: int


@dataclass(frozen=True)
class Target:
    """Where the scanned code is: the repository's root (None when unknown), its URL, the scanned commit, and
    whether that commit was named (lines then come from it) or is HEAD (lines come from the working tree)."""

    root: Path | None
    repository: str
    commit: str
    named: bool = False

    @classmethod
    def of(cls, repo: Path | None, commit: str | None) -> Target:
        ctx = git_context(repo or Path.cwd())
        if ctx is None:
            return cls(Path(repo).resolve() if repo else None, "", commit or "", commit is not None)
        return cls(ctx.root, ctx.repository, commit or ctx.commit, commit is not None)

    @property
    def rev(self) -> str | None:
        """The revision to read and blame: the named commit, or None for the working tree."""
        return self.commit if self.named else None


def _need(value: Any, kind: type | tuple[type, ...], path: str, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InvalidImport(f"expected {what}, found {type(value).__name__} {json.dumps(value)[:60]}", path)
    return value


def _opt(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str, what: str, default: Any = None) -> Any:
    value = obj.get(key)
    if value is None:
        return default
    return _need(value, kind, f"{path}.{key}", what)


def _line(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidImport(f"expected a line number (an integer from 1), found {json.dumps(value)[:40]}", path)
    return value


def read_sarif(file: Path | str, target: Target) -> Imported:
    """Parse and resolve every result of the SARIF file ``file``; refuse the whole file at its first defect."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidImport(f"cannot read {file}: {exc}") from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InvalidImport(f"not JSON: {exc}") from exc
    _need(doc, dict, "$", "a SARIF log (a JSON object)")
    if doc.get("version") != "2.1.0":
        raise InvalidImport(f"expected SARIF version \"2.1.0\", found {json.dumps(doc.get('version'))}", "$.version")
    runs = _need(doc.get("runs"), list, "$.runs", "a list of runs")
    fallback_ns = int(os.stat(file).st_mtime_ns)
    records: list[Record] = []
    results = unresolved = 0
    lines_cache: dict[str, list[str] | None] = {}
    blames: dict[str, dict[int, git_repo.BlameLine]] = {}
    for r, run in enumerate(runs):
        here = f"$.runs[{r}]"
        _need(run, dict, here, "a run object")
        tool = _need(run.get("tool"), dict, f"{here}.tool", "a tool object")
        driver = _need(tool.get("driver"), dict, f"{here}.tool.driver", "a tool component object")
        name = _need(driver.get("name"), str, f"{here}.tool.driver.name", "the tool's name")
        source = _tool(name)
        rules = _opt(driver, "rules", list, f"{here}.tool.driver", "a list of rules", [])
        by_id = {rule.get("id"): rule for rule in rules if isinstance(rule, dict)}
        bases = _opt(run, "originalUriBaseIds", dict, here, "an object of base URIs", {})
        artifacts = _opt(run, "artifacts", list, here, "a list of artifacts", [])
        time_ns = _run_time(run, here) or fallback_ns
        for i, result in enumerate(_opt(run, "results", list, here, "a list of results", [])):
            where = f"{here}.results[{i}]"
            _need(result, dict, where, "a result object")
            rule = _rule(result, rules, by_id, where)
            rule_id = result.get("ruleId") or (rule or {}).get("id") or ""
            _need(rule_id, str, f"{where}.ruleId", "a rule id")
            message = _message(result, rule, where)
            level = result.get("level") or ((rule or {}).get("defaultConfiguration") or {}).get("level") or "warning"
            if level not in LEVEL_SEVERITY:
                raise InvalidImport(f"expected one of {', '.join(LEVEL_SEVERITY)}, found {json.dumps(level)}",
                                    f"{where}.level")
            location = _location(result, where, bases, artifacts, target)
            results += 1
            path, start, end, snippet = location
            lines = _lines(target, path, lines_cache) if path else None
            resolved = bool(path and start and (lines is None and snippet or lines is not None and end <= len(lines)))
            if lines is not None and start and end <= len(lines):
                texts = lines[start - 1:end]
            else:
                texts = snippet.splitlines()[: (end - start + 1) if start else None] if snippet else []
            if not resolved:
                unresolved += 1
            fps = [fp for fp in map(line_fingerprint, texts) if fp is not None]
            introduced = _introduced(target, path, start, blames) if resolved and path and start else None
            records.append(finding_record(
                source=source, rule=rule_id, severity=_severity(result, rule, level), message=message,
                repository=target.repository, commit=target.commit, file_path=path or "", line_start=start or 0,
                line_end=end or 0, fingerprints=fps, line_text=next((t.strip() for t in texts if t.strip()), ""),
                resolved=resolved, time_ns=time_ns, cwe=_cwes(result, rule),
                extra_identity="" if resolved else message, introduced=introduced,
            ))
    return Imported(tuple(_unique(records)), results, unresolved)


def _unique(records: Sequence[Record]) -> list[Record]:
    seen: dict[str, Record] = {}
    for record in records:
        seen.setdefault(record.id, record)
    return list(seen.values())


def _tool(name: str) -> str:
    """``Bandit`` -> ``bandit``, ``Semgrep OSS`` -> ``semgrep``, ``CodeQL`` -> ``codeql``."""
    words = name.strip().lower().split()
    return words[0] if words else "unknown"


def _run_time(run: Mapping[str, Any], here: str) -> int | None:
    for i, invocation in enumerate(run.get("invocations") or []):
        if not isinstance(invocation, dict):
            continue
        for key in ("endTimeUtc", "startTimeUtc"):
            value = invocation.get(key)
            if isinstance(value, str):
                try:
                    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    raise InvalidImport(f"expected a date-time, found {json.dumps(value)}",
                                        f"{here}.invocations[{i}].{key}") from None
                return int(moment.timestamp() * 1e9)
    return None


def _rule(result: Mapping[str, Any], rules: list[Any], by_id: Mapping[str, Any], where: str) -> dict[str, Any] | None:
    index = result.get("ruleIndex")
    if index is None and isinstance(result.get("rule"), dict):
        index = result["rule"].get("index")
    if index is not None:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(rules):
            raise InvalidImport(f"rule index {json.dumps(index)} is not in tool.driver.rules (it has {len(rules)})",
                                f"{where}.ruleIndex")
        return rules[index] if isinstance(rules[index], dict) else None
    return by_id.get(result.get("ruleId"))


def _message(result: Mapping[str, Any], rule: Mapping[str, Any] | None, where: str) -> str:
    message = _need(result.get("message"), dict, f"{where}.message", "a message object")
    text = message.get("text")
    if isinstance(text, str):
        return text
    strings = (rule or {}).get("messageStrings") or {}
    found = strings.get(message.get("id"), {}).get("text") if isinstance(strings, dict) else None
    if isinstance(found, str):
        return found
    raise InvalidImport("expected message.text, or message.id naming one of the rule's messageStrings",
                        f"{where}.message")


def _severity(result: Mapping[str, Any], rule: Mapping[str, Any] | None, level: str) -> str:
    """``security-severity`` (CodeQL, GitHub: >= 9 critical, >= 7 high, >= 4 medium, > 0 low), else the scanner's
    own severity (Bandit's ``issue_severity``), else the SARIF level."""
    for props in (result.get("properties") or {}, (rule or {}).get("properties") or {}):
        if not isinstance(props, dict):
            continue
        score = props.get("security-severity")
        try:
            value = float(score) if score is not None else None
        except (TypeError, ValueError):
            value = None
        if value is not None and 0 < value <= 10:
            return "critical" if value >= 9 else "high" if value >= 7 else "medium" if value >= 4 else "low"
        own = str(props.get("issue_severity") or props.get("severity") or "").lower()
        if own in ("critical", "high", "medium", "low", "info"):
            return own
    return LEVEL_SEVERITY[level]


def _cwes(result: Mapping[str, Any], rule: Mapping[str, Any] | None) -> list[str]:
    """CWE ids from the tags and properties of the result and its rule (``external/cwe/cwe-078``, ``CWE-78: ...``)."""
    found: list[str] = []
    for props in (result.get("properties") or {}, (rule or {}).get("properties") or {}):
        if not isinstance(props, dict):
            continue
        values = list(props.get("tags") or []) + [props.get("cwe"), props.get("issue_cwe")]
        flat = []
        for value in values:
            if isinstance(value, dict):
                value = value.get("id") or value.get("link")
            if isinstance(value, list):
                flat.extend(value)
            elif value is not None:
                flat.append(value)
        for value in flat:
            match = _CWE.search(str(value))
            if match and f"CWE-{int(match.group(1))}" not in found:
                found.append(f"CWE-{int(match.group(1))}")
    return found


def _base(name: str, bases: Mapping[str, Any], path: str, depth: int = 0) -> str | None:
    """The absolute URI (or relative path) a ``uriBaseId`` stands for, following chains; None if unknown."""
    entry = bases.get(name)
    if entry is None or depth > 10:
        return None
    _need(entry, dict, f"{path}.originalUriBaseIds[{json.dumps(name)}]", "an artifact location object")
    uri = entry.get("uri") or ""
    parent = entry.get("uriBaseId")
    if parent:
        above = _base(parent, bases, path, depth + 1)
        if above is None:
            return None
        return above.rstrip("/") + "/" + uri if uri else above
    return uri


def _location(result: Mapping[str, Any], where: str, bases: Mapping[str, Any], artifacts: list[Any],
              target: Target) -> tuple[str | None, int | None, int | None, str]:
    """(path relative to the repository root or None, start, end, snippet text) of the result's first location."""
    locations = _opt(result, "locations", list, where, "a list of locations", [])
    if not locations:
        return None, None, None, ""
    here = f"{where}.locations[0]"
    first = _need(locations[0], dict, here, "a location object")
    physical = _opt(first, "physicalLocation", dict, here, "a physical location object")
    if physical is None:
        return None, None, None, ""
    here += ".physicalLocation"
    artifact = _opt(physical, "artifactLocation", dict, here, "an artifact location object", {})
    uri, base = artifact.get("uri"), artifact.get("uriBaseId")
    if uri is None and isinstance(artifact.get("index"), int) and 0 <= artifact["index"] < len(artifacts):
        listed = (artifacts[artifact["index"]] or {}).get("location") or {}
        uri, base = listed.get("uri"), base or listed.get("uriBaseId")
    if uri is not None:
        _need(uri, str, f"{here}.artifactLocation.uri", "a URI")
    region = _opt(physical, "region", dict, here, "a region object", {})
    start = _line(region.get("startLine"), f"{here}.region.startLine")
    end = _line(region.get("endLine"), f"{here}.region.endLine") or start
    if start and end and end < start:
        raise InvalidImport(f"endLine {end} is before startLine {start}", f"{here}.region.endLine")
    snippet = ((region.get("snippet") or {}).get("text") or "") if isinstance(region.get("snippet"), dict) else ""
    path = _resolve(uri, base, bases, target, where) if uri else None
    return path, start, end, snippet


def _resolve(uri: str, base: str | None, bases: Mapping[str, Any], target: Target, where: str) -> str | None:
    """A result's file relative to the repository root, or None when it is outside the repository or unknown."""
    if base and not _is_absolute(uri):
        prefix = _base(base, bases, where.split(".results")[0])
        if prefix is None:  # a base the file does not define (%SRCROOT% given on the command line): the root
            prefix = ""
        uri = prefix.rstrip("/") + "/" + uri if prefix else uri
    parts = urlsplit(uri)
    if parts.scheme == "file":
        absolute = Path(unquote(parts.path))
        if target.root is None:
            return None
        try:
            return absolute.resolve().relative_to(target.root.resolve()).as_posix()
        except ValueError:
            return None
    if parts.scheme and len(parts.scheme) > 1:
        return None  # http:, and other schemes: not a file of this repository
    relative = unquote(uri).replace("\\", "/")
    if os.path.isabs(relative):
        if target.root is None:
            return None
        try:
            return Path(relative).resolve().relative_to(target.root.resolve()).as_posix()
        except ValueError:
            return None
    while relative.startswith("./"):
        relative = relative[2:]
    return os.path.normpath(relative).replace(os.sep, "/") if relative else None


def _is_absolute(uri: str) -> bool:
    return bool(urlsplit(uri).scheme and len(urlsplit(uri).scheme) > 1) or uri.startswith("/")


def _lines(target: Target, path: str, cache: dict[str, list[str] | None]) -> list[str] | None:
    if target.root is None:
        return None
    if path not in cache:
        cache[path] = git_repo.file_lines(target.root, path, target.rev)
    return cache[path]


def _introduced(target: Target, path: str, line: int,
                cache: dict[str, dict[int, git_repo.BlameLine]]) -> tuple[str, int, str] | None:
    """(commit, committer time, author) of the commit that introduced ``line``, by ``git blame`` at the finding's
    commit; None for a line not committed yet or a file git cannot blame."""
    if target.root is None:
        return None
    if path not in cache:
        cache[path] = {b.line: b for b in git_repo.blame(target.root, path, target.rev) or ()}
    found = cache[path].get(line)
    if found is None or found.commit == git_repo.UNCOMMITTED:
        return None
    return found.commit, found.committed_at, found.author_email
