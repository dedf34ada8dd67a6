-- Who reviewed and approved these commits (ai_signoffs, migration 0009), when the accountability records
-- hold any.
SELECT commit, role, signer_email, signer_name, source, change, timestamp
FROM aitrail.ai_signoffs FINAL
WHERE has(splitByChar(',', {commits:String}), commit)
ORDER BY commit, timestamp
