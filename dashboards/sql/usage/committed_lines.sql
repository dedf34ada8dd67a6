-- The share of committed lines AI wrote, per team, person (the commit's author) or repository (the variable by): the
-- lines the commits added and those of them AI generations wrote (the commit hook's count). A commit recorded twice
-- (the hook run again by hand) counts once.
SELECT
    key AS `${by}`,
    count() AS commits,
    sum(lines_added) AS lines_added,
    sum(ai_lines) AS ai_lines,
    round(ai_lines / nullIf(lines_added, 0), 3) AS ai_share
FROM (
    SELECT multiIf('${by}' = 'person', author_email, '${by}' = 'repository', repository, '${by}' = 'team', team, '')
               AS key, lines_added, ai_lines
    FROM aitrail.ai_commits FINAL
    WHERE $__timeFilter(timestamp)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(repository IN (${repository}), $repository))
GROUP BY key
ORDER BY lines_added DESC, key
