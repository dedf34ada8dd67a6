-- `aitrail report`: the AI checklist on sign-offs of AI-written commits — how many sign-offs answered every
-- question of {checklist} (comma-separated keys; the policy's defaults). Person: the signer.
SELECT
    multiIf({by:String} = 'all', '', {by:String} = 'person', lower(if(s.signer_email != '', s.signer_email, s.signer_id)),
            {by:String} = 'repository', c.repository, c.team) AS key,
    count() AS signoffs,
    countIf(hasAll(mapKeys(s.checklist), splitByChar(',', {checklist:String}))) AS checklists_complete
FROM (SELECT signoff_id, any(commit) AS commit, any(signer_email) AS signer_email, any(signer_id) AS signer_id,
             argMax(checklist, recorded_at) AS checklist
      FROM aitrail.ai_signoffs GROUP BY signoff_id) AS s
INNER JOIN (
    SELECT commit, any(repository) AS repository, any(team) AS team
    FROM aitrail.ai_commits AS t
    WHERE t.ai_lines > 0
      AND t.timestamp >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
      AND t.timestamp < parseDateTime64BestEffort({until:String}, 3, 'UTC')
      AND ({team:String} = '' OR t.team = {team:String})
      AND ({repo:String} = '' OR t.repository = {repo:String})
    GROUP BY commit
) AS c ON c.commit = s.commit
GROUP BY key
ORDER BY key
