"""instrument_openai end to end: the real ``openai`` client against a local stand-in of the API, every call
tracked over real OTLP to a real collector and read back from ClickHouse."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

openai = pytest.importorskip("openai")

import aitrail  # noqa: E402
from aitrail.sdk.instrument import instrument_openai, uninstrument_openai  # noqa: E402

if str(Path(__file__).parent) not in sys.path:  # --import-mode=importlib puts no test folder on sys.path
    sys.path.insert(0, str(Path(__file__).parent))
from standin import CACHE_READ_TOKENS, StandIn  # noqa: E402


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
    uninstrument_openai()
    aitrail.shutdown()


def client(standin, cls=None):
    return (cls or openai.OpenAI)(base_url=standin.url + "/v1", api_key="test", max_retries=0)


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


def assert_row(row, answer, *, tokens=True, assistant="sdk"):
    assert row["provider"] == "openai" and row["assistant"] == assistant
    assert row["model"] == answer.model  # the model that answered
    expected = (answer.input_tokens, answer.output_tokens) if tokens else (0, 0)  # cached tokens are within the input
    assert (row["input_tokens"], row["output_tokens"]) == expected
    assert row["prompt_policy"] == "redacted" and row["status"] != "Error"


def test_sync_and_async_calls_become_generations(sdk, ch, standin):
    sync = instrument_openai(client(standin), assistant="my-app")
    conversation = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "first question"},
                    {"role": "assistant", "content": "first answer"}, {"role": "user", "content": "name three audits"}]
    completion = sync.chat.completions.create(model="gpt-4.1", messages=conversation)

    async def async_call():
        asynchronous = instrument_openai(client(standin, openai.AsyncOpenAI), assistant="my-app")
        parts = [{"role": "user", "content": [{"type": "text", "text": "async"}, {"type": "text", "text": "parts"}]}]
        return await asynchronous.chat.completions.create(model="gpt-4.1-mini", messages=parts)

    async_completion = asyncio.run(async_call())
    assert aitrail.flush()

    first, second = standin.answers
    # The caller got exactly what the stand-in sent, and the stand-in exactly what the caller asked.
    assert completion.model_dump(mode="json", exclude_unset=True) == first.sent
    assert async_completion.model_dump(mode="json", exclude_unset=True) == second.sent
    assert standin.requests[0]["messages"] == conversation
    assert completion.usage.prompt_tokens == first.input_tokens and completion.choices[0].message.content == first.text

    rows = generations(ch)
    assert set(rows) == {"name three audits", "async\nparts"}
    assert_row(rows["name three audits"], first, assistant="my-app")
    assert_row(rows["async\nparts"], second, assistant="my-app")
    attributes = span_attributes(ch, "name three audits")
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4.1"
    assert attributes["gen_ai.response.model"] == first.model
    assert attributes["gen_ai.response.id"] == first.id == completion.id
    assert "stop" in attributes["gen_ai.response.finish_reasons"]
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == str(CACHE_READ_TOKENS)
    assert "error.type" not in attributes


def test_streams_are_handed_back_as_they_were_and_recorded_when_they_end(sdk, ch, standin):
    instrument_openai(capture_response=True)  # every client, this time, and the answers' text too
    sync = client(standin)
    usage = {"include_usage": True}

    stream = sync.chat.completions.create(model="gpt-4.1", messages=user("stream raw"), stream=True, stream_options=usage)
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)
    with sync.chat.completions.stream(model="gpt-4.1", messages=user("stream helper"), stream_options=usage) as helper:
        final = helper.get_final_completion()
    with sync.chat.completions.create(model="gpt-4.1", messages=user("no usage asked"), stream=True) as bare:
        bare_chunks = [chunk for chunk in bare]

    async def async_stream():
        asynchronous = client(standin, openai.AsyncOpenAI)
        stream = await asynchronous.chat.completions.create(model="gpt-4.1-mini", messages=user("async stream"),
                                                            stream=True, stream_options=usage)
        async with stream:
            return [chunk async for chunk in stream]

    async_chunks = asyncio.run(async_stream())
    assert aitrail.flush()

    raw_answer, helper_answer, bare_answer, async_answer = standin.answers
    assert [chunk.model_dump(mode="json", exclude_unset=True) for chunk in chunks] == raw_answer.sent
    assert [chunk.model_dump(mode="json", exclude_unset=True) for chunk in bare_chunks] == bare_answer.sent
    assert [chunk.model_dump(mode="json", exclude_unset=True) for chunk in async_chunks] == async_answer.sent
    assert "stream_options" not in standin.requests[2]  # aitrail never changes the request
    assert final.choices[0].message.content == helper_answer.text
    assert final.usage.completion_tokens == helper_answer.output_tokens

    rows = generations(ch)
    for prompt, answer in [("stream raw", raw_answer), ("stream helper", helper_answer), ("async stream", async_answer)]:
        assert_row(rows[prompt], answer)
        attributes = span_attributes(ch, prompt)
        assert attributes["gen_ai.response.id"] == answer.id
        assert attributes["aitrail.response.text"] == answer.text  # gathered from the chunks
    assert_row(rows["no usage asked"], bare_answer, tokens=False)  # the API reported none


def test_failed_calls_are_errors_and_raise_unchanged(sdk, ch, standin):
    sync = instrument_openai(client(standin))
    with pytest.raises(openai.RateLimitError) as rate_limited:
        sync.chat.completions.create(model="fail-429", messages=user("too many"))
    assert rate_limited.value.status_code == 429 and rate_limited.value.code == "rate_limit_exceeded"

    async def async_failure():
        asynchronous = instrument_openai(client(standin, openai.AsyncOpenAI))
        await asynchronous.chat.completions.create(model="fail-500", messages=user("server down"))

    with pytest.raises(openai.InternalServerError) as server_error:
        asyncio.run(async_failure())
    assert server_error.value.status_code == 500

    received = []
    with pytest.raises(openai.APIError) as midstream:
        for chunk in sync.chat.completions.create(model="fail-midstream", messages=user("cut short"), stream=True):
            received.append(chunk)
    assert midstream.value.message == "The server had an error" and len(received) == 2
    assert aitrail.flush()

    rows = generations(ch)
    assert {prompt: row["status"] for prompt, row in rows.items()} == {
        "too many": "Error", "server down": "Error", "cut short": "Error"}
    assert span_attributes(ch, "too many")["error.type"] == "RateLimitError"
    assert span_attributes(ch, "server down")["error.type"] == "InternalServerError"
    assert span_attributes(ch, "cut short")["error.type"] == "APIError"
    partial, = standin.answers
    assert rows["cut short"]["model"] == partial.model  # the chunks before the failure told it


def test_global_instrumentation_is_idempotent_and_undone(sdk, ch, standin):
    from openai.resources.chat.completions import AsyncCompletions, Completions

    originals = vars(Completions)["create"], vars(AsyncCompletions)["create"]
    before = client(standin)
    instrument_openai()
    instrument_openai(assistant="twice")
    after = instrument_openai(client(standin))
    before.chat.completions.create(model="gpt-4.1", messages=user("from before"))
    after.chat.completions.create(model="gpt-4.1", messages=user("from after"))
    uninstrument_openai()
    assert (vars(Completions)["create"], vars(AsyncCompletions)["create"]) == originals
    after.chat.completions.create(model="gpt-4.1", messages=user("untracked"))
    assert aitrail.flush()

    rows = generations(ch)
    assert set(rows) == {"from before", "from after"}
    assert {row["assistant"] for row in rows.values()} == {"twice"}
    assert len(standin.answers) == 3


def test_a_failure_inside_aitrail_never_breaks_the_call(sdk, ch, standin, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("aitrail bug")

    sync = instrument_openai(client(standin))
    monkeypatch.setattr("aitrail.sdk.instrument.call.track", broken)
    completion = sync.chat.completions.create(model="gpt-4.1", messages=user("no tracking"))
    chunks = list(sync.chat.completions.create(model="gpt-4.1", messages=user("no tracking either"), stream=True))
    assert aitrail.flush()

    plain, streamed = standin.answers
    assert completion.model_dump(mode="json", exclude_unset=True) == plain.sent
    assert [chunk.model_dump(mode="json", exclude_unset=True) for chunk in chunks] == streamed.sent
    assert generations(ch) == {}
