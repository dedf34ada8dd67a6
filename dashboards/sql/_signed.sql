-- Shared by the panels that ask about dual sign-off (a fragment their WITH clause names): per commit with AI-written
-- lines, its distinct reviewers, approvers and signers other than its author. Dual sign-off (the default policy) is
-- a reviewer and an approver, two different people.
signed AS (
    SELECT s.tenant AS tenant, s.commit AS commit,
           uniqExactIf(s.signer, s.role = 'reviewer') AS reviewers,
           uniqExactIf(s.signer, s.role = 'approver') AS approvers,
           uniqExact(s.signer) AS signers
    FROM (SELECT tenant, commit, role, lower(if(signer_email != '', signer_email, signer_id)) AS signer
          FROM aitrail.ai_signoffs FINAL) AS s
    INNER JOIN (SELECT tenant, commit, lower(any(author_email)) AS author FROM aitrail.ai_commits FINAL
                WHERE ai_lines > 0 GROUP BY tenant, commit) AS c
        ON c.tenant = s.tenant AND c.commit = s.commit
    WHERE s.signer != c.author
    GROUP BY tenant, commit)
