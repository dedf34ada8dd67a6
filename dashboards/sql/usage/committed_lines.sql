-- The share of committed lines AI wrote, per team, person (the commit's author) or repository (the variable by).
WITH
{{committed}}
SELECT
    key AS `${by}`,
    commits,
    lines_added,
    ai_lines,
    round(ai_lines / nullIf(lines_added, 0), 3) AS ai_share
FROM committed
ORDER BY lines_added DESC, key
