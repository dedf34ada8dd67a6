-- Findings and the generations that wrote their lines (docs/linkage.md). One row per finding.
--
-- A finding's lines carry fingerprints; ai_line_origins (migration 0008, sorted by tenant and fingerprint)
-- holds one row per line a generation wrote. Every generation whose line matches — in the finding's tenant,
-- and in its repository when both sides know one — is listed in generation_ids; the origin is the latest
-- of them written before the commit that introduced the line (its committer time, to the second, plus one
-- second for the truncation), or before the finding was detected when no commit is known. No origin: the
-- line is human.
WITH
    findings AS (
        SELECT
            tenant, finding_id, timestamp, source, rule, cwe, severity, message, repository, commit, file_path,
            line_start, line_end, line_fingerprints, line_text, resolved, caught_at, status, team,
            introduced_commit, introduced_at, introduced_author,
            if(introduced_at > toDateTime(0, 'UTC'), toDateTime64(introduced_at, 9, 'UTC') + toIntervalSecond(1),
               timestamp) AS bound
        FROM aitrail.ai_findings FINAL
        WHERE ({finding:String} = '' OR startsWith(finding_id, {finding:String}))
          AND ({repository:String} = '' OR repository = {repository:String})
          AND ({severity:String} = '' OR severity = {severity:String})
    ),
    links AS (
        SELECT
            f.tenant AS tenant,
            f.finding_id AS finding_id,
            argMaxIf(tuple(o.span_id, o.timestamp, o.assistant, o.model, o.user_email, o.team),
                     o.timestamp, o.timestamp <= f.bound) AS origin,
            groupUniqArray(o.span_id) AS generation_ids
        FROM (SELECT tenant, finding_id, repository, bound, arrayJoin(line_fingerprints) AS fingerprint
              FROM findings) AS f
        INNER JOIN (
            SELECT tenant, fingerprint, repository, timestamp, span_id, assistant, model, user_email, team
            FROM aitrail.ai_line_origins
            WHERE fingerprint IN (SELECT arrayJoin(line_fingerprints) FROM findings)
        ) AS o ON o.tenant = f.tenant AND o.fingerprint = f.fingerprint
        WHERE f.repository = '' OR o.repository = '' OR o.repository = f.repository
        GROUP BY f.tenant, f.finding_id
    )
SELECT
    x.finding_id AS finding_id, x.timestamp AS detected_at, x.source AS source, x.rule AS rule, x.cwe AS cwe,
    x.severity AS severity, x.message AS message, x.repository AS repository, x.commit AS commit,
    x.file_path AS file_path, x.line_start AS line_start, x.line_end AS line_end, x.line_text AS line_text,
    x.resolved AS resolved, x.caught_at AS caught_at, x.status AS status, x.tenant AS tenant,
    x.introduced_commit AS introduced_commit, x.introduced_at AS introduced_at,
    x.introduced_author AS introduced_author,
    if(l.origin.1 != '', 'ai', 'human') AS origin,
    l.origin.1 AS generation_id, l.origin.2 AS generated_at, l.origin.3 AS assistant, l.origin.4 AS model,
    l.origin.5 AS user_email, if(l.origin.6 != '', l.origin.6, x.team) AS team,
    arrayFilter(s -> s != l.origin.1, l.generation_ids) AS other_generation_ids
FROM findings AS x
LEFT JOIN links AS l ON l.tenant = x.tenant AND l.finding_id = x.finding_id
WHERE ({team:String} = '' OR team = {team:String})
  AND ({origin:String} = '' OR origin = {origin:String})
ORDER BY indexOf(['critical', 'high', 'medium', 'low', 'info'], severity), detected_at DESC, file_path, line_start
