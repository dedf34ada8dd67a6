-- AI changes shipped without dual sign-off: commits with AI-written lines that lack a reviewer's or an approver's
-- sign-off, most AI lines first. The trace id opens the commit's record.
WITH signed AS (
    SELECT tenant, repository, commit,
           countIf(role = 'reviewer') AS reviews,
           countIf(role = 'approver') AS approvals
    FROM aitrail.ai_signoffs FINAL
    GROUP BY tenant, repository, commit)
SELECT
    c.timestamp AS committed,
    c.team AS team,
    c.repository AS repository,
    c.commit AS commit,
    c.author_email AS author,
    c.ai_lines AS ai_lines,
    c.lines_added AS lines_added,
    s.reviews AS reviews,
    s.approvals AS approvals,
    c.trace_id AS trace_id
FROM (
    SELECT * FROM aitrail.ai_commits FINAL
    WHERE ai_lines > 0
      AND $__timeFilter(timestamp)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(repository IN (${repository}), $repository)
) AS c
LEFT JOIN signed AS s ON s.tenant = c.tenant AND s.repository = c.repository AND s.commit = c.commit
WHERE s.reviews = 0 OR s.approvals = 0
ORDER BY ai_lines DESC, committed DESC, commit
LIMIT 50
