-- Reviewers' load: the 20 people who signed off most, the commits they signed and the AI lines in them.
SELECT
    s.signer_email AS signer,
    count() AS signoffs,
    uniqExact(s.repository, s.commit) AS commits,
    sum(c.ai_lines) AS ai_lines
FROM (
    SELECT * FROM aitrail.ai_signoffs FINAL
    WHERE $__timeFilter(timestamp)
      AND $__conditionalAll(team IN (${team}), $team)
      AND $__conditionalAll(repository IN (${repository}), $repository)
) AS s
LEFT JOIN (SELECT tenant, repository, commit, ai_lines FROM aitrail.ai_commits FINAL) AS c
    ON c.tenant = s.tenant AND c.repository = s.repository AND c.commit = s.commit
GROUP BY signer
ORDER BY signoffs DESC, signer
LIMIT 20
