-- AI usage per team over the last {days} UTC days, today included: the question a team lead asks
-- first. Read from the daily rollup (migrations 0006, 0007): a row per team, assistant, model and day.
-- A generation counts as accepted when it was marked so, or when a commit carries its lines (the commit
-- rows' generation_ids, migration 0008): a wrapped assistant never says "accepted", its committed work
-- does. That second part is asked at query time of the window's generations not marked accepted (a set
-- lookup, not a rollup: a commit recorded twice, amended or rebased must not count a generation twice).
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
    WHERE day > toDate(now(), 'UTC') - {days:UInt32}
    GROUP BY team
    HAVING generations > 0
) AS u
LEFT JOIN (
    SELECT team, count() AS committed
    FROM aitrail.ai_generations
    WHERE timestamp >= toDateTime(toDate(now(), 'UTC') - {days:UInt32} + 1, 'UTC')
      AND decision != 'accepted'
      AND (tenant, span_id) IN (
          SELECT tenant, arrayJoin(generation_ids) FROM aitrail.ai_commits
          WHERE timestamp >= toDateTime(toDate(now(), 'UTC') - {days:UInt32} + 1, 'UTC'))
    GROUP BY team
) AS c ON c.team = u.team
ORDER BY generations DESC, team  -- a team with no committed generation joins to 0 (join_use_nulls is off)
