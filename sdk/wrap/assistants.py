"""Which assistant a wrapped command is, and the prompt, model and session its command line gives.

Each assistant's command-line grammar (flags that take a value, where the prompt sits) is data here, so a
new assistant is one more grammar."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field



from aitrail.sdk.wrap.snapshot import MAX_FILE_BYTES


ASSISTANTS = {"claude": "claude-code", "codex": "codex", "gemini": "gemini-cli", "aider": "aider"}
"""Executable name -> assistant name as aitrail spells it (else the executable's name)."""
NOT_ASSISTANTS = frozenset({
    "sh", "bash", "zsh", "dash", "ksh", "fish", "pwsh", "powershell", "cmd", "env", "sudo", "time", "nice", "xargs",
    "python", "python3", "node", "npx", "bun", "deno", "ruby", "perl", "make", "uv", "uvx", "pipx",
})
"""Shells, interpreters and launchers: what they run is not known from their name, so the assistant is
``unknown`` (name it with ``aitrail wrap --assistant NAME``) rather than, say, ``sh``."""

# --- recognising the assistant, its prompt and model ----------------------------


def assistant_name(command: Sequence[str]) -> str:
    """``claude`` -> ``claude-code``, ``/usr/bin/gemini`` -> ``gemini-cli``, ``codex.exe`` -> ``codex``; a shell or
    interpreter (``sh -c ...``, ``python agent.py``) -> ``unknown``; else the basename."""
    if not command:
        return "unknown"
    base = command[0].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or command[0]
    stem = base
    for suffix in (".exe", ".cmd", ".bat", ".ps1", ".js", ".mjs", ".py", ".sh"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if stem.lower() in NOT_ASSISTANTS or stem.lower().startswith("python"):
        return "unknown"
    return ASSISTANTS.get(stem.lower(), stem)


@dataclass(frozen=True)
class _Grammar:
    """Enough of an assistant's command line to find its prompt, model and session."""

    value_options: frozenset[str]
    """Options that take a value (the next argument, or ``--opt=value``)."""
    prompt_options: tuple[str, ...] = ()
    """Options whose value is the prompt."""
    model_options: tuple[str, ...] = ()
    session_options: tuple[str, ...] = ()
    positional_prompt: bool = True
    """Whether the first positional argument is the prompt."""
    subcommands: frozenset[str] = frozenset()
    """First positional arguments that are commands, not prompts."""
    prompt_subcommands: frozenset[str] = frozenset()
    """Subcommands after which the next positional argument is the prompt (``codex exec "..."``)."""


_CLAUDE = _Grammar(
    value_options=frozenset({
        "--model", "--fallback-model", "--output-format", "--input-format", "--allowedTools", "--allowed-tools",
        "--disallowedTools", "--disallowed-tools", "--tools", "--append-system-prompt", "--system-prompt",
        "--system-prompt-file", "--append-system-prompt-file", "--permission-mode", "--permission-prompt-tool",
        "--max-turns", "--mcp-config", "--session-id", "--settings", "--setting-sources", "--agents", "--agent",
        "--add-dir", "--plugin-dir", "--betas", "--max-budget-usd", "--json-schema", "--debug-file",
    }),
    model_options=("--model",),
    session_options=("--session-id",),
    subcommands=frozenset({"mcp", "config", "update", "doctor", "install", "migrate-installer", "setup-token",
                           "plugin", "api-key"}),
)
_CODEX = _Grammar(
    value_options=frozenset({
        "-m", "--model", "-c", "--config", "-p", "--profile", "-s", "--sandbox", "-a", "--ask-for-approval",
        "-C", "--cd", "-i", "--image", "--add-dir", "-o", "--output-last-message", "--color", "--output-schema",
        "--local-provider", "--enable", "--disable",
    }),
    model_options=("-m", "--model"),
    subcommands=frozenset({"login", "logout", "mcp", "mcp-server", "app-server", "completion", "debug", "sandbox",
                           "apply", "a", "resume", "cloud", "features", "help", "proto"}),
    prompt_subcommands=frozenset({"exec", "e"}),
)
_GEMINI = _Grammar(
    value_options=frozenset({
        "-p", "--prompt", "-i", "--prompt-interactive", "-m", "--model", "--approval-mode", "-e", "--extensions",
        "--include-directories", "--allowed-mcp-server-names", "--allowed-tools", "-o", "--output-format",
        "--proxy", "--telemetry-target", "--telemetry-otlp-endpoint", "--telemetry-otlp-protocol",
        "--telemetry-outfile", "--sandbox-image", "-r", "--resume",
    }),
    prompt_options=("-p", "--prompt", "-i", "--prompt-interactive"),
    model_options=("-m", "--model"),
    subcommands=frozenset({"mcp", "extensions", "extension"}),
)
_AIDER = _Grammar(
    value_options=frozenset({
        "-m", "--message", "--msg", "-f", "--message-file", "--model", "--weak-model", "--editor-model",
        "--edit-format", "--api-key", "--set-env", "--read", "--file", "--config", "-c", "--env-file",
        "--openai-api-key", "--anthropic-api-key", "--chat-language", "--map-tokens", "--lint-cmd", "--test-cmd",
    }),
    prompt_options=("-m", "--message", "--msg"),
    model_options=("--model",),
    positional_prompt=False,  # aider's positional arguments are files
)
_GRAMMARS = {"claude-code": _CLAUDE, "codex": _CODEX, "gemini-cli": _GEMINI, "aider": _AIDER}


@dataclass
class _Parsed:
    options: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    positionals: list[str] = field(default_factory=list)


def _parse(args: Sequence[str], grammar: _Grammar) -> _Parsed:
    parsed = _Parsed()
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            parsed.positionals.extend(args[i + 1 :])
            break
        if arg.startswith("-") and arg != "-":
            name, eq, value = arg.partition("=")
            if eq and name.startswith("--"):
                parsed.options[name].append(value)
            elif name in grammar.value_options and i + 1 < len(args):
                parsed.options[name].append(args[i + 1])
                i += 1
            elif (len(arg) > 2 and not arg.startswith("--") and arg[:2] in grammar.value_options):
                parsed.options[arg[:2]].append(arg[2:])  # -mgpt-5
            else:
                parsed.options[name].append("")
        else:
            parsed.positionals.append(arg)
        i += 1
    return parsed


def _first(parsed: _Parsed, names: Iterable[str]) -> str | None:
    for name in names:
        for value in parsed.options.get(name, ()):
            if value.strip():
                return value
    return None


def _grammar(command: Sequence[str], assistant: str | None) -> _Grammar | None:
    return _GRAMMARS.get(assistant or assistant_name(command)) or _GRAMMARS.get(assistant_name(command))


def recognise_prompt(command: Sequence[str], assistant: str | None = None) -> str | None:
    """The prompt in an assistant's command line, when it has one there; None otherwise.

    ``claude [-p|--print] "..."`` (the first positional argument), ``codex exec "..."`` and ``codex "..."``,
    ``gemini -p/--prompt "..."`` (or ``-i``, or a positional query), ``aider --message/-m "..."`` (or
    ``--message-file``). A prompt read from standard input (``-``), a subcommand (``claude mcp``) or an
    unknown assistant gives None.
    """
    grammar = _grammar(command, assistant)
    if grammar is None or not command:
        return None
    parsed = _parse(list(command[1:]), grammar)
    prompt = _first(parsed, grammar.prompt_options)
    if prompt is None and grammar is _AIDER:
        path = _first(parsed, ("-f", "--message-file"))
        if path:
            prompt = _read_small(path)
    if prompt is None and grammar.positional_prompt and parsed.positionals:
        head, rest = parsed.positionals[0], parsed.positionals[1:]
        if head in grammar.prompt_subcommands:
            if rest and rest[0] == "resume":  # codex exec resume [SESSION] [PROMPT]
                rest = rest[2:] if len(rest) > 2 or not parsed.options.get("--last") else rest[1:]
            prompt = rest[0] if rest else None
        elif head not in grammar.subcommands:
            prompt = head
    if prompt is None or prompt == "-" or not prompt.strip():
        return None
    return prompt


def recognise_model(command: Sequence[str], assistant: str | None = None) -> str | None:
    """The model an assistant's command line asks for (``--model``, ``-m`` where it means the model), else None."""
    grammar = _grammar(command, assistant)
    if grammar is None or not command:
        return None
    return _first(_parse(list(command[1:]), grammar), grammar.model_options)


def recognise_session(command: Sequence[str], assistant: str | None = None) -> str | None:
    """The session id an assistant's command line fixes (``claude --session-id <uuid>``), else None."""
    grammar = _grammar(command, assistant)
    if grammar is None or not command or not grammar.session_options:
        return None
    return _first(_parse(list(command[1:]), grammar), grammar.session_options)


def _read_small(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        return data.decode("utf-8") if len(data) <= MAX_FILE_BYTES else None
    except (OSError, UnicodeDecodeError):
        return None
