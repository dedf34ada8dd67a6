-- `aitrail report` (aitrail/dashboards/team_report.py; the dashboards reuse it): AI use per team, person or
-- repository — people, generations, tokens, and cost with the part estimated from tokens by the price table
-- (ai_generations.cost_estimated, migration 0009).
SELECT
    multiIf({by:String} = 'all', '', {by:String} = 'person', if(user_email != '', user_email, user_id),
            {by:String} = 'repository', repository, team) AS key,
    uniqExactIf(if(user_email != '', user_email, user_id), user_email != '' OR user_id != '') AS people,
    count() AS generations,
    sum(g.input_tokens) + sum(g.output_tokens) AS tokens,
    sum(g.cost_usd) AS cost_usd,
    sumIf(g.cost_usd, g.cost_estimated = 1) AS cost_estimated_usd
FROM aitrail.ai_generations AS g
WHERE timestamp >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
  AND timestamp < parseDateTime64BestEffort({until:String}, 3, 'UTC')
  AND ({team:String} = '' OR team = {team:String})
  AND ({repo:String} = '' OR repository = {repo:String})
GROUP BY key
ORDER BY key
