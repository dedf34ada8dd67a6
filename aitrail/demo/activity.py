"""A realistic, deterministic week of AI coding activity, and sending it over real OTLP.

Several teams, people, assistants and models; prompts, files, the lines each
generation wrote, tokens, cost and the person's decision. The same seed
always gives the same activity, so tests can compute what the store must say
without asking the code under test.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import fingerprints, to_signed


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str
    name: str
    team: str


@dataclass(frozen=True)
class Generation:
    person: Person
    assistant: str
    provider: str
    model: str
    session_id: str
    prompt: str
    repository: str
    branch: str
    commit: str
    file_path: str
    language: str
    line_start: int
    lines: tuple[str, ...]
    input_tokens: int
    output_tokens: int
    cost_usd: float
    decision: str
    start_ns: int
    duration_ns: int

    @property
    def fingerprints(self) -> list[int]:
        return fingerprints(self.lines)

    def attributes(self, legacy_provider: bool = False) -> dict[str, object]:
        """The span attributes, in aitrail's vocabulary (optionally with an older spelling, as real emitters send)."""
        return {
            v.KIND: v.KIND_GENERATION,
            v.ASSISTANT: self.assistant,
            v.GEN_AI_OPERATION_NAME: "chat",
            (v.GEN_AI_SYSTEM if legacy_provider else v.GEN_AI_PROVIDER_NAME): self.provider,
            v.GEN_AI_REQUEST_MODEL: self.model,
            v.GEN_AI_USAGE_INPUT_TOKENS: self.input_tokens,
            v.GEN_AI_USAGE_OUTPUT_TOKENS: self.output_tokens,
            v.COST_USD: self.cost_usd,
            v.SESSION_ID: self.session_id,
            v.PROMPT_TEXT: self.prompt,
            v.PROMPT_POLICY: "full",
            v.PROMPT_HASH: hashlib.sha256(self.prompt.encode()).hexdigest(),
            v.VCS_REPOSITORY_URL_FULL: self.repository,
            v.VCS_REF_HEAD_NAME: self.branch,
            v.VCS_REF_HEAD_REVISION: self.commit,
            v.CODE_FILE_PATH: self.file_path,
            v.LANGUAGE: self.language,
            v.LINE_START: self.line_start,
            v.LINE_END: self.line_start + len(self.lines) - 1,
            v.LINES_ADDED: len(self.lines),
            v.LINES_REMOVED: 0,
            v.LINE_FINGERPRINTS: [to_signed(fp) for fp in self.fingerprints],
            v.DECISION: self.decision,
        }


TEAMS = {
    "payments": ["ana", "bruno", "chen"],
    "platform": ["dara", "emeka"],
    "mobile": ["farah", "goran", "hana"],
    "data": ["ines", "jomo"],
}
ASSISTANTS = [  # assistant, provider, model, $ per 1k input tokens, $ per 1k output tokens
    ("claude-code", "anthropic", "claude-sonnet-4-5", 0.003, 0.015),
    ("codex", "openai", "gpt-5-codex", 0.00125, 0.01),
    ("gemini-cli", "gcp.gemini", "gemini-2.5-pro", 0.00125, 0.01),
    ("aider", "anthropic", "claude-opus-4-1", 0.015, 0.075),
]
TASKS = [
    ("python", "py", "Add retry with exponential backoff to the {thing} client", "def {thing}_with_retry(call, attempts=5):"),
    ("go", "go", "Validate the {thing} request body and return 400 on bad input", "func validate{Thing}(r *http.Request) error {{"),
    ("typescript", "ts", "Write a React hook that loads {thing} with pagination", "export function use{Thing}(page: number) {{"),
    ("sql", "sql", "Write a migration adding an index on {thing}.created_at", "CREATE INDEX idx_{thing}_created ON {thing} (created_at);"),
    ("python", "py", "Parse the {thing} CSV export and skip malformed rows", "def parse_{thing}(path):"),
]
THINGS = ["invoice", "payout", "ledger", "session", "device", "report", "order", "refund"]


def people() -> list[Person]:
    return [
        Person(f"u-{name}", f"{name}@example.com", name.capitalize(), team)
        for team, names in TEAMS.items()
        for name in names
    ]


def _body(rng: random.Random, head: str, thing: str, n: int) -> tuple[str, ...]:
    lines = [head]
    for i in range(n - 2):
        lines.append(f"    {rng.choice(['result', 'value', 'item', 'row'])}_{i} = {thing}_{rng.randrange(10**6)}")
    lines.append("}" if head.endswith("{") else "    return result_0")
    return tuple(lines)


def generate_activity(count: int = 240, days: int = 7, seed: int = 7, now_ns: int | None = None) -> list[Generation]:
    """``count`` generations spread over the last ``days`` days, the same for the same seed and clock."""
    rng = random.Random(seed)
    now_ns = now_ns if now_ns is not None else time.time_ns()
    crowd = people()
    out = []
    for i in range(count):
        person = rng.choice(crowd)
        assistant, provider, model, price_in, price_out = rng.choice(ASSISTANTS)
        language, ext, prompt, head = rng.choice(TASKS)
        thing = rng.choice(THINGS)
        input_tokens, output_tokens = rng.randrange(800, 12000), rng.randrange(100, 3000)
        out.append(
            Generation(
                person=person,
                assistant=assistant,
                provider=provider,
                model=model,
                session_id=f"s-{person.user_id}-{i // 6}",
                prompt=prompt.format(thing=thing),
                repository=f"https://git.example.com/acme/{person.team}-service",
                branch=rng.choice(["main", f"feature/{thing}", f"fix/{thing}-bug"]),
                commit=hashlib.sha1(f"{seed}:{i}".encode()).hexdigest(),
                file_path=f"src/{thing}/{rng.choice(['client', 'handler', 'model', 'util'])}.{ext}",
                language=language,
                line_start=rng.randrange(1, 400),
                lines=_body(rng, head.format(thing=thing, Thing=thing.capitalize()), thing, rng.randrange(3, 40)),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost_usd=round(input_tokens / 1000 * price_in + output_tokens / 1000 * price_out, 6),
                decision="accepted" if rng.random() < 0.8 else "rejected",
                start_ns=now_ns - rng.randrange(60, days * 86400) * 1_000_000_000,
                duration_ns=rng.randrange(2, 90) * 1_000_000_000,
            )
        )
    return out


def send_activity(
    generations: Sequence[Generation],
    http_endpoint: str,
    grpc_endpoint: str,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Send every generation as a span, each person through their own OTel SDK over OTLP/HTTP or OTLP/gRPC."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    by_person: dict[Person, list[Generation]] = {}
    for gen in generations:
        by_person.setdefault(gen.person, []).append(gen)
    for index, (person, gens) in enumerate(sorted(by_person.items(), key=lambda kv: kv[0].user_id)):
        # Half the people name their team the way Claude Code users do (team=...), half in aitrail's words.
        team_key = "team" if index % 2 else v.TEAM
        resource = Resource.create(
            {v.SERVICE_NAME: "aitrail-demo", v.USER_ID: person.user_id, v.USER_EMAIL: person.email,
             v.USER_NAME: person.name, team_key: person.team}
        )
        if index % 2:
            exporter = GrpcExporter(endpoint=grpc_endpoint, insecure=True)
        else:
            exporter = HttpExporter(endpoint=f"{http_endpoint}/v1/traces")
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=64))
        tracer = provider.get_tracer("aitrail.demo")
        for gen in gens:
            span = tracer.start_span(
                f"generation {gen.assistant}", start_time=gen.start_ns,
                attributes=gen.attributes(legacy_provider=index % 3 == 0),
            )
            span.end(end_time=gen.start_ns + gen.duration_ns)
            if progress is not None:
                progress(1)
        # A span aitrail knows nothing about: stored raw, never dropped, never a generation.
        tracer.start_span("git.push", attributes={"git.remote": "origin"}).end()
        provider.shutdown()
