-- AI changes shipped without dual sign-off (signoff_coverage's "unsigned"): commits with AI-written lines lacking a
-- reviewer or an approver other than their author, or signed by one person in both roles. Most AI lines first; the
-- trace id opens the commit's record. Reviewers and approvers count people other than the author.
WITH
{{signed}}
SELECT
    c.timestamp AS committed,
    c.team AS team,
    c.repository AS repository,
    c.commit AS commit,
    c.author_email AS author,
    c.ai_lines AS ai_lines,
    c.lines_added AS lines_added,
    s.reviewers AS reviewers,
    s.approvers AS approvers,
    c.trace_id AS trace_id
FROM (
    SELECT * FROM aitrail.ai_commits FINAL
    WHERE ai_lines > 0
      AND $__timeFilter(timestamp)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(repository IN (${repository}), $repository)
) AS c
LEFT JOIN signed AS s ON s.tenant = c.tenant AND s.commit = c.commit
WHERE NOT (s.reviewers > 0 AND s.approvers > 0 AND s.signers >= 2)
ORDER BY ai_lines DESC, committed DESC, commit
LIMIT 50
