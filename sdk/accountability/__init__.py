"""Accountability: who signed off AI-written code, what the repository's policy asks, and whether it was met.

- :mod:`.signoff` — sign-off records (the CLI, commit trailers, a code host's review export), their
  deterministic ids, the local sign-off journal, and their spans (``aitrail.kind=signoff``).
- :mod:`.policy` — ``.aitrail/policy.toml``: which changes need which sign-offs, owners and checklist.
- :mod:`.check` — ``aitrail check``: every commit of a range against the policy, offline first.
- :mod:`.scan` — the early safeguard: AI-written code scanned as it is born.
"""
