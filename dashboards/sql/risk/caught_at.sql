-- Where findings were caught, per team: as the AI wrote the code (the generation-time scan), by a later scan, or
-- only in an incident. The earlier, the cheaper.
SELECT
    team,
    countIf(caught_at = 'generation') AS at_generation,
    countIf(caught_at = 'scan') AS by_scan,
    countIf(caught_at = 'incident') AS in_incident
FROM aitrail.ai_findings FINAL
WHERE $__timeFilter(timestamp)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(repository IN (${repository}), $repository)
GROUP BY team
ORDER BY team
