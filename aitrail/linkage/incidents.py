"""Incidents: what broke, what it cost, and the lines, commits and findings it points at.

``aitrail incidents add`` builds one from options; ``aitrail incidents import FILE`` reads a ticket export in this
JSON shape (docs/linkage.md) — a list of incidents, or ``{"incidents": [...]}``::

    {"id": "INC-42", "title": "Shell injection in export", "severity": "critical",
     "detected": "2026-11-02T10:15:00Z", "status": "open", "cost_usd": 12000,
     "repository": "https://git.example.com/shop", "team": "payments",
     "locations": [{"path": "shop/export.py", "line": 41}], "commits": ["3f2a..."], "findings": ["9b1c..."]}

Only ``title``, ``severity`` and ``detected`` are required. A location's line is fingerprinted from the
repository (the incident's first commit when it names one, else the working tree), so the incident links to the
generations that wrote it even after the line moves. The whole file is checked before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aitrail.errors import InvalidImport
from aitrail.linkage import repo as git_repo
from aitrail.linkage.chain import Reader, findings, generations, pick_origin
from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.git import git_context
from aitrail.sdk.records import SEVERITIES, Location, Record, incident_record

STATUSES = ("open", "resolved")


def parse_time(text: str, path: str = "$.detected") -> int:
    """An ISO 8601 date-time (``2026-11-02T10:15:00Z``; no zone means UTC) as Unix nanoseconds."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidImport(f"expected an ISO 8601 date-time like 2026-11-02T10:15:00Z, found {json.dumps(text)}",
                            path) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1_000_000_000)


def parse_location(text: str, path: str = "$.locations[0]") -> tuple[str, int]:
    """``FILE:LINE`` -> (file, line)."""
    file, _, line = str(text).rpartition(":")
    if not file or not line.isdigit() or int(line) < 1:
        raise InvalidImport(f"expected FILE:LINE (e.g. shop/export.py:41), found {json.dumps(text)}", path)
    return file, int(line)


@dataclass(frozen=True)
class Where:
    """The repository the incident's locations are read from (None root: locations keep no fingerprints)."""

    root: Path | None
    repository: str

    @classmethod
    def of(cls, repo: Path | None) -> Where:
        ctx = git_context(repo or Path.cwd())
        return cls(ctx.root, ctx.repository) if ctx else cls(None, "")


def _fingerprinted(where: Where, file: str, line: int, commit: str | None) -> Location:
    lines = git_repo.file_lines(where.root, file, commit) if where.root is not None else None
    text = lines[line - 1] if lines is not None and line <= len(lines) else ""
    fp = line_fingerprint(text)
    return Location(file, line, (fp,) if fp is not None else ())


def build(fields: Mapping[str, Any], where: Where, path: str = "$") -> Record:
    """One incident record from a JSON object (or the options of ``incidents add``), checked field by field."""
    if not isinstance(fields, Mapping):
        raise InvalidImport("expected an incident object", path)
    title = fields.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InvalidImport("expected a non-empty title", f"{path}.title")
    severity = fields.get("severity")
    if severity not in SEVERITIES:
        raise InvalidImport(f"expected one of {', '.join(SEVERITIES)}, found {json.dumps(severity)}", f"{path}.severity")
    if fields.get("detected") is None:
        raise InvalidImport("expected the detection time (ISO 8601)", f"{path}.detected")
    detected = parse_time(fields["detected"], f"{path}.detected")
    status = fields.get("status") or "open"
    if status not in STATUSES:
        raise InvalidImport(f"expected one of {', '.join(STATUSES)}, found {json.dumps(status)}", f"{path}.status")
    cost = fields.get("cost_usd", 0)
    if not isinstance(cost, (int, float)) or isinstance(cost, bool) or cost < 0:
        raise InvalidImport(f"expected a cost in US dollars (a number from 0), found {json.dumps(cost)}",
                            f"{path}.cost_usd")
    lists = {}
    for key in ("commits", "findings", "locations"):
        value = fields.get(key) or []
        if not isinstance(value, list):
            raise InvalidImport(f"expected a list, found {type(value).__name__}", f"{path}.{key}")
        lists[key] = value
    for key in ("commits", "findings"):
        for i, item in enumerate(lists[key]):
            if not isinstance(item, str) or not item:
                raise InvalidImport("expected a non-empty string", f"{path}.{key}[{i}]")
    commit = lists["commits"][0] if lists["commits"] else None
    locations = []
    for i, item in enumerate(lists["locations"]):
        here = f"{path}.locations[{i}]"
        if isinstance(item, str):
            file, line = parse_location(item, here)
        elif isinstance(item, Mapping) and isinstance(item.get("path"), str) and isinstance(item.get("line"), int) \
                and not isinstance(item.get("line"), bool) and item["line"] >= 1:
            file, line = item["path"], item["line"]
        else:
            raise InvalidImport('expected {"path": FILE, "line": N} or "FILE:LINE"', here)
        locations.append(_fingerprinted(where, file, line, commit))
    for key in ("id", "repository", "team"):
        if fields.get(key) is not None and not isinstance(fields.get(key), str):
            raise InvalidImport("expected a string", f"{path}.{key}")
    return incident_record(
        title=title.strip(), severity=severity, time_ns=detected, cost_usd=float(cost), status=status,
        locations=locations, commits=lists["commits"], finding_ids=lists["findings"],
        repository=fields.get("repository") or where.repository, team=fields.get("team") or "",
        incident_id=fields.get("id") or None,
    )


def read_incidents(file: Path | str, where: Where) -> list[Record]:
    """Every incident of a ticket export (the shape in this module's docstring); refused whole at a defect."""
    try:
        doc = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidImport(f"cannot read {file}: {exc}") from exc
    except ValueError as exc:
        raise InvalidImport(f"not JSON: {exc}") from exc
    base = "$"
    if isinstance(doc, Mapping):
        doc, base = doc.get("incidents"), "$.incidents"
    if not isinstance(doc, list):
        raise InvalidImport('expected a list of incidents, or {"incidents": [...]}', base)
    return [build(item, where, f"{base}[{i}]") for i, item in enumerate(doc)]


def incidents(reader: Reader, incident: str = "") -> list[dict[str, Any]]:
    """Incidents, most recent first (one with ``incident``)."""
    rows = reader.rows("incidents", {"incident": incident})
    for row in rows:
        row["locations"] = json.loads(row["locations"] or "[]")
    return rows


def incident_chain(reader: Reader, incident_id: str) -> dict[str, Any] | None:
    """An incident, the chain of each of its lines and findings, and its cost attributed to the generations
    behind them (split equally among the distinct origin generations; nothing is attributed to human lines)."""
    rows = incidents(reader, incident_id)
    if not rows:
        return None
    row = rows[0]
    detected_ns = int(datetime.fromisoformat(str(row["detected_at"])).replace(tzinfo=timezone.utc).timestamp() * 1e9)
    lines = []
    fps = [int(fp) for loc in row["locations"] for fp in loc.get("fingerprints", [])]
    candidates: dict[int, list[dict[str, Any]]] = {}
    for r in reader.rows_in("line_origins", "fingerprints", fps, repository=row["repository"]):
        candidates.setdefault(int(r["fingerprint"]), []).append(r)
    for loc in row["locations"]:
        found = [c for fp in loc.get("fingerprints", []) for c in candidates.get(int(fp), [])]
        origin, others = pick_origin(found, detected_ns)
        lines.append({"path": loc["path"], "line": loc["line"], "origin": "ai" if origin else "human",
                      "generation_id": origin["span_id"] if origin else "",
                      "other_generation_ids": [o["span_id"] for o in others]})
    linked = [f for fid in row["finding_ids"] for f in findings(reader, finding=fid)]
    origins = sorted({x["generation_id"] for x in [*lines, *linked] if x["generation_id"]})
    details = generations(reader, origins)
    share = row["cost_usd"] / len(origins) if origins else 0.0
    return {
        "incident": row,
        "lines": lines,
        "findings": linked,
        "generations": [{**details[g], "attributed_cost_usd": round(share, 6)} for g in origins if g in details],
        "ai_lines": sum(1 for x in [*lines, *linked] if x["origin"] == "ai"),
        "human_lines": sum(1 for x in [*lines, *linked] if x["origin"] == "human"),
    }
