-- Incidents (ai_incidents, migration 0008), most recent first; one when an id is given.
SELECT
    incident_id, timestamp AS detected_at, title, severity, status, cost_usd, locations, commits, finding_ids,
    repository, team, tenant
FROM aitrail.ai_incidents FINAL
WHERE ({incident:String} = '' OR incident_id = {incident:String})
ORDER BY detected_at DESC, incident_id
