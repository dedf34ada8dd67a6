"""Attribution in and out of aitrail: Agent Trace records and git-ai authorship notes (docs/interop.md).

- :mod:`.agent_trace` reads Agent Trace records (v0.1.0) into generations and writes aitrail's generations as
  Agent Trace records;
- :mod:`.git_ai` reads git-ai authorship notes (``refs/notes/ai``, ``authorship/3.0.0``) into commits and
  generations;
- :mod:`.spans` turns what they read into records with deterministic ids, skips what is already stored, and
  sends the rest (:func:`.spans.send_new`, through the shared import delivery
  :func:`aitrail.collector.imports.deliver`: a running collector, else the store directly);
- :mod:`.lines` reads a repository's files at a revision, for the fingerprints of the lines a record names.

Every import reads and checks all of its input first and sends nothing when any record is malformed
(:class:`aitrail.errors.InvalidImport`, naming the file and JSON path, or the note and line).
"""
