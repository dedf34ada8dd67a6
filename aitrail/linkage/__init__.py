"""Linkage: from a line of code (a scanner's finding, an incident, a file) to the generations that wrote it, the
prompt, and the people — the question aitrail exists to answer (docs/linkage.md).

* :mod:`~aitrail.linkage.sarif` and :mod:`~aitrail.linkage.incidents` read findings and incidents into records;
* :mod:`~aitrail.linkage.repo` reads lines and ``git blame`` from the repository;
* :mod:`~aitrail.linkage.chain` runs the linkage SQL (``sql/*.sql``) and assembles each line's chain:
  line → introducing commit → generation(s) → prompt, assistant, model → user, team → author, sign-offs, owners.
"""
