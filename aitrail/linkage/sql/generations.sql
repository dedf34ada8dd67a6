-- The generations behind a line, in full: the prompt as its policy stored it, assistant, model, tokens, cost,
-- session, the person and the team. A sender that gave tokens but no cost (Codex, Gemini CLI, the instrumented
-- clients) gets the price table's estimate (ai_cost_estimates), marked by cost_estimated.
SELECT
    g.span_id AS generation_id, g.trace_id AS trace_id, g.timestamp AS time, g.assistant AS assistant,
    g.provider AS provider, g.model AS model, g.session_id AS session_id, g.prompt AS prompt,
    g.prompt_policy AS prompt_policy, g.prompt_hash AS prompt_hash, g.input_tokens AS input_tokens,
    g.output_tokens AS output_tokens,
    if(g.cost_usd = 0 AND e.span_id != '', e.estimated_cost_usd, g.cost_usd) AS cost_usd,
    toBool(g.cost_usd = 0 AND e.span_id != '') AS cost_estimated,
    g.user_id AS user_id, g.user_email AS user_email, g.user_name AS user_name, g.team AS team,
    g.repository AS repository, g.branch AS branch, g.file_path AS file_path, g.decision AS decision
FROM aitrail.ai_generations AS g
LEFT JOIN (
    SELECT span_id, argMax(estimated_cost_usd, recorded_at) AS estimated_cost_usd
    FROM aitrail.ai_cost_estimates
    WHERE has(splitByChar(',', {ids:String}), span_id)
    GROUP BY span_id
) AS e ON e.span_id = g.span_id
WHERE has(splitByChar(',', {ids:String}), g.span_id)
ORDER BY g.timestamp
