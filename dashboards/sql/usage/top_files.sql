-- The 20 files AI wrote most into (accepted lines), over the time range (whole UTC days).
SELECT
    repository,
    file_path,
    sum(accepted_lines) AS accepted_lines,
    sum(lines_added) AS lines_added,
    sum(generations) AS generations
FROM aitrail.ai_files_daily
WHERE $__dateFilter(day)
  AND $__conditionalAll(repository IN (${repository}), $repository)
GROUP BY repository, file_path
ORDER BY accepted_lines DESC, lines_added DESC, repository, file_path
LIMIT 20
