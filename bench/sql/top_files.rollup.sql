-- The files AI wrote most into (accepted generations), from the daily rollup of files (migration 0006).
SELECT
    repository,
    file_path,
    sum(accepted_generations) AS generations,
    sum(accepted_lines) AS ai_lines
FROM aitrail.ai_files_daily
WHERE tenant = {tenant:String}
  AND day >= {start_day:Date} AND day < {end_day:Date}
GROUP BY repository, file_path
HAVING generations > 0
ORDER BY ai_lines DESC, repository, file_path
LIMIT {limit:UInt32}
