-- Shared by the panels that count committed lines (a fragment their WITH clause names): per team, person (the
-- author) or repository (the variable by), the range's commits, the lines they added and those of them AI
-- generations wrote (the commit hook's count). A commit recorded twice (the hook run again by hand) counts once.
committed AS (
    SELECT key, count() AS commits, sum(lines_added) AS lines_added, sum(ai_lines) AS ai_lines
    FROM (
        SELECT multiIf('${by}' = 'person', author_email, '${by}' = 'repository', repository, '${by}' = 'team', team,
                       '') AS key,
               lines_added, ai_lines
        FROM aitrail.ai_commits FINAL
        WHERE $__timeFilter(timestamp)
          AND $__conditionalAll(team IN (${team}), $team)
          AND $__conditionalAll(repository IN (${repository}), $repository))
    GROUP BY key)
