-- Findings per thousand committed lines, AI-written against human-written, and where findings were caught, per team,
-- person or repository (the variable by). A finding is on AI code when one of its lines' fingerprints is a line a
-- generation wrote (ai_line_origins, same tenant). Findings caught as the AI wrote the code (the generation-time scan)
-- are counted apart, that code may never have been committed: the rates use the others, against the lines the commits
-- of the range added (AI lines; the rest human). Person: for lines, the commit's author; for a finding, the author of
-- the commit it was found in, else who asked for the generation it was caught in.
WITH
    findings AS (
        SELECT
            multiIf('${by}' = 'person', if(a.author_email != '', a.author_email, p.person),
                    '${by}' = 'repository', f.repository, '${by}' = 'team', f.team, '') AS key,
            f.caught_at AS caught_at,
            arrayExists(x -> (f.tenant, x) IN (
                SELECT tenant, fingerprint FROM aitrail.ai_line_origins
                WHERE fingerprint IN (SELECT arrayJoin(line_fingerprints) FROM aitrail.ai_findings)),
                f.line_fingerprints) AS ai
        FROM (
            SELECT tenant, repository, team, commit, caught_at, line_fingerprints, generation_span_id
            FROM aitrail.ai_findings FINAL
            WHERE $__timeFilter(timestamp)
              AND $__conditionalAll(team IN (${team}), $team)
              AND $__conditionalAll(repository IN (${repository}), $repository)
        ) AS f
        LEFT JOIN (SELECT tenant, commit, any(author_email) AS author_email FROM aitrail.ai_commits FINAL
                   GROUP BY tenant, commit) AS a ON a.tenant = f.tenant AND a.commit = f.commit AND f.commit != ''
        LEFT JOIN (SELECT tenant, span_id, any(if(user_email != '', user_email, user_id)) AS person
                   FROM aitrail.ai_generations
                   WHERE '${by}' = 'person' AND span_id IN (SELECT generation_span_id FROM aitrail.ai_findings)
                   GROUP BY tenant, span_id) AS p ON p.tenant = f.tenant AND p.span_id = f.generation_span_id),
    {{committed}},
    counted AS (
        SELECT key,
               countIf(caught_at != 'generation' AND ai) AS ai_findings,
               countIf(caught_at != 'generation' AND NOT ai) AS human_findings,
               countIf(caught_at = 'generation') AS at_generation,
               countIf(caught_at = 'scan') AS by_scan,
               countIf(caught_at = 'incident') AS in_incident
        FROM findings
        GROUP BY key)
SELECT
    key AS `${by}`,
    ai_lines,
    human_lines,
    ai_findings,
    human_findings,
    round(ai_findings * 1000 / nullIf(ai_lines, 0), 2) AS ai_per_kloc,
    round(human_findings * 1000 / nullIf(human_lines, 0), 2) AS human_per_kloc,
    at_generation,
    by_scan,
    in_incident
FROM (SELECT key, ai_lines, lines_added - ai_lines AS human_lines FROM committed) AS lines
FULL OUTER JOIN counted USING (key)
ORDER BY key
