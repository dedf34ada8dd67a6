-- `aitrail report`: incidents traced to AI-written code, and their cost. An incident is traced to AI code when
-- it points at a commit with AI-written lines, or groups a finding whose lines an AI generation wrote. Person:
-- the author of the first commit it points at.
WITH ai_commits AS (
    SELECT commit, any(author_email) AS author_email, any(ai_lines) AS ai_lines FROM aitrail.ai_commits GROUP BY commit
),
ai_findings AS (
    SELECT DISTINCT f.finding_id AS finding_id
    FROM (SELECT finding_id, any(repository) AS repository, any(line_fingerprints) AS fingerprints,
                 any(caught_at) AS caught_at FROM aitrail.ai_findings GROUP BY finding_id) AS f
    ARRAY JOIN f.fingerprints AS fingerprint
    INNER JOIN aitrail.ai_line_origins AS o ON o.fingerprint = fingerprint AND o.repository = f.repository
),
incidents AS (
    SELECT incident_id, any(team) AS team, any(repository) AS repository, argMax(cost_usd, recorded_at) AS cost_usd,
           any(commits) AS commits, any(finding_ids) AS finding_ids
    FROM aitrail.ai_incidents AS t
    WHERE t.timestamp >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
      AND t.timestamp < parseDateTime64BestEffort({until:String}, 3, 'UTC')
      AND ({team:String} = '' OR t.team = {team:String})
      AND ({repo:String} = '' OR t.repository = {repo:String})
    GROUP BY incident_id
)
SELECT
    multiIf({by:String} = 'all', '', {by:String} = 'person', c.author_email, {by:String} = 'repository', i.repository, i.team) AS key,
    count() AS incidents,
    countIf(traced) AS incidents_ai,
    sumIf(i.cost_usd, traced) AS incidents_ai_cost_usd
FROM (
    SELECT *,
           hasAny(commits, (SELECT groupArray(commit) FROM ai_commits WHERE ai_lines > 0))
           OR hasAny(finding_ids, (SELECT groupArray(finding_id) FROM ai_findings)) AS traced
    FROM incidents
) AS i
LEFT JOIN ai_commits AS c ON c.commit = if(empty(i.commits), '', i.commits[1])
GROUP BY key
ORDER BY key
