-- AI usage per team over the time range (whole UTC days): the question a team lead asks first. Read from the
-- daily rollup (migrations 0006, 0007). A generation counts as accepted when it was marked so, or when a commit
-- carries its lines (ai_commits.generation_ids, migration 0008): a wrapped assistant never says "accepted", its
-- committed work does. That second part is asked of the range's generations not marked accepted (a set lookup,
-- not a rollup: a commit recorded twice, amended or rebased must not count a generation twice).
SELECT
    u.team AS team,
    u.generations AS generations,
    u.people AS people,
    u.tokens AS tokens,
    u.cost_usd AS cost_usd,
    u.lines_added AS lines_added,
    round((u.accepted + c.committed) / u.generations, 3) AS accepted_share
FROM (
    SELECT
        team,
        sum(generations) AS generations,
        uniqExactMerge(people) AS people,
        sum(input_tokens) + sum(output_tokens) AS tokens,
        round(sum(cost_usd), 2) AS cost_usd,
        sum(lines_added) AS lines_added,
        sum(accepted_generations) AS accepted
    FROM aitrail.ai_usage_daily
    WHERE $__dateFilter(day)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(assistant IN (${assistant}), $assistant)
      AND $__conditionalAll(model IN (${model}), $model)
    GROUP BY team
    HAVING generations > 0
) AS u
LEFT JOIN (
    SELECT team, count() AS committed
    FROM aitrail.ai_generations
    WHERE $__dateFilter(toDate(timestamp, 'UTC'))
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(assistant IN (${assistant}), $assistant)
      AND $__conditionalAll(model IN (${model}), $model)
      AND decision != 'accepted'
      AND (tenant, span_id) IN (SELECT tenant, arrayJoin(generation_ids) FROM aitrail.ai_commits)
    GROUP BY team
) AS c ON c.team = u.team
ORDER BY generations DESC, team  -- a team with no committed generation joins to 0 (join_use_nulls is off)
