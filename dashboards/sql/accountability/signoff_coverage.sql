-- Dual sign-off coverage of AI changes per team: commits with AI-written lines, how many a reviewer signed, an
-- approver signed, and both (dual sign-off), and the share with both.
WITH signed AS (
    SELECT tenant, repository, commit,
           countIf(role = 'reviewer') > 0 AS reviewed,
           countIf(role = 'approver') > 0 AS approved
    FROM aitrail.ai_signoffs FINAL
    GROUP BY tenant, repository, commit)
SELECT
    c.team AS team,
    count() AS ai_commits,
    countIf(s.reviewed) AS reviewed,
    countIf(s.approved) AS approved,
    countIf(s.reviewed AND s.approved) AS dual_signed,
    round(dual_signed / ai_commits, 3) AS coverage
FROM (
    SELECT tenant, repository, commit, team FROM aitrail.ai_commits FINAL
    WHERE ai_lines > 0
      AND $__timeFilter(timestamp)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(repository IN (${repository}), $repository)
) AS c
LEFT JOIN signed AS s ON s.tenant = c.tenant AND s.repository = c.repository AND s.commit = c.commit
GROUP BY team
ORDER BY team
