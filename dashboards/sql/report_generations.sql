-- `aitrail report` (aitrail/dashboards/team_report.py; the dashboards reuse it): AI use per team, person or
-- repository — people, generations, tokens, and cost with the part estimated from tokens by the price table
-- (ai_cost_estimates, migration 0009: generations whose sender gave no cost).
SELECT
    multiIf({by:String} = 'all', '', {by:String} = 'person', if(g.user_email != '', g.user_email, g.user_id),
            {by:String} = 'repository', g.repository, g.team) AS key,
    uniqExactIf(if(g.user_email != '', g.user_email, g.user_id), g.user_email != '' OR g.user_id != '') AS people,
    count() AS generations,
    sum(g.input_tokens) + sum(g.output_tokens) AS tokens,
    sum(g.cost_usd) + sum(e.estimated_cost_usd) AS cost_usd,
    sum(e.estimated_cost_usd) AS cost_estimated_usd
FROM aitrail.ai_generations AS g
LEFT JOIN (SELECT tenant, span_id, any(estimated_cost_usd) AS estimated_cost_usd
           FROM aitrail.ai_cost_estimates GROUP BY tenant, span_id) AS e
    ON e.tenant = g.tenant AND e.span_id = g.span_id
WHERE g.timestamp >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
  AND g.timestamp < parseDateTime64BestEffort({until:String}, 3, 'UTC')
  AND ({team:String} = '' OR g.team = {team:String})
  AND ({repo:String} = '' OR g.repository = {repo:String})
GROUP BY key
ORDER BY key
