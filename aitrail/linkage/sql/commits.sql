-- The commit rows (ai_commits, from the hook) of these commits: author and time when no repository is at hand.
SELECT commit, author_email, author_name, committer_email, timestamp, branch, repository, generation_ids
FROM aitrail.ai_commits FINAL
WHERE has(splitByChar(',', {commits:String}), commit)
