-- The AI checklist on sign-offs of AI-written commits, per team, person (the signer) or repository (the variable by):
-- sign-offs, how many answered every question of the checklist (the variable checklist: the policy's default keys,
-- comma-separated), and the share. Team and repository are the commit's; the time range is the commit's time.
SELECT
    key AS `${by}`,
    count() AS signoffs,
    countIf(answered_all) AS complete,
    round(complete / signoffs, 3) AS completion
FROM (
    SELECT multiIf('${by}' = 'person', lower(if(s.signer_email != '', s.signer_email, s.signer_id)),
                   '${by}' = 'repository', c.repo, '${by}' = 'team', c.commit_team, '') AS key,
           hasAll(mapKeys(s.checklist), splitByChar(',', '${checklist}')) AS answered_all
    FROM aitrail.ai_signoffs AS s FINAL
    INNER JOIN (
        SELECT tenant, commit, any(repository) AS repo, any(team) AS commit_team FROM aitrail.ai_commits FINAL
        WHERE ai_lines > 0
          AND $__timeFilter(timestamp)
          AND $__conditionalAll(team IN (${team}), $team)
          AND $__conditionalAll(repository IN (${repository}), $repository)
        GROUP BY tenant, commit
    ) AS c ON c.tenant = s.tenant AND c.commit = s.commit)
GROUP BY key
ORDER BY key
