-- Incidents and the share of their cost attributed to AI code: the cost times the share of the incident's findings
-- that trace to AI generations (caught as the AI wrote it, or a line a generation wrote). Costliest first.
WITH
    {{ai_findings}}
SELECT
    i.timestamp AS detected,
    i.incident_id AS incident_id,
    i.title AS title,
    i.severity AS severity,
    i.team AS team,
    i.status AS status,
    length(i.finding_ids) AS findings,
    arrayCount(id -> (i.tenant, id) IN (SELECT tenant, finding_id FROM ai_findings), i.finding_ids) AS ai_findings,
    round(i.cost_usd, 2) AS cost_usd,
    round(i.cost_usd * ai_findings / greatest(findings, 1), 2) AS ai_cost_usd
FROM aitrail.ai_incidents AS i FINAL
WHERE $__timeFilter(i.timestamp)
  AND $__conditionalAll(i.team IN (${team}), $team)
  AND $__conditionalAll(i.repository IN (${repository}), $repository)
ORDER BY cost_usd DESC, incident_id
LIMIT 50
