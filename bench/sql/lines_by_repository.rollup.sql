-- AI lines per repository, from the daily rollup of repositories (migration 0006).
SELECT
    repository,
    sum(generations) AS generations,
    sum(lines_added) AS ai_lines,
    sum(accepted_lines) AS accepted_lines,
    sum(lines_removed) AS removed_lines,
    uniqExactMerge(files) AS files,
    uniqExactMerge(people) AS people
FROM aitrail.ai_repositories_daily
WHERE tenant = {tenant:String}
  AND day >= {start_day:Date} AND day < {end_day:Date}
GROUP BY repository
ORDER BY ai_lines DESC, repository
