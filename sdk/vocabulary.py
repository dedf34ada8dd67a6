"""The one vocabulary of aitrail: every attribute name, spelled once.

The SDK writes these names, the collector maps every emitter's dialect onto
them, and the store's SQL reads them. OpenTelemetry semantic-convention names
are used wherever one exists (``gen_ai.*``, ``user.*``, ``code.*``, ``vcs.*``,
``session.id``); ``aitrail.*`` names cover only what no convention does.
The full table, with meanings, is in the README ("The model").
"""

from __future__ import annotations

from typing import Final

# --- OpenTelemetry semantic conventions -------------------------------------

SERVICE_NAME: Final = "service.name"
"""The emitting program (the assistant's own name for native telemetry)."""

USER_ID: Final = "user.id"
"""Who asked: a stable identifier of the person."""
USER_EMAIL: Final = "user.email"
"""Who asked: e-mail address."""
USER_NAME: Final = "user.name"
"""Who asked: display name."""

SESSION_ID: Final = "session.id"
"""The assistant session (conversation) a generation belongs to."""

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
"""chat, text_completion, generate_content, execute_tool, ..."""
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
"""anthropic, openai, gcp.gemini, ... (current spelling)."""
GEN_AI_SYSTEM: Final = "gen_ai.system"
"""Older spelling of the provider, still sent by many emitters."""
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
"""The model asked for."""
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
"""The model that answered (preferred over the request model when present)."""
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
"""Tokens read by the model."""
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
"""Tokens written by the model."""
GEN_AI_USAGE_PROMPT_TOKENS: Final = "gen_ai.usage.prompt_tokens"
"""Older spelling of input tokens."""
GEN_AI_USAGE_COMPLETION_TOKENS: Final = "gen_ai.usage.completion_tokens"
"""Older spelling of output tokens."""
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
"""Conversation id; used as the session when ``session.id`` is absent."""
GEN_AI_PROMPT: Final = "gen_ai.prompt"
"""Older flat prompt attribute some instrumentations still send."""
GEN_AI_COMPLETION: Final = "gen_ai.completion"
"""Older flat answer attribute some instrumentations still send."""
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
"""The messages sent to the model (JSON: ``[{role, parts: [{type, content}]}]``), current GenAI conventions."""
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
"""The model's answer messages (same JSON), current GenAI conventions."""
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
"""The system prompt (same JSON parts), current GenAI conventions."""
GEN_AI_INFERENCE_DETAILS_EVENT: Final = "gen_ai.client.inference.operation.details"
"""Event (on the span, or a log record) that may carry ``gen_ai.input.messages`` and ``gen_ai.output.messages``."""
GEN_AI_PROMPT_EVENTS: Final = {"gen_ai.content.prompt": GEN_AI_PROMPT, "gen_ai.user.message": "content"}
"""Older events holding the prompt -> the attribute (span event) or body field (log record) that holds it."""
GEN_AI_ANSWER_EVENTS: Final = {"gen_ai.content.completion": GEN_AI_COMPLETION, "gen_ai.choice": "message"}
"""Older events holding the answer -> the attribute (span event) or body field (log record) that holds it."""
GEN_AI_CONTEXT_EVENTS: Final = ("gen_ai.system.message", "gen_ai.assistant.message", "gen_ai.tool.message")
"""Older events holding the rest of the conversation sent with a prompt (withheld with it by the prompt policy)."""
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
"""The agent that made a GenAI call (Gemini CLI names itself ``gemini-cli``)."""
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
"""The provider's id of the answer (``msg_...``, ``chatcmpl-...``)."""
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
"""Why the model stopped, one per choice (``end_turn``, ``stop``, ``max_tokens``, ``tool_use``, ...)."""
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
"""Input tokens served from the provider's prompt cache (already counted in the input tokens)."""
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
"""Input tokens written to the provider's prompt cache (already counted in the input tokens)."""
ERROR_TYPE: Final = "error.type"
"""What a failed operation ended with: the exception's class name (``RateLimitError``, ``APIConnectionError``)."""
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
"""On a generation derived from an assistant's native telemetry: the tool that wrote the file (``Write``, ``apply_patch``...)."""
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
"""... and the assistant's id of that tool call (``toolu_...``, ``call_...``)."""

VCS_REPOSITORY_URL_FULL: Final = "vcs.repository.url.full"
"""Repository URL, credentials stripped."""
VCS_REF_HEAD_NAME: Final = "vcs.ref.head.name"
"""Branch."""
VCS_REF_HEAD_REVISION: Final = "vcs.ref.head.revision"
"""Commit the work started from (HEAD)."""

CODE_FILE_PATH: Final = "code.file.path"
"""File written, relative to the repository root."""

PROCESS_EXIT_CODE: Final = "process.exit.code"
"""Exit status of a wrapped assistant's process (``aitrail wrap``); 128+N when killed by signal N."""

# --- aitrail: only what no convention covers ---------------------------------

TENANT: Final = "aitrail.tenant.id"
"""Tenant; stamped by the collector from the caller's token, never trusted from payloads."""
TEAM: Final = "aitrail.team"
"""Team that owns the work."""
TEAM_ALIASES: Final = ("team", "team.name")
"""Resource attribute names teams commonly use (``OTEL_RESOURCE_ATTRIBUTES=team=...``)."""
IDENTITY_SOURCE: Final = "aitrail.identity.source"
"""Where each part of the identity came from: ``user_id=git-config,email=git-config,name=none,team=codeowners:CODEOWNERS``."""

REPO_ROOT: Final = "aitrail.repo.root"
"""Local path of the repository root, given to a wrapped assistant so the collector can make its absolute
file paths relative to the repository (native telemetry sends absolute paths only); also on the wrapper's own
span, which the collector reads when the assistant's resource lost it."""

DERIVED_FROM: Final = "aitrail.derived.from"
"""On a generation the collector derived from an assistant's native telemetry: the dialect (``claude_code``,
``codex``, ``gemini_cli``; ``genai`` for GenAI messages sent as log records; ``collector/derive``)."""
DERIVED_REQUEST: Final = "aitrail.derived.request"
"""... and which model answer's tokens and cost it carries (each answer's are carried by exactly one generation)."""

KIND: Final = "aitrail.kind"
"""What a span records: one of the KIND_* values."""
KIND_GENERATION: Final = "generation"
"""One AI generation: a model answered a prompt and (maybe) wrote code."""
KIND_COMMIT: Final = "commit"
"""A commit, with its lines attributed to AI or human."""
KIND_OBSERVED: Final = "observed"
"""A file change seen by ``aitrail wrap`` around an assistant that reports its own generations natively
(Claude Code): kept for the audit and the journal, not counted twice in ``ai_generations``."""
KIND_MODEL_CALL: Final = "model_call"
"""Set by the collector on a generic GenAI call span that carried no prompt or answer of its own: its messages
may come as log records, so its generation is derived once they had time to arrive (``collector/derive/genai.sql``)."""

ASSISTANT: Final = "aitrail.assistant"
"""claude-code, codex, gemini-cli, copilot, aider, sdk, ..."""

PROMPT_TEXT: Final = "aitrail.prompt.text"
"""The prompt, as the policy allows (full or redacted)."""
PROMPT_HASH: Final = "aitrail.prompt.hash"
"""Salted SHA-256 of the prompt: the same prompt is recognisable without its text."""
PROMPT_POLICY: Final = "aitrail.prompt.policy"
"""full, redacted, hash or none."""
PROMPT_LENGTH: Final = "aitrail.prompt.length"
"""Characters in the original prompt."""
REDACTION_COUNT: Final = "aitrail.redaction.count"
"""Secrets (and, under the redacted policy, personal data) replaced in the prompt text before it left the machine."""
REDACTION_KINDS: Final = "aitrail.redaction.kinds"
"""Which kinds were replaced (``github_token``, ``password``, ...), a sorted list: that a prompt held a secret is worth auditing."""
RESPONSE_TEXT: Final = "aitrail.response.text"
"""The model's answer text, as the policy allows (instrumented clients; off unless the policy or caller asks)."""

COST_USD: Final = "aitrail.cost.usd"
"""What the generation cost, in US dollars."""

LINES_ADDED: Final = "aitrail.code.lines_added"
"""Lines the generation added to the file."""
LINES_REMOVED: Final = "aitrail.code.lines_removed"
"""Lines the generation removed from the file."""
LINE_START: Final = "aitrail.code.line_start"
"""First line (1-based) of the written range."""
LINE_END: Final = "aitrail.code.line_end"
"""Last line of the written range."""
LINE_FINGERPRINTS: Final = "aitrail.code.line_fingerprints"
"""Fingerprints of the added lines, as signed 64-bit integers (OTLP has no unsigned)."""
LANGUAGE: Final = "aitrail.code.language"
"""Programming language of the file."""
CODE_TEXT: Final = "aitrail.code.text"
"""The code the generation wrote, as the code policy allows (full or redacted; secrets are always removed)."""
CODE_POLICY: Final = "aitrail.code.policy"
"""full, redacted or none: how much code text the SDK was allowed to send."""
RENAMED_FROM: Final = "aitrail.code.renamed_from"
"""The file's previous path when the generation renamed it (same or at least 50 % similar content under a new
path while the old one vanished); lines added are then counted against the old content."""

WRAP_TRACE_ID: Final = "aitrail.wrap.trace_id"
"""Resource attribute ``aitrail wrap`` gives a wrapped assistant (in ``OTEL_RESOURCE_ATTRIBUTES``): the trace id
of the wrapper's generation span, so the assistant's native telemetry can be joined to it."""

AI_LINES: Final = "aitrail.commit.ai_lines"
"""On a commit span: fingerprinted lines added by the commit that match a generation in the local journal.
Blank and trivial lines have no fingerprint and count neither here nor in ``aitrail.code.lines_added``."""
COMMIT_FILES: Final = "aitrail.commit.files"
"""On a commit span: JSON list of ``{"path", "added", "ai"}`` per file (fingerprinted lines only)."""
COMMIT_ASSISTANTS: Final = "aitrail.commit.assistants"
"""On a commit span: the assistants whose generations wrote the commit's AI lines, sorted."""
COMMIT_TRAILERS: Final = "aitrail.commit.trailers"
"""On a commit span: the commit message's trailers, each as ``Key: value``."""

KIND_FINDING: Final = "finding"
"""A finding: a scanner result, a generation-time scan result or a manual report about some lines."""
KIND_INCIDENT: Final = "incident"
"""An incident: groups findings and locations, carries a cost."""
KIND_SIGNOFF: Final = "signoff"
"""A sign-off: a person reviewed or approved a commit (or a change request)."""

# --- records: commits, findings, incidents, sign-offs (docs/design/records.md) --------------------

COMMIT_PARENTS: Final = "aitrail.commit.parents"
"""On a commit span: the parent commit ids, in order."""
COMMITTER_EMAIL: Final = "aitrail.commit.committer.email"
"""On a commit span: the committer's e-mail address (the author is ``user.email``)."""

FINDING_ID: Final = "aitrail.finding.id"
"""A finding's deterministic id: the same result imported twice is one finding."""
FINDING_SOURCE: Final = "aitrail.finding.source"
"""Who reported it: the SARIF tool (``bandit``, ``semgrep``, ``codeql``...), ``aitrail-scan`` or ``manual``."""
FINDING_RULE: Final = "aitrail.finding.rule"
"""The scanner's rule id (``B602``, ``python.lang.security...``)."""
FINDING_CWE: Final = "aitrail.finding.cwe"
"""CWE ids of the finding (``CWE-78``), a list."""
FINDING_MESSAGE: Final = "aitrail.finding.message"
"""The scanner's message."""
FINDING_RESOLVED: Final = "aitrail.finding.resolved"
"""Whether the finding's location was resolved to a file and lines of a repository."""
FINDING_CAUGHT_AT: Final = "aitrail.finding.caught_at"
"""``generation`` (scanned as the AI wrote it), ``scan`` (a later scanner run) or ``incident``."""
FINDING_LINE_TEXT: Final = "aitrail.finding.line_text"
"""The text of the finding's first line (secrets removed)."""
FINDING_INTRODUCED_COMMIT: Final = "aitrail.finding.introduced.commit"
"""The commit that introduced the finding's first line (``git blame`` at the finding's commit, at import)."""
FINDING_INTRODUCED_TIME: Final = "aitrail.finding.introduced.time"
"""... that commit's committer time, Unix seconds: the line's origin is the latest generation before it."""
FINDING_INTRODUCED_AUTHOR: Final = "aitrail.finding.introduced.author"
"""... and that commit's author e-mail address."""
GENERATION_TRACE_ID: Final = "aitrail.generation.trace_id"
"""On a record about one generation (a generation-time finding): that generation's trace id."""
GENERATION_SPAN_ID: Final = "aitrail.generation.span_id"
"""... and its span id."""

SEVERITY: Final = "aitrail.severity"
"""critical, high, medium, low or info (findings and incidents)."""
STATUS: Final = "aitrail.status"
"""open, fixed, accepted-risk, false-positive (findings); open, resolved (incidents)."""

INCIDENT_ID: Final = "aitrail.incident.id"
"""An incident's id (given by the ticket, else deterministic)."""
INCIDENT_TITLE: Final = "aitrail.incident.title"
"""The incident's title."""
INCIDENT_LOCATIONS: Final = "aitrail.incident.locations"
"""JSON list of ``{"path", "line", "fingerprints"}``: the lines the incident points at."""
INCIDENT_COMMITS: Final = "aitrail.incident.commits"
"""Commit ids the incident points at, a list."""
INCIDENT_FINDINGS: Final = "aitrail.incident.findings"
"""Finding ids the incident groups, a list."""

SIGNOFF_ID: Final = "aitrail.signoff.id"
"""A sign-off's deterministic id (commit, role, signer, source)."""
SIGNOFF_ROLE: Final = "aitrail.signoff.role"
"""reviewer or approver."""
SIGNOFF_SOURCE: Final = "aitrail.signoff.source"
"""cli, trailer or github: where the sign-off was read from."""
SIGNOFF_CHANGE: Final = "aitrail.signoff.change"
"""The change request (pull request) the sign-off was given on, when there is one."""
SIGNOFF_CHECKLIST: Final = "aitrail.signoff.checklist"
"""JSON object: checklist question key -> yes, no or n/a."""
SIGNOFF_NOTE: Final = "aitrail.signoff.note"
"""The signer's note."""

# --- interop: Agent Trace records and git-ai authorship notes (docs/interop.md) ----------------------

CONTRIBUTOR_TYPE: Final = "aitrail.contributor.type"
"""On a generation: Agent Trace's contributor type of its lines, ``ai`` or ``mixed`` (human-edited AI output);
absent means ``ai``. Human and unknown lines are no generation."""
LINE_RANGES: Final = "aitrail.code.line_ranges"
"""On a generation whose lines are not one block (imports): JSON list of ``[first, last]`` line ranges, 1-based,
inclusive; ``aitrail.code.line_start``/``line_end`` still give the first and last line."""
IMPORT_SOURCE: Final = "aitrail.import.source"
"""On an imported record: the format it was read from, ``agent-trace`` or ``git-ai``."""
IMPORT_RECORD: Final = "aitrail.import.record"
"""... and where in it: the Agent Trace record id, or the git-ai note's commit and attestation key."""
CONVERSATION_URL: Final = "aitrail.conversation.url"
"""On an imported generation: the URL of the conversation that produced it (Agent Trace, git-ai ``messages_url``)."""

DECISION: Final = "aitrail.decision"
"""accepted or rejected: what the person did with the generation."""
DECISION_ACCEPTED: Final = "accepted"
DECISION_REJECTED: Final = "rejected"

PROMPT_POLICIES: Final = ("full", "redacted", "hash", "none")
"""Every prompt capture policy, least private first."""
CODE_POLICIES: Final = ("full", "redacted", "none")
"""Every code text capture policy, least private first (fingerprints go under all of them)."""

# --- Older spellings, mapped in one place ------------------------------------

ALIASES: Final[dict[str, tuple[str, ...]]] = {
    GEN_AI_PROVIDER_NAME: (GEN_AI_SYSTEM,),
    GEN_AI_USAGE_INPUT_TOKENS: (GEN_AI_USAGE_PROMPT_TOKENS,),
    GEN_AI_USAGE_OUTPUT_TOKENS: (GEN_AI_USAGE_COMPLETION_TOKENS,),
    SESSION_ID: (GEN_AI_CONVERSATION_ID,),
    TEAM: TEAM_ALIASES,
}
"""Canonical name -> older or foreign spellings accepted from emitters."""
