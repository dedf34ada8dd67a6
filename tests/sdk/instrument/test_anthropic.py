"""instrument_anthropic end to end: the real ``anthropic`` client against a local stand-in of the API, every call
tracked over real OTLP to a real collector and read back from ClickHouse."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

anthropic = pytest.importorskip("anthropic")

import aitrail  # noqa: E402
from aitrail.sdk.instrument import anthropic as instrumented  # noqa: E402
from aitrail.sdk.instrument import instrument_anthropic, uninstrument_anthropic  # noqa: E402

if str(Path(__file__).parent) not in sys.path:  # --import-mode=importlib puts no test folder on sys.path
    sys.path.insert(0, str(Path(__file__).parent))
from standin import CACHE_CREATION_TOKENS, CACHE_READ_TOKENS, StandIn  # noqa: E402

CACHED = CACHE_READ_TOKENS + CACHE_CREATION_TOKENS


@pytest.fixture
def standin():
    with StandIn() as server:
        yield server


@pytest.fixture
def sdk(collector, tmp_path, monkeypatch):
    """aitrail exporting to the test's collector, with the default policies; every patch undone afterwards."""
    monkeypatch.setenv("AITRAIL_JOURNAL", str(tmp_path / "journal.jsonl"))
    for name in ("AITRAIL_PROMPT_POLICY", "AITRAIL_CODE_POLICY", "AITRAIL_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    runtime = aitrail.configure(endpoint=collector.http_url)
    yield runtime
    uninstrument_anthropic()
    aitrail.shutdown()


def client(standin, cls=None):
    return (cls or anthropic.Anthropic)(base_url=standin.url, api_key="test", max_retries=0)


def user(text):
    return [{"role": "user", "content": text}]


def generations(ch):
    """Rows of ai_generations by prompt (every test call has its own)."""
    rows = list(ch.query("SELECT * FROM aitrail.ai_generations").named_results())
    by_prompt = {row["prompt"]: row for row in rows}
    assert len(by_prompt) == len(rows)
    return by_prompt


def span_attributes(ch, prompt):
    result = ch.query("SELECT SpanAttributes FROM aitrail.otel_traces WHERE SpanAttributes['aitrail.prompt.text'] = {p:String}",
                      parameters={"p": prompt})
    (attributes,), = result.result_rows
    return attributes


def assert_row(row, answer, *, assistant="sdk"):
    assert row["provider"] == "anthropic" and row["assistant"] == assistant
    assert row["model"] == answer.model  # the model that answered
    assert (row["input_tokens"], row["output_tokens"]) == (answer.input_tokens + CACHED, answer.output_tokens)
    assert row["prompt_policy"] == "redacted" and row["status"] != "Error"


def test_sync_and_async_calls_become_generations(sdk, ch, standin):
    sync = instrument_anthropic(client(standin), assistant="my-app")
    conversation = [{"role": "user", "content": "first question"}, {"role": "assistant", "content": "first answer"},
                    {"role": "user", "content": "write a haiku about audits"}]
    message = sync.messages.create(model="claude-test-a", max_tokens=100, system="be brief", messages=conversation)

    async def async_call():
        asynchronous = instrument_anthropic(client(standin, anthropic.AsyncAnthropic), assistant="my-app")
        blocks = [{"role": "user", "content": [{"type": "text", "text": "async"}, {"type": "text", "text": "blocks"}]}]
        return await asynchronous.messages.create(model="claude-test-b", max_tokens=50, messages=blocks)

    async_message = asyncio.run(async_call())
    assert aitrail.flush()

    first, second = standin.answers
    # The caller got exactly what the stand-in sent, and the stand-in exactly what the caller asked.
    assert message.model_dump(mode="json", exclude_unset=True) == first.sent
    assert async_message.model_dump(mode="json", exclude_unset=True) == second.sent
    assert standin.requests[0]["messages"] == conversation and standin.requests[0]["system"] == "be brief"
    assert message.usage.input_tokens == first.input_tokens and message.content[0].text == first.text

    rows = generations(ch)
    assert set(rows) == {"write a haiku about audits", "async\nblocks"}
    assert_row(rows["write a haiku about audits"], first, assistant="my-app")
    assert_row(rows["async\nblocks"], second, assistant="my-app")
    attributes = span_attributes(ch, "write a haiku about audits")
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["gen_ai.request.model"] == "claude-test-a"
    assert attributes["gen_ai.response.model"] == first.model
    assert attributes["gen_ai.response.id"] == first.id == message.id
    assert "end_turn" in attributes["gen_ai.response.finish_reasons"]
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == str(CACHE_READ_TOKENS)
    assert attributes["gen_ai.usage.cache_creation.input_tokens"] == str(CACHE_CREATION_TOKENS)
    assert "aitrail.response.text" not in attributes  # the code policy is "none" by default
    assert "error.type" not in attributes


def test_streams_are_handed_back_as_they_were_and_recorded_when_they_end(sdk, ch, standin):
    instrument_anthropic()  # every client, this time
    sync = client(standin)

    with sync.messages.create(model="claude-test-a", max_tokens=100, messages=user("stream raw"), stream=True) as stream:
        assert isinstance(stream, anthropic.Stream)
        events = [event for event in stream]
    with sync.messages.stream(model="claude-test-a", max_tokens=100, messages=user("stream helper")) as helper:
        final = helper.get_final_message()

    async def async_streams():
        asynchronous = client(standin, anthropic.AsyncAnthropic)
        stream = await asynchronous.messages.create(model="claude-test-b", max_tokens=100,
                                                    messages=user("async stream raw"), stream=True)
        assert isinstance(stream, anthropic.AsyncStream)
        async with stream:
            raw = [event async for event in stream]
        async with asynchronous.messages.stream(model="claude-test-b", max_tokens=100,
                                                messages=user("async stream helper")) as helper:
            texts = [text async for text in helper.text_stream]
            message = await helper.get_final_message()
        return raw, texts, message

    async_events, async_texts, async_final = asyncio.run(async_streams())
    assert aitrail.flush()

    raw_answer, helper_answer, async_raw_answer, async_helper_answer = standin.answers
    assert [event.model_dump(mode="json", exclude_unset=True) for event in events] == raw_answer.sent
    assert [event.model_dump(mode="json", exclude_unset=True) for event in async_events] == async_raw_answer.sent
    assert final.content[0].text == helper_answer.text and final.usage.output_tokens == helper_answer.output_tokens
    assert "".join(async_texts) == async_helper_answer.text == async_final.content[0].text

    rows = generations(ch)
    for prompt, answer in [("stream raw", raw_answer), ("stream helper", helper_answer),
                           ("async stream raw", async_raw_answer), ("async stream helper", async_helper_answer)]:
        assert_row(rows[prompt], answer)
        attributes = span_attributes(ch, prompt)
        assert attributes["gen_ai.response.id"] == answer.id
        assert "end_turn" in attributes["gen_ai.response.finish_reasons"]


def test_failed_calls_are_errors_and_raise_unchanged(sdk, ch, standin):
    sync = instrument_anthropic(client(standin))
    with pytest.raises(anthropic.RateLimitError) as rate_limited:
        sync.messages.create(model="fail-429", max_tokens=10, messages=user("too many"))
    assert rate_limited.value.status_code == 429
    assert rate_limited.value.body["error"]["type"] == "rate_limit_error"

    async def async_failure():
        asynchronous = instrument_anthropic(client(standin, anthropic.AsyncAnthropic))
        await asynchronous.messages.create(model="fail-500", max_tokens=10, messages=user("server down"))

    with pytest.raises(anthropic.InternalServerError) as server_error:
        asyncio.run(async_failure())
    assert server_error.value.status_code == 500

    stream = sync.messages.create(model="fail-midstream", max_tokens=10, messages=user("cut short"), stream=True)
    received = []
    with pytest.raises(anthropic.APIStatusError) as midstream:
        for event in stream:
            received.append(event)
    assert midstream.value.body["error"]["type"] == "overloaded_error"
    assert [e.type for e in received][:2] == ["message_start", "content_block_start"]
    assert aitrail.flush()

    rows = generations(ch)
    assert {prompt: row["status"] for prompt, row in rows.items()} == {
        "too many": "Error", "server down": "Error", "cut short": "Error"}
    assert span_attributes(ch, "too many")["error.type"] == "RateLimitError"
    assert span_attributes(ch, "server down")["error.type"] == "InternalServerError"
    assert span_attributes(ch, "cut short")["error.type"] == "APIStatusError"
    partial, = standin.answers  # the stream had told its input before failing
    assert rows["cut short"]["input_tokens"] == partial.input_tokens + CACHED
    assert rows["too many"]["model"] == "fail-429" and rows["too many"]["input_tokens"] == 0


def test_global_instrumentation_is_idempotent_and_undone(sdk, ch, standin):
    before = client(standin)  # made before: the classes are patched, so it is covered too
    original = vars(anthropic.resources.messages.Messages)["create"]
    instrument_anthropic()
    instrument_anthropic(assistant="twice")
    after = instrument_anthropic(client(standin))  # a class already patched: not wrapped again
    before.messages.create(model="claude-test-a", max_tokens=10, messages=user("from before"))
    after.messages.create(model="claude-test-a", max_tokens=10, messages=user("from after"))
    uninstrument_anthropic()
    assert vars(anthropic.resources.messages.Messages)["create"] is original
    after.messages.create(model="claude-test-a", max_tokens=10, messages=user("untracked"))
    assert aitrail.flush()

    rows = generations(ch)
    assert set(rows) == {"from before", "from after"}
    assert {row["assistant"] for row in rows.values()} == {"twice"}
    assert len(standin.answers) == 3


def test_one_client_only_and_undone(sdk, ch, standin):
    tracked, untracked = instrument_anthropic(client(standin)), client(standin)
    instrument_anthropic(tracked)  # again: still one generation per call
    tracked.messages.create(model="claude-test-a", max_tokens=10, messages=user("tracked"))
    untracked.messages.create(model="claude-test-a", max_tokens=10, messages=user("other client"))
    uninstrument_anthropic(tracked)
    tracked.messages.create(model="claude-test-a", max_tokens=10, messages=user("after undo"))
    assert aitrail.flush()
    assert set(generations(ch)) == {"tracked"}


def test_a_failure_inside_aitrail_never_breaks_the_call(sdk, ch, standin, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("aitrail bug")

    monkeypatch.setattr(instrumented, "read_event", broken)  # reading the stream fails
    sync = instrument_anthropic(client(standin))
    events = list(sync.messages.create(model="claude-test-a", max_tokens=10, messages=user("bad reader"),
                                       stream=True))
    monkeypatch.setattr("aitrail.sdk.instrument.call.track", broken)  # starting the generation fails
    message = sync.messages.create(model="claude-test-a", max_tokens=10, messages=user("no tracking"))
    assert aitrail.flush()

    streamed, plain = standin.answers
    assert [event.model_dump(mode="json", exclude_unset=True) for event in events] == streamed.sent
    assert message.model_dump(mode="json", exclude_unset=True) == plain.sent
    rows = generations(ch)
    assert set(rows) == {"bad reader"}  # recorded, without what could not be read
    assert rows["bad reader"]["status"] != "Error" and rows["bad reader"]["output_tokens"] == 0


def test_secrets_in_the_prompt_are_redacted_and_the_answer_kept_when_asked(sdk, ch, standin):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    sync = instrument_anthropic(client(standin), capture_response=True)
    sync.messages.create(model="claude-test-a", max_tokens=10, messages=user(f"push with token {token} now"))
    assert aitrail.flush()

    (prompt, row), = generations(ch).items()
    assert token not in prompt and prompt.startswith("push with token ") and "REDACTED" in prompt
    answer, = standin.answers
    response = span_attributes(ch, prompt)["aitrail.response.text"]
    assert token not in response and response.startswith("echo: push with token ")
