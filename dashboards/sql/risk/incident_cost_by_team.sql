-- Incidents and their cost attributed to AI code per team, person (the author of the first commit the incident
-- points at) or repository (the variable by): incidents, those with a finding on AI code, the cost in proportion to
-- the share of each incident's findings on AI code (caught as the AI wrote it, or a line a generation wrote), and
-- the rest.
WITH
    {{ai_findings}},
    shares AS (
        SELECT tenant, team, repository, commits, cost_usd,
               arrayCount(id -> (tenant, id) IN (SELECT tenant, finding_id FROM ai_findings), finding_ids)
                   / greatest(length(finding_ids), 1) AS ai_share
        FROM aitrail.ai_incidents FINAL
        WHERE $__timeFilter(timestamp)
          AND $__conditionalAll(team IN (${team}), $team)
          AND $__conditionalAll(repository IN (${repository}), $repository))
SELECT
    key AS `${by}`,
    count() AS incidents,
    countIf(ai_share > 0) AS ai_incidents,
    round(sum(cost_usd * ai_share), 2) AS ai_cost_usd,
    round(sum(cost_usd * (1 - ai_share)), 2) AS other_cost_usd
FROM (
    SELECT multiIf('${by}' = 'person', a.author_email, '${by}' = 'repository', i.repository, '${by}' = 'team', i.team,
                   '') AS key,
           i.cost_usd AS cost_usd, i.ai_share AS ai_share
    FROM shares AS i
    LEFT JOIN (SELECT tenant, commit, any(author_email) AS author_email FROM aitrail.ai_commits FINAL
               GROUP BY tenant, commit) AS a ON a.tenant = i.tenant AND a.commit = if(empty(i.commits), '', i.commits[1]))
GROUP BY key
ORDER BY key
