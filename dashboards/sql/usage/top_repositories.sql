-- Lines AI wrote per repository (the 15 with most), over the time range (whole UTC days).
SELECT
    repository,
    sum(accepted_lines) AS accepted_lines,
    sum(lines_added) AS lines_added
FROM aitrail.ai_repositories_daily
WHERE $__dateFilter(day)
  AND $__conditionalAll(repository IN (${repository}), $repository)
GROUP BY repository
ORDER BY lines_added DESC, repository
LIMIT 15
