-- AI lines per repository: added and removed lines, how many were accepted, files touched, people.
SELECT
    repository,
    count() AS generations,
    sum(lines_added) AS ai_lines,
    sumIf(lines_added, decision = 'accepted') AS accepted_lines,
    sum(lines_removed) AS removed_lines,
    uniqExact(file_path) AS files,
    uniqExact(user_id) AS people
FROM aitrail.ai_generations
WHERE tenant = {tenant:String}
  AND timestamp >= {start:DateTime64(9, 'UTC')} AND timestamp < {end:DateTime64(9, 'UTC')}
GROUP BY repository
ORDER BY ai_lines DESC, repository
