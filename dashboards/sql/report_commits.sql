-- `aitrail report`: committed lines and the share written by AI, and AI-written commits lacking sign-off —
-- at least one reviewer and one approver other than the commit's author (its prompter on this machine), two
-- different people: the default policy. A repository's own .aitrail/policy.toml is enforced by `aitrail check`.
WITH commits AS (
    SELECT commit, any(repository) AS repository, any(team) AS team, any(author_email) AS author_email,
           any(lines_added) AS lines_added, any(ai_lines) AS ai_lines
    FROM aitrail.ai_commits AS t
    WHERE t.timestamp >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
      AND t.timestamp < parseDateTime64BestEffort({until:String}, 3, 'UTC')
      AND ({team:String} = '' OR t.team = {team:String})
      AND ({repo:String} = '' OR t.repository = {repo:String})
    GROUP BY commit
),
signed AS (
    SELECT s.commit AS commit,
           uniqExactIf(s.signer, s.role = 'reviewer') AS reviewers,
           uniqExactIf(s.signer, s.role = 'approver') AS approvers,
           uniqExact(s.signer) AS signers
    FROM (SELECT commit, role, lower(if(signer_email != '', signer_email, signer_id)) AS signer
          FROM aitrail.ai_signoffs) AS s
    INNER JOIN commits AS c ON c.commit = s.commit
    WHERE s.signer != lower(c.author_email)
    GROUP BY s.commit
)
SELECT
    multiIf({by:String} = 'all', '', {by:String} = 'person', c.author_email, {by:String} = 'repository', c.repository, c.team) AS key,
    sum(c.lines_added) AS lines_added,
    sum(c.ai_lines) AS ai_lines,
    countIf(c.ai_lines > 0) AS ai_commits,
    countIf(c.ai_lines > 0 AND NOT (s.reviewers >= 1 AND s.approvers >= 1 AND s.signers >= 2)) AS ai_commits_lacking_signoff
FROM commits AS c
LEFT JOIN signed AS s ON s.commit = c.commit
GROUP BY key
ORDER BY key
