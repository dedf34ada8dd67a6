-- Ownership gaps per repository: AI changes no team answers for (the commit carries no team), and AI changes whose
-- only sign-offs are their author's own.
WITH signers AS (
    SELECT tenant, repository, commit, groupUniqArray(signer_email) AS emails
    FROM aitrail.ai_signoffs FINAL
    GROUP BY tenant, repository, commit)
SELECT
    c.repository AS repository,
    count() AS ai_commits,
    countIf(c.team = '') AS without_team,
    countIf(notEmpty(s.emails) AND arrayAll(e -> e = c.author_email, s.emails)) AS self_signed_only
FROM (
    SELECT tenant, repository, commit, team, author_email FROM aitrail.ai_commits FINAL
    WHERE ai_lines > 0
      AND $__timeFilter(timestamp)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(repository IN (${repository}), $repository)
) AS c
LEFT JOIN signers AS s ON s.tenant = c.tenant AND s.repository = c.repository AND s.commit = c.commit
GROUP BY repository
ORDER BY repository
