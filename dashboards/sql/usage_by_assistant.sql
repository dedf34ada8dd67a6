-- Which assistants and models wrote the code, over the last {days} UTC days, today included.
-- Read from the daily rollup (migration 0006): a row per team, assistant, model and day.
SELECT
    assistant,
    model,
    sum(generations) AS generations,
    uniqExactMerge(people) AS people,
    sum(input_tokens) + sum(output_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost_usd,
    sum(lines_added) AS lines_added
FROM aitrail.ai_usage_daily
WHERE day > toDate(now(), 'UTC') - {days:UInt32}
GROUP BY assistant, model
HAVING generations > 0
ORDER BY generations DESC, assistant, model
