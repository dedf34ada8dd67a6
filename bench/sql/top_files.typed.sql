-- The files AI wrote most into: lines added by accepted generations, per repository and file.
SELECT
    repository,
    file_path,
    count() AS generations,
    sum(lines_added) AS ai_lines
FROM aitrail.ai_generations
WHERE tenant = {tenant:String}
  AND timestamp >= {start:DateTime64(9, 'UTC')} AND timestamp < {end:DateTime64(9, 'UTC')}
  AND decision = 'accepted'
GROUP BY repository, file_path
ORDER BY ai_lines DESC, repository, file_path
LIMIT {limit:UInt32}
