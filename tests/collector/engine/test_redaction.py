"""Redaction in the engine: the prefilter misses no secret, the statement replaces exactly what redact() would.

The prefilter runs in chDB (``multiMatchAny``) on every text of the secret
corpus and on fuzzed text: wherever :func:`aitrail.sdk.redact.redact` changes a
value, the engine flags it. The pieces the statement substitutes, applied by
the engine, give redact()'s text byte for byte (non-ASCII text included). A
trace request holding the whole corpus, stored by the drain's statement,
keeps none of it, on the embedded engine and in front of a ClickHouse server
(the fault suite's HTTP stand-in, its flag scan on the client's own chDB).
"""

from __future__ import annotations

import random
import string
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from reference_traces import redact_request
from secret_corpus import NOT_SECRETS, ORDINARY_CODE, ORDINARY_TEXT, corpus

from aitrail.collector.engine import ingest, redaction, traces
from aitrail.collector.engine.schema import format_settings, spooled
from aitrail.collector.spool import Requests
from aitrail.collector.store import StoreLocation, open_store
from aitrail.collector.store.base import literal
from aitrail.sdk.redact import redact

SECRETS = corpus()


def _texts() -> list[str]:
    """The corpus (lines, bare values, in code and JSON), the texts that only look like secrets, and fuzz."""
    texts = [s.line for s in SECRETS] + [value for s in SECRETS for value in s.values]
    texts += [*NOT_SECRETS, ORDINARY_CODE, ORDINARY_TEXT, *ORDINARY_CODE.splitlines(), *ORDINARY_TEXT.splitlines()]
    texts += [f'{{"env": "{s.line}"}}' for s in SECRETS] + [f"héllo — 日本 {s.line} ✓" for s in SECRETS]
    rng = random.Random(4)
    alphabets = [string.ascii_letters + string.digits, string.printable, "0123456789abcdef", "abc xyz=:-_/\n\"'",
                 string.ascii_letters + string.digits + "+/_-=.:@ ", "äöü日本語€ \tkeyPASSwordtoken"]
    for _ in range(3000):
        alphabet = rng.choice(alphabets)
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 90)))
        if rng.random() < 0.5:  # a secret cut, mutated, cased, inside other text
            line = rng.choice(SECRETS).line
            start, end = sorted(rng.sample(range(len(line) + 1), 2))
            piece = line[start:end]
            if rng.random() < 0.3:
                piece = piece.swapcase()
            if piece and rng.random() < 0.3:
                at = rng.randrange(len(piece))
                piece = piece[:at] + rng.choice(alphabet) + piece[at + 1:]
            text = text[: len(text) // 2] + piece + text[len(text) // 2:]
        texts.append(text)
    return texts


def _flags(store: Any, texts: list[str]) -> list[bool]:
    """The prefilter's verdict on each text, computed by the engine."""
    store.command("CREATE TABLE aitrail.texts (n UInt32, text String) ENGINE = Memory")
    store.insert("texts", pa.table({"n": list(range(len(texts))), "text": texts}))
    rows = store.rows(f"SELECT n, {redaction.flagged('text')} AS flagged FROM aitrail.texts ORDER BY n")
    return [bool(row["flagged"]) for row in rows]


def test_the_prefilter_flags_every_text_redact_changes(store) -> None:  # noqa: ANN001
    texts = _texts()
    flags = _flags(store, texts)
    changed = [redact(text).count > 0 for text in texts]
    missed = [text for text, flag, change in zip(texts, flags, changed) if change and not flag]
    assert not missed
    assert sum(changed) > len(SECRETS)  # the corpus and the fuzz hold secrets
    plain = [ORDINARY_TEXT.splitlines()[0], "claude-sonnet-4-5", "src/payments/retry_policy.py", "3f786850e387"]
    assert not any(_flags_of(store, plain))  # and plain prose, names and paths are not flagged


def _flags_of(store: Any, texts: list[str]) -> list[bool]:
    store.command("DROP TABLE IF EXISTS aitrail.texts")
    return _flags(store, texts)


def _apply(store: Any, key: str, text: str, found: redaction.Replacements) -> str:
    """``text`` under ``key`` as the storing statement renders it with ``found``."""
    sql = f"{redaction.with_clause(found)}SELECT {redaction.wrap(literal(text), literal(key))} AS out"
    return store.rows(sql)[0]["out"]


def test_the_engine_replaces_exactly_what_redact_replaces(store) -> None:  # noqa: ANN001
    texts = [s.line for s in SECRETS] + [f"héllo — 日本 {s.line} ✓ {s.line}" for s in SECRETS[:10]]
    found = redaction.replacements((f"k{i}", text, 1) for i, text in enumerate(texts))
    assert found.count == sum(redact(text).count for text in texts)
    for i, text in enumerate(texts):
        assert _apply(store, f"k{i}", text, found) == redact(text).text
    assert _apply(store, "other", texts[0], found) == texts[0]  # keyed by the key too


def test_hex_digests_are_kept_under_their_names_only() -> None:
    (secret,) = [s.values[0] for s in SECRETS if s.name == "unlabelled hex secret"]
    found = redaction.replacements([("aitrail.prompt.hash", secret, 1), ("artifact.sha256", secret, 1),
                                    ("webhook.signing", secret, 2)])
    assert found.count == 2 and found.kinds == {"high_entropy": 2}
    assert len(found.pieces) == 1


def test_without_secrets_the_statement_is_exactly_the_plain_one() -> None:
    plain = traces.insert_sql("t", False)("src")
    assert traces.insert_sql("t", False, redaction.Replacements())("src") == plain
    assert "_redacted" not in plain and "multiMatchAny" not in plain
    found = redaction.replacements((f"k{i}", s.line, 1) for i, s in enumerate(SECRETS))
    redacted = traces.insert_sql("t", False, found)("src")
    assert redacted.startswith("INSERT INTO t") and "WITH map(" in redacted
    assert len(found.pieces) == len(SECRETS)
    assert not [s.name for s in SECRETS for value in s.values if value in redacted]  # pieces, never a value


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def secret_request() -> ExportTraceServiceRequest:
    """The whole corpus everywhere a trace holds text; beside it values that must stay."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(_kv("service.name", string_value="claude-code"))
    spans = resource_spans.scope_spans.add().spans
    for i, secret in enumerate(SECRETS):
        resource_spans.resource.attributes.add(key=f"r{i}").value.string_value = secret.line
        span = spans.add(name=f"s{i}", trace_id=(i + 1).to_bytes(16, "big"), span_id=(i + 1).to_bytes(8, "big"))
        span.attributes.extend([
            _kv("aitrail.prompt.text", string_value=f"please fix this:\n{secret.line}"),
            _kv("gen_ai.request.model", string_value="claude-sonnet-4-5"),
            _kv("tool.args", array_value=ArrayValue(values=[AnyValue(string_value=secret.line),
                                                            AnyValue(string_value="ls -la")])),
            _kv("tool.input", kvlist_value=KeyValueList(values=[_kv("command", string_value=secret.line),
                                                                _kv("cwd", string_value="/home/alice/app")])),
            _kv("aitrail.prompt.hash", string_value="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ])
        span.events.add(name="tool_call").attributes.append(_kv("input", string_value=secret.line))
        span.links.add(trace_id=b"\x07" * 16, span_id=b"\x08" * 8).attributes.append(
            _kv("why", string_value=secret.line))
    return request


def _expected_count(request: ExportTraceServiceRequest) -> int:
    """Secrets in every string value of the request, as the collector's Python redaction counted them."""
    return redact_request(ExportTraceServiceRequest.FromString(request.SerializeToString()))


def _store_and_read(store: Any, request: ExportTraceServiceRequest) -> tuple[str, dict[str, int]]:
    data = Requests(spooled(request.SerializeToString(), "acme", None), len(request.resource_spans[0].scope_spans[0].spans))
    kinds = ingest.insert(store, traces.ENTRIES[False], data, "redaction-test")
    rows = store.rows("SELECT * FROM aitrail.otel_traces ORDER BY SpanName")
    return "\0".join(_strings(rows)), kinds


def _strings(value: Any) -> list[str]:
    """Every string (map keys and values too) in rows read back."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for k, v in value.items() for text in (k, *_strings(v))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _assert_stored_clean(raw: str, kinds: dict[str, int], request: ExportTraceServiceRequest) -> None:
    leaked = [s.name for s in SECRETS for value in s.values if value in raw]
    assert not leaked
    assert raw.count("[REDACTED:") >= 5 * len(SECRETS)
    assert sum(kinds.values()) == _expected_count(request)
    assert "claude-sonnet-4-5" in raw and "please fix this:" in raw and "/home/alice/app" in raw
    assert "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" in raw  # a hash kept


def test_a_trace_request_stored_by_the_engine_holds_no_secret(store) -> None:  # noqa: ANN001
    request = secret_request()
    raw, kinds = _store_and_read(store, request)
    _assert_stored_clean(raw, kinds, request)
    again, _ = _store_and_read(store, request)  # the same batch again: the same rows, deduplicated
    assert again == raw


def test_a_trace_request_stored_through_a_server_stand_in_holds_no_secret(tmp_path: Path) -> None:
    """In front of a server the statement travels without the values; the flag scan runs on our own chDB."""
    sys.path.insert(0, str(Path(__file__).parents[2] / "fault"))
    from faultkit import chserver, free_port, wait_port

    port = free_port()
    server = chserver(tmp_path / "chserver.log", tmp_path / "ch", port).start()
    try:
        wait_port(port)
        with open_store(StoreLocation(clickhouse_url=f"http://127.0.0.1:{port}")) as remote:
            request = secret_request()
            raw, kinds = _store_and_read(remote, request)
            _assert_stored_clean(raw, kinds, request)
    finally:
        server.kill()


@pytest.mark.parametrize("deep", [False, True])
def test_the_flag_scan_reads_every_string_a_row_holds(store, deep: bool) -> None:  # noqa: ANN001
    """Strings in arrays and lists (nested as deep as the statement reads) are flagged under the right key."""
    secret = SECRETS[0].line
    nested = AnyValue(string_value=secret)
    for level in range(4 if deep else 1):
        nested = AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=f"k{level}", value=nested)])) if level % 2 \
            else AnyValue(array_value=ArrayValue(values=[nested]))
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(name="n", trace_id=b"\x01" * 16,
                                                                     span_id=b"\x02" * 8)
    span.attributes.append(KeyValue(key="outer", value=nested))
    flagged = redaction.rows(store.read_requests(lambda source: traces.flag_sql(source, deep),
                                                 traces.scan_structure(deep),
                                                 format_settings("traces", spooled=True),
                                                 spooled(request.SerializeToString(), "acme", None)))
    expected_key = "k1" if deep else "outer"  # the innermost list's key (array items take their parent's)
    assert flagged == [(0, expected_key, secret, 1)]


def test_a_batch_whose_replacements_do_not_fit_one_statement_is_stored_by_several(store, monkeypatch) -> None:  # noqa: ANN001
    """Every request's prompt holds distinct secrets: with room for a few per statement, the batch goes in runs
    of requests, nothing lost or doubled (a retry with the same token stores nothing again), nothing leaked."""
    monkeypatch.setattr(redaction, "STATEMENT_BUDGET", 2_000)
    requests = []
    for n in range(12):
        request = ExportTraceServiceRequest()
        spans = request.resource_spans.add().scope_spans.add().spans
        for i, secret in enumerate(SECRETS[n * 4 : n * 4 + 4]):
            span = spans.add(name=f"r{n}s{i}", trace_id=(n * 10 + i + 1).to_bytes(16, "big"), span_id=b"\x01" * 8)
            span.attributes.append(_kv("aitrail.prompt.text", string_value=f"please fix this:\n{secret.line}"))
        requests.append(request)
    data = b"".join(spooled(r.SerializeToString(), "acme", None) for r in requests)
    runs = traces.redactions(store, data)
    assert len(runs) > 2 and b"".join(part for part, _ in runs) == data
    assert all(len(redaction.with_clause(found)) <= 2_000 or part.count(b"acme") == 1 for part, found in runs)
    spans = sum(len(r.resource_spans[0].scope_spans[0].spans) for r in requests)
    for _ in range(2):
        kinds = ingest.insert(store, traces.ENTRIES[False], Requests(data, spans), "runs")
        names = [row["SpanName"] for row in store.rows("SELECT SpanName FROM aitrail.otel_traces")]
        assert sorted(names) == sorted(s.name for r in requests for s in r.resource_spans[0].scope_spans[0].spans)
    raw = "\0".join(_strings(store.rows("SELECT * FROM aitrail.otel_traces")))
    assert not [s.name for s in SECRETS[:48] for value in s.values if value in raw]
    assert sum(kinds.values()) == sum(_expected_count(r) for r in requests)
