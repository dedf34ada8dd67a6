-- Shared by the panels that attribute incidents to AI code (a fragment their WITH clause names): the findings on
-- AI code, caught as the AI wrote it or on a line a generation wrote (ai_line_origins, same tenant).
ai_findings AS (
        SELECT tenant, finding_id
        FROM aitrail.ai_findings FINAL
        WHERE generation_trace_id != '' OR arrayExists(x -> (tenant, x) IN (
                  SELECT tenant, fingerprint FROM aitrail.ai_line_origins
                  WHERE fingerprint IN (SELECT arrayJoin(line_fingerprints) FROM aitrail.ai_findings)),
              line_fingerprints))
