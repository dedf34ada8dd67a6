-- Every generation that wrote a line with one of these fingerprints (in this repository when one is named),
-- oldest first: the caller picks, per line, the latest before the commit that introduced it. A range read on
-- ai_line_origins' sort key (tenant, fingerprint, timestamp), not a scan of every generation's array.
SELECT fingerprint, toUnixTimestamp64Nano(timestamp) AS time_ns, span_id, trace_id, assistant, model, user_email, team,
       repository, file_path
FROM aitrail.ai_line_origins
WHERE fingerprint IN {fingerprints:Array(UInt64)}
  AND ({repository:String} = '' OR repository = '' OR repository = {repository:String})
ORDER BY fingerprint, timestamp
