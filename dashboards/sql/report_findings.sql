-- `aitrail report`: findings in AI-written versus human-written code, and those caught as the AI wrote the
-- code. A finding is in AI-written code when it was caught at generation time, or one of its lines'
-- fingerprints is a line a generation of the same repository wrote (ai_line_origins). Findings caught at
-- generation time are counted apart (that code may never have been committed): the per-thousand-lines rates
-- use the others, against the committed lines of report_commits.sql. Person: the introducing commit's author,
-- else the person whose generation it was caught in.
WITH findings AS (
    SELECT finding_id, any(repository) AS repository, any(team) AS team, any(commit) AS commit,
           any(caught_at) AS caught_at, any(line_fingerprints) AS fingerprints, any(generation_span_id) AS generation
    FROM aitrail.ai_findings AS t
    WHERE t.timestamp >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
      AND t.timestamp < parseDateTime64BestEffort({until:String}, 3, 'UTC')
      AND ({team:String} = '' OR t.team = {team:String})
      AND ({repo:String} = '' OR t.repository = {repo:String})
    GROUP BY finding_id
),
in_ai_lines AS (
    SELECT DISTINCT f.finding_id AS finding_id
    FROM findings AS f
    ARRAY JOIN f.fingerprints AS fingerprint
    INNER JOIN aitrail.ai_line_origins AS o ON o.fingerprint = fingerprint AND o.repository = f.repository
),
authors AS (SELECT commit, any(author_email) AS author_email FROM aitrail.ai_commits GROUP BY commit),
prompters AS (SELECT span_id, any(user_email) AS user_email FROM aitrail.ai_generations GROUP BY span_id)
SELECT
    multiIf({by:String} = 'all', '', {by:String} = 'person', if(a.author_email != '', a.author_email, p.user_email),
            {by:String} = 'repository', f.repository, f.team) AS key,
    countIf(f.caught_at != 'generation' AND f.finding_id IN (SELECT finding_id FROM in_ai_lines)) AS findings_ai,
    countIf(f.caught_at != 'generation' AND f.finding_id NOT IN (SELECT finding_id FROM in_ai_lines)) AS findings_human,
    countIf(f.caught_at = 'generation') AS caught_at_generation
FROM findings AS f
LEFT JOIN authors AS a ON a.commit = f.commit AND f.commit != ''
LEFT JOIN prompters AS p ON p.span_id = f.generation AND f.generation != ''
GROUP BY key
ORDER BY key
