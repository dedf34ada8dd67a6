-- For `aitrail check` (sdk/accountability/check.py): what the store knows about some commits — their AI
-- lines per file (the commit hook's record) and the people whose generations wrote those lines.
SELECT
    c.commit AS commit,
    any(c.files) AS files,
    arraySort(groupUniqArrayIf(g.user_email, g.user_email != '')) AS prompters
FROM (
    SELECT commit, files, generation_ids
    FROM aitrail.ai_commits
    WHERE commit IN splitByChar(',', {commits:String})
) AS c
LEFT ARRAY JOIN c.generation_ids AS generation_id
LEFT JOIN (SELECT span_id, user_email FROM aitrail.ai_generations) AS g ON g.span_id = generation_id
GROUP BY c.commit
