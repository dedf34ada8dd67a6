-- Findings traced to the AI generations that wrote their lines, with the chain: the prompt's trace and who asked,
-- the assistant and model, the commit and its author, who reviewed and who approved it. Newest first.
WITH
    origins AS (
        SELECT tenant, fingerprint, min(timestamp) AS first_seen,
               argMin(trace_id, timestamp) AS trace_id, argMin(assistant, timestamp) AS assistant,
               argMin(model, timestamp) AS model, argMin(user_email, timestamp) AS prompted_by
        FROM aitrail.ai_line_origins
        WHERE fingerprint IN (SELECT arrayJoin(line_fingerprints) FROM aitrail.ai_findings)
        GROUP BY tenant, fingerprint),
    signed AS (
        SELECT tenant, repository, commit,
               arrayStringConcat(arraySort(groupUniqArrayIf(signer_email, role = 'reviewer')), ', ') AS reviewers,
               arrayStringConcat(arraySort(groupUniqArrayIf(signer_email, role = 'approver')), ', ') AS approvers
        FROM aitrail.ai_signoffs FINAL
        GROUP BY tenant, repository, commit),
    authors AS (
        SELECT tenant, repository, commit, author_email FROM aitrail.ai_commits FINAL),
    traced AS (
        SELECT f.finding_id AS finding_id, any(f.tenant) AS tenant, any(f.timestamp) AS detected,
               any(f.severity) AS severity, any(f.rule) AS rule, any(f.repository) AS repository,
               any(f.file_path) AS file_path, any(f.line_start) AS line, any(f.caught_at) AS caught_at,
               any(f.commit) AS commit, any(f.team) AS team,
               argMin(o.trace_id, o.first_seen) AS trace_id, argMin(o.prompted_by, o.first_seen) AS prompted_by,
               argMin(o.assistant, o.first_seen) AS assistant, argMin(o.model, o.first_seen) AS model
        FROM (
            SELECT * FROM aitrail.ai_findings FINAL
            WHERE $__timeFilter(timestamp)
              AND $__conditionalAll(team IN (${team}), $team)
              AND $__conditionalAll(repository IN (${repository}), $repository)
        ) AS f
        ARRAY JOIN f.line_fingerprints AS fp
        INNER JOIN origins AS o ON o.tenant = f.tenant AND o.fingerprint = fp
        GROUP BY f.finding_id)
SELECT
    t.detected AS detected,
    t.severity AS severity,
    t.rule AS rule,
    t.team AS team,
    t.repository AS repository,
    t.file_path AS file_path,
    t.line AS line,
    t.caught_at AS caught_at,
    t.assistant AS assistant,
    t.model AS model,
    t.prompted_by AS prompted_by,
    t.trace_id AS trace_id,
    t.commit AS commit,
    a.author_email AS author,
    s.reviewers AS reviewers,
    s.approvers AS approvers
FROM traced AS t
LEFT JOIN authors AS a ON a.tenant = t.tenant AND a.repository = t.repository AND a.commit = t.commit
LEFT JOIN signed AS s ON s.tenant = t.tenant AND s.repository = t.repository AND s.commit = t.commit
ORDER BY detected DESC, t.finding_id
LIMIT 100
