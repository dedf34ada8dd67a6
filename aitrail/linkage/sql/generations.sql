-- The generations behind a line, in full: the prompt as its policy stored it, assistant, model, tokens, cost,
-- session, the person and the team.
SELECT
    span_id AS generation_id, trace_id, timestamp AS time, assistant, provider, model, session_id,
    prompt, prompt_policy, prompt_hash, input_tokens, output_tokens, cost_usd, user_id, user_email, user_name,
    team, repository, branch, file_path, decision
FROM aitrail.ai_generations
WHERE has(splitByChar(',', {ids:String}), span_id)
ORDER BY timestamp
