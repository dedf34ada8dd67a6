-- Findings per thousand committed lines, AI-written against human-written, per team. A finding is on AI code when
-- it was caught as the AI wrote it or one of its lines' fingerprints is a line a generation wrote (ai_line_origins,
-- same tenant); committed lines come from the commits' per-file counts (ai_commit_files).
WITH
    findings AS (
        SELECT team, countIf(ai) AS ai_findings, countIf(NOT ai) AS human_findings
        FROM (
            SELECT team,
                   generation_trace_id != '' OR arrayExists(x -> (tenant, x) IN (
                       SELECT tenant, fingerprint FROM aitrail.ai_line_origins
                       WHERE fingerprint IN (SELECT arrayJoin(line_fingerprints) FROM aitrail.ai_findings)),
                   line_fingerprints) AS ai
            FROM aitrail.ai_findings FINAL
            WHERE $__timeFilter(timestamp)
              AND $__conditionalAll(team IN (${team}), $team)
              AND $__conditionalAll(repository IN (${repository}), $repository))
        GROUP BY team),
    lines AS (
        SELECT team, sum(f.ai_lines) AS ai_lines, sum(f.lines_added) - sum(f.ai_lines) AS human_lines
        FROM aitrail.ai_commit_files AS f FINAL
        WHERE $__timeFilter(timestamp)
          AND $__conditionalAll(team IN (${team}), $team)
          AND $__conditionalAll(repository IN (${repository}), $repository)
        GROUP BY team)
SELECT
    team,
    ai_lines,
    human_lines,
    ai_findings,
    human_findings,
    round(ai_findings * 1000 / nullIf(ai_lines, 0), 2) AS ai_per_kloc,
    round(human_findings * 1000 / nullIf(human_lines, 0), 2) AS human_per_kloc
FROM lines
FULL OUTER JOIN findings USING (team)
ORDER BY team
