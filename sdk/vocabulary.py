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

VCS_REPOSITORY_URL_FULL: Final = "vcs.repository.url.full"
"""Repository URL, credentials stripped."""
VCS_REF_HEAD_NAME: Final = "vcs.ref.head.name"
"""Branch."""
VCS_REF_HEAD_REVISION: Final = "vcs.ref.head.revision"
"""Commit the work started from (HEAD)."""

CODE_FILE_PATH: Final = "code.file.path"
"""File written, relative to the repository root."""

# --- aitrail: only what no convention covers ---------------------------------

TENANT: Final = "aitrail.tenant.id"
"""Tenant; stamped by the collector from the caller's token, never trusted from payloads."""
TEAM: Final = "aitrail.team"
"""Team that owns the work."""
TEAM_ALIASES: Final = ("team", "team.name")
"""Resource attribute names teams commonly use (``OTEL_RESOURCE_ATTRIBUTES=team=...``)."""

KIND: Final = "aitrail.kind"
"""What a span records: one of the KIND_* values."""
KIND_GENERATION: Final = "generation"
"""One AI generation: a model answered a prompt and (maybe) wrote code."""
KIND_COMMIT: Final = "commit"
"""A commit, with its lines attributed to AI or human."""

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

DECISION: Final = "aitrail.decision"
"""accepted or rejected: what the person did with the generation."""
DECISION_ACCEPTED: Final = "accepted"
DECISION_REJECTED: Final = "rejected"

PROMPT_POLICIES: Final = ("full", "redacted", "hash", "none")
"""Every prompt capture policy, least private first."""

# --- Older spellings, mapped in one place ------------------------------------

ALIASES: Final[dict[str, tuple[str, ...]]] = {
    GEN_AI_PROVIDER_NAME: (GEN_AI_SYSTEM,),
    GEN_AI_USAGE_INPUT_TOKENS: (GEN_AI_USAGE_PROMPT_TOKENS,),
    GEN_AI_USAGE_OUTPUT_TOKENS: (GEN_AI_USAGE_COMPLETION_TOKENS,),
    SESSION_ID: (GEN_AI_CONVERSATION_ID,),
    TEAM: TEAM_ALIASES,
}
"""Canonical name -> older or foreign spellings accepted from emitters."""
