-- For `aitrail check` (sdk/accountability/check.py): the sign-offs the store holds for some commits.
SELECT commit, role, signer_email, signer_name, signer_id, identity_source, source, change, checklist, note,
       team, toUnixTimestamp64Milli(timestamp) / 1000 AS time
FROM aitrail.ai_signoffs
WHERE commit IN splitByChar(',', {commits:String})
ORDER BY commit, signoff_id
