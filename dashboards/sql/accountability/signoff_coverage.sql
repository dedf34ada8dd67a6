-- Dual sign-off coverage of AI changes per team, person (the commit's author) or repository (the variable by): commits
-- with AI-written lines; how many a reviewer other than their author signed, and an approver other than their author;
-- how many have dual sign-off (both, by two different people: the default policy, which `aitrail check` enforces
-- with a repository's own .aitrail/policy.toml); those without it; and the share with it.
WITH
{{signed}}
SELECT
    c.key AS `${by}`,
    count() AS ai_commits,
    countIf(s.reviewers > 0) AS reviewed,
    countIf(s.approvers > 0) AS approved,
    countIf(s.reviewers > 0 AND s.approvers > 0 AND s.signers >= 2) AS dual_signed,
    ai_commits - dual_signed AS unsigned,
    round(dual_signed / ai_commits, 3) AS coverage
FROM (
    SELECT tenant, commit,
           multiIf('${by}' = 'person', author_email, '${by}' = 'repository', repository, '${by}' = 'team', team, '') AS key
    FROM aitrail.ai_commits FINAL
    WHERE ai_lines > 0
      AND $__timeFilter(timestamp)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(repository IN (${repository}), $repository)
) AS c
LEFT JOIN signed AS s ON s.tenant = c.tenant AND s.commit = c.commit
GROUP BY c.key
ORDER BY c.key
