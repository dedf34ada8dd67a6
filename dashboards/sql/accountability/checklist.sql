-- The sign-off checklist's answers, per question: how often yes, no, or anything else (n/a).
SELECT
    question,
    countIf(answer = 'yes') AS yes,
    countIf(answer = 'no') AS no,
    countIf(answer NOT IN ('yes', 'no')) AS other
FROM aitrail.ai_signoffs FINAL
ARRAY JOIN mapKeys(checklist) AS question, mapValues(checklist) AS answer
WHERE $__timeFilter(timestamp)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(repository IN (${repository}), $repository)
GROUP BY question
ORDER BY question
