-- Incident cost per team: the part attributed to AI code (by the share of each incident's findings that trace to
-- AI generations) and the rest.
WITH
    ai_findings AS (
        SELECT tenant, finding_id
        FROM aitrail.ai_findings FINAL
        WHERE generation_trace_id != '' OR arrayExists(x -> (tenant, x) IN (
                  SELECT tenant, fingerprint FROM aitrail.ai_line_origins
                  WHERE fingerprint IN (SELECT arrayJoin(line_fingerprints) FROM aitrail.ai_findings)),
              line_fingerprints)),
    shares AS (
        SELECT team, cost_usd,
               arrayCount(id -> (tenant, id) IN (SELECT tenant, finding_id FROM ai_findings), finding_ids)
                   / greatest(length(finding_ids), 1) AS ai_share
        FROM aitrail.ai_incidents FINAL
        WHERE $__timeFilter(timestamp)
          AND $__conditionalAll(team IN (${team}), $team)
          AND $__conditionalAll(repository IN (${repository}), $repository))
SELECT
    team,
    round(sum(cost_usd * ai_share), 2) AS ai_cost_usd,
    round(sum(cost_usd * (1 - ai_share)), 2) AS other_cost_usd
FROM shares
GROUP BY team
ORDER BY team
