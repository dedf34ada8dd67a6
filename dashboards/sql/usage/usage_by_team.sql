-- AI usage per team, person or repository (the variable by; the report asks it for each) over the time range (whole
-- UTC days), from the daily rollup per person (migration 0011): generations, people, tokens, cost — what the senders
-- reported plus what the price table estimated from tokens for generations sent without a cost, that estimated part
-- also apart — lines written, and the share of generations accepted. A generation counts as accepted when it was
-- marked so, or when a commit carries its lines (ai_commits.generation_ids, migration 0008): a wrapped assistant
-- never says "accepted", its committed work does. That second part is asked of the range's generations not marked
-- accepted (a set lookup, not a rollup: a commit recorded twice, amended or rebased must not count a generation
-- twice). Estimates are not known per assistant: with an assistant chosen, the estimated part is NULL (unknown).
SELECT
    u.key AS `${by}`,
    u.generations AS generations,
    u.people AS people,
    u.tokens AS tokens,
    u.cost_usd AS cost_usd,
    u.estimated_cost_usd AS estimated_cost_usd,
    u.lines_added AS lines_added,
    round((u.accepted + c.committed) / nullIf(u.generations, 0), 3) AS accepted_share
FROM (
    SELECT
        multiIf('${by}' = 'person', person, '${by}' = 'repository', repository, '${by}' = 'team', team, '') AS key,
        sum(d.generations) AS generations,
        uniqExactIf(d.person, d.generations > 0 AND d.person != '') AS people,
        sum(d.input_tokens) + sum(d.output_tokens) AS tokens,
        round(sum(d.cost_usd) + sum(d.estimated_cost_usd), 4) AS cost_usd,
        if($__conditionalAll(0, $assistant), round(sum(d.estimated_cost_usd), 4), NULL) AS estimated_cost_usd,
        sum(d.lines_added) AS lines_added,
        sum(d.accepted_generations) AS accepted
    FROM aitrail.ai_people_daily AS d
    WHERE $__dateFilter(day)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(assistant IN (${assistant}), $assistant)
      AND $__conditionalAll(model IN (${model}), $model)
      AND $__conditionalAll(repository IN (${repository}), $repository)
    GROUP BY key
    HAVING generations > 0 OR cost_usd > 0
) AS u
LEFT JOIN (
    SELECT
        multiIf('${by}' = 'person', if(user_email != '', user_email, user_id), '${by}' = 'repository', repository,
                '${by}' = 'team', team, '') AS key,
        count() AS committed
    FROM aitrail.ai_generations
    WHERE $__dateFilter(toDate(timestamp, 'UTC'))
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(assistant IN (${assistant}), $assistant)
      AND $__conditionalAll(model IN (${model}), $model)
      AND $__conditionalAll(repository IN (${repository}), $repository)
      AND decision != 'accepted'
      AND (tenant, span_id) IN (SELECT tenant, arrayJoin(generation_ids) FROM aitrail.ai_commits)
    GROUP BY key
) AS c ON c.key = u.key
ORDER BY generations DESC, u.key  -- a group with no committed generation joins to 0 (join_use_nulls is off)
