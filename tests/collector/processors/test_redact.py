"""The collector redacts again: whatever a client sent, no secret is left anywhere in the request."""

from __future__ import annotations

import re

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from aitrail.collector.processors import GROUPS, IngestContext
from aitrail.collector.processors.redact import Redact
from aitrail.sdk.redact import redact

import secret_corpus  # tests/fixtures, on the path by tests/conftest.py

SECRETS = secret_corpus.corpus()


def _kv(key: str, value: object) -> KeyValue:
    kv = KeyValue(key=key)
    _set(kv.value, value)
    return kv


def _set(target: AnyValue, value: object) -> None:
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, list):
        for item in value:
            _set(target.array_value.values.add(), item)
    elif isinstance(value, dict):
        target.kvlist_value.values.extend(_kv(k, val) for k, val in value.items())


def _process(signal: str, request, processor: Redact | None = None) -> bool:  # noqa: ANN001
    """Redact ``request`` in place as the collector does, given the bytes it was parsed from (the attributes read
    from them first); the same request walked without its bytes must come out the same."""
    body = request.SerializeToString()
    walked = type(request).FromString(body)
    walk_changed = Redact().process(signal, walked, IngestContext())
    processor = processor or Redact()
    assert processor._clean_as_sent(signal, body) is not walk_changed  # exactly: no request walked for nothing
    changed = processor.process(signal, request, IngestContext(), body)
    assert changed == walk_changed and request == walked
    return changed


def _secret_lines() -> list[str]:
    return [secret.line for secret in SECRETS]


def _assert_clean(request, context: str) -> None:  # noqa: ANN001
    raw = request.SerializeToString()
    for secret in SECRETS:
        for value in secret.values:
            assert value.encode() not in raw, (context, secret.name)


def _traces() -> ExportTraceServiceRequest:
    lines = _secret_lines()
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend([_kv("service.name", "claude-code"), _kv("deploy.config", lines[0])])
    ss = rs.scope_spans.add()
    ss.scope.name = "aitrail"
    ss.scope.attributes.append(_kv("scope.note", lines[1]))
    for i, line in enumerate(lines):
        span = ss.spans.add(name=f"generation {i}")
        span.attributes.extend([
            _kv("aitrail.prompt.text", f"please fix this:\n{line}"),
            _kv("gen_ai.request.model", "claude-sonnet-4-5"),
            _kv("aitrail.code.lines_added", 3),
            _kv("tool.args", [line, "ls -la"]),
            _kv("tool.input", {"command": line, "cwd": "/home/alice/app"}),
            _kv("tool.mixed", [7, 2.5, True, line, {"inner": [1, line]}]),  # numbers first, text after
        ])
        span.events.add(name="tool_call").attributes.append(_kv("input", line))
        span.links.add().attributes.append(_kv("why", line))
    return request


def test_no_secret_is_left_in_a_trace_request():
    request = _traces()
    processor = Redact()
    _process("traces", request, processor)
    _assert_clean(request, "traces")
    assert processor.redacted >= 5 * len(SECRETS)
    rs = request.resource_spans[0]
    assert rs.resource.attributes[0].value.string_value == "claude-code"
    span = rs.scope_spans[0].spans[0]
    assert span.attributes[1].value.string_value == "claude-sonnet-4-5"
    assert span.attributes[2].value.int_value == 3
    assert span.attributes[0].value.string_value.startswith("please fix this:\n")
    assert "[REDACTED:" in span.attributes[0].value.string_value


def test_no_secret_is_left_in_a_log_request():
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.append(_kv("env", "OPENAI_API_KEY=" + SECRETS[0].values[0]))
    sl = rl.scope_logs.add()
    for line in _secret_lines():
        record = sl.log_records.add()
        record.body.string_value = f"user_prompt: {line}"
        record.attributes.append(_kv("prompt", line))
        structured = sl.log_records.add()
        _set(structured.body, {"event": "tool_result", "output": [line]})
    sl.log_records.add().attributes.append(_kv("event.name", "api_request"))  # no body at all
    _process("logs", request)
    _assert_clean(request, "logs")
    assert request.resource_logs[0].scope_logs[0].log_records[0].body.string_value.startswith("user_prompt: ")


def test_no_secret_is_left_in_a_metrics_request():
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    metric = rm.scope_metrics.add().metrics.add(name="claude_code.token.usage")
    for line in _secret_lines():
        point = metric.sum.data_points.add(as_int=1)
        point.attributes.append(_kv("command", line))
    _process("metrics", request)
    _assert_clean(request, "metrics")


def test_a_clean_request_comes_out_byte_for_byte_the_same():
    request = ExportTraceServiceRequest()
    ss = request.resource_spans.add().scope_spans.add()
    for i in range(500):
        span = ss.spans.add(name="generation")
        span.attributes.extend([
            _kv("aitrail.assistant", "claude-code"), _kv("gen_ai.request.model", "claude-sonnet-4-5-20250929"),
            _kv("code.file.path", f"src/payments/retry_policy_{i}.py"), _kv("session.id", f"session-{i}"),
            _kv("vcs.ref.head.revision", "3f786850e387550fdab836ed7e6dc881de23001b"),
            _kv("aitrail.prompt.text", "Add exponential backoff with jitter to the retry loop, keep the API."),
        ])
    before = request.SerializeToString()
    assert not _process("traces", request)
    assert request.SerializeToString() == before


def test_hashes_the_sdk_made_on_purpose_are_kept_but_not_a_key_under_another_name():
    digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(name="generation")
    span.attributes.extend([_kv("aitrail.prompt.hash", digest), _kv("artifact.sha256", digest),
                            _kv("webhook.signing_secret", digest)])
    _process("traces", request)
    values = [kv.value.string_value for kv in span.attributes]
    assert values == [digest, digest, "[REDACTED:high_entropy]"]


def test_a_hex_value_kept_as_a_digest_is_not_remembered_as_clean_for_other_names():
    """Under a digest's name a hex value is kept; the same value under any other name is still redacted."""
    (secret,) = [s.values[0] for s in SECRETS if s.name == "unlabelled hex secret"]
    processor = Redact()
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.attributes.extend([_kv("aitrail.prompt.hash", secret), _kv("webhook.signing", secret)])
    _process("traces", request, processor)
    assert span.attributes[0].value.string_value == secret
    assert secret not in span.attributes[1].value.string_value
    again = ExportTraceServiceRequest()
    later = again.resource_spans.add().scope_spans.add().spans.add()
    later.attributes.append(_kv("webhook.signing", secret))  # a later request, the same processor
    _process("traces", again, processor)
    assert secret not in later.attributes[0].value.string_value


def test_an_array_is_skipped_as_textless_only_when_every_item_is_a_number_or_a_bool():
    """The byte pattern that spares reading an array item by item (line fingerprints) matches exactly the arrays
    of ints, doubles and bools: over random arrays of every kind (extreme ints, NaN, empty items, strings, lists,
    bytes) and arrays carrying a field this protobuf does not know."""
    import random

    from aitrail.collector.processors.redact import _NO_TEXT

    rng = random.Random(15)
    numbers = [0, 1, -1, 127, 128, 2**63 - 1, -(2**63), 2**31, float("nan"), float("-inf"), 0.0, -0.0, True, False]
    others = ["", "x", "sk-" + "a" * 40, b"\x18\x01", [1, "x"], [], {"k": 1}, {"k": "v"}, None]
    matched = 0
    for _ in range(3000):
        value = AnyValue()
        kinds = [rng.random() < 0.85 for _ in range(rng.randrange(0, 25))]  # True: a number or a bool
        for number in kinds:
            item = value.array_value.values.add()
            drawn = rng.choice(numbers) if number else rng.choice(others)
            if isinstance(drawn, bytes):
                item.bytes_value = drawn
            elif drawn is not None:
                _set(item, drawn)
        serialized = value.array_value.SerializeToString()
        textless = all(item.WhichOneof("value") in ("int_value", "double_value", "bool_value")
                       for item in value.array_value.values)
        assert bool(_NO_TEXT.fullmatch(serialized)) == textless, serialized
        matched += textless
        # an unknown field inside an item (a newer protobuf's) is read item by item, whatever it holds
        unknown = serialized + b"\x0a\x04\x18\x01\x42\x00"
        assert not _NO_TEXT.fullmatch(unknown)
    assert 300 < matched < 2700  # both ways, many times
    # an item's length is read with its field: an int followed by a string in one item ("\x10\x01" as text,
    # which alone would look like a bool item) is not textless
    assert not _NO_TEXT.fullmatch(b"\x0a\x06\x18\x01\x0a\x02\x10\x01")
    assert _NO_TEXT.fullmatch(b"\x0a\x02\x18\x01\x0a\x02\x10\x01")


def test_a_secret_in_an_array_of_numbers_is_found_whatever_its_position():
    """The array check reads every item's kind: a string anywhere among numbers is read, and redacted."""
    secret = _secret_lines()[0]
    for at in (0, 5, 20):
        items: list[object] = list(range(21))
        items.insert(at, secret)
        request = ExportTraceServiceRequest()
        span = request.resource_spans.add().scope_spans.add().spans.add()
        span.attributes.append(_kv("aitrail.code.line_fingerprints", items))
        _process("traces", request)
        _assert_clean(request, f"position {at}")


def test_a_model_apis_own_ids_are_kept_under_an_ids_name_and_every_secret_still_goes():
    """Message, tool call and response ids (random by design) link an assistant's records: under an id's name
    they are kept whole, where the entropy layer took some for keys. Every secret of the corpus under the same
    names is still redacted, and such an id under another name is read as before."""
    ids = ["msg_01XFDUDYJgAACzvnptvVoYEL", "toolu_01A09q90qw90lq917835lq9", "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
           "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b", "call_Zx3Qp9LmN2vB7kR4tY8wE1aS",
           "req_011CRCmrU8nRi6x3FrqkQrd3", "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE"]
    names = ["gen_ai.response.id", "tool_use_id", "message-id"]
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.attributes.extend(_kv(name, value) for value in ids for name in names)
    _process("traces", request)
    assert [kv.value.string_value for kv in span.attributes] == [value for value in ids for _ in names]
    assert redact(ids[0]).count == 1  # what the entropy layer alone makes of it, under any other name
    other = ExportTraceServiceRequest()
    elsewhere = other.resource_spans.add().scope_spans.add().spans.add()
    elsewhere.attributes.append(_kv("note", ids[0]))
    _process("traces", other)
    assert elsewhere.attributes[0].value.string_value == "[REDACTED:high_entropy]"
    secrets = ExportTraceServiceRequest()
    carrier = secrets.resource_spans.add().scope_spans.add().spans.add()
    # every secret a neutral name loses, an id's name loses too (a hex value aside: a digest there, kept as before)
    values = [value for secret in SECRETS for value in secret.values if not re.fullmatch(r"[0-9a-fA-F]+", value)]
    carrier.attributes.extend(_kv(name, value) for value in values for name in ["note", *names])
    _process("traces", secrets)
    read = [kv.value.string_value for kv in carrier.attributes]
    groups = [read[i:i + 1 + len(names)] for i in range(0, len(read), 1 + len(names))]
    lost = [value for value, (neutral, *_) in zip(values, groups) if value not in neutral]
    assert len(lost) > 40 and all(value not in under_id for value, (neutral, *under_ids) in zip(values, groups)
                                  if value not in neutral for under_id in under_ids)
    lines = ExportTraceServiceRequest()
    lined = lines.resource_spans.add().scope_spans.add().spans.add()
    lined.attributes.extend(_kv(name, line) for line in _secret_lines() for name in names)
    _process("traces", lines)
    _assert_clean(lines, "secret lines under id names")


def _random_value(rng, depth: int = 0) -> object:  # noqa: ANN001
    """A value of any kind an emitter sends: the corpus's secrets and lines, clean text, digests and model API ids,
    numbers, and arrays and lists of them."""
    ids = ["chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "toolu_01A09q90qw90lq917835lq9", "msg_01XFDUDYJgAACzvnptvVoYEL"]
    pick = rng.randrange(12 if depth < 2 else 9)
    if pick == 0:
        return rng.choice(rng.choice(SECRETS).values)
    if pick == 1:
        return rng.choice(_secret_lines())
    if pick == 2:
        return rng.choice(["claude-sonnet-4-5", "src/app.py", "", "chat", "2026-12-05T12:00:00.123Z", "ls -la"])
    if pick == 3:
        return "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(rng.choice([7, 32, 40, 64])))
    if pick == 4:
        return rng.choice(ids)[: rng.choice([None, 12])]
    if pick in (5, 6):
        return rng.choice([0, 1, -1, 2**63 - 1, -(2**63), 6245, 1.5, float("nan"), True, False])
    if pick in (7, 8):
        return b"\x12\x03\x18\x05" if pick == 7 else "x" * 130 + rng.choice(SECRETS).values[0]
    if pick in (9, 10):
        return [_random_value(rng, depth + 1) if rng.random() < 0.3 else rng.randrange(2**40) for _ in range(rng.randrange(6))]
    return {rng.choice(["k", "id", "token"]): _random_value(rng, depth + 1) for _ in range(rng.randrange(3))}


def _random_attributes(rng, attributes) -> None:  # noqa: ANN001
    names = ["note", "gen_ai.response.id", "tool_use_id", "aitrail.prompt.hash", "vcs.ref.head.revision", "",
             "k" * 130 + ".id", "aitrail.code.line_fingerprints", "gen_ai.usage.input_tokens"]
    for _ in range(rng.randrange(5)):
        kv = attributes.add(key=rng.choice(names))
        value = _random_value(rng)
        if isinstance(value, bytes):
            kv.value.bytes_value = value
        else:
            _set(kv.value, value)


def _random_request(rng, signal: str):  # noqa: ANN001, ANN202
    request = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest,
               "metrics": ExportMetricsServiceRequest}[signal]()
    groups, scopes = GROUPS[signal]
    group = getattr(request, groups).add()
    _random_attributes(rng, group.resource.attributes)
    scope = getattr(group, scopes).add()
    _random_attributes(rng, scope.scope.attributes)
    if signal == "traces":
        for _ in range(rng.randrange(4)):
            span = scope.spans.add(name="s")
            _random_attributes(rng, span.attributes)
            for part in [span.events.add(name="e") for _ in range(rng.randrange(2))] + [span.links.add()]:
                _random_attributes(rng, part.attributes)
    elif signal == "logs":
        for _ in range(rng.randrange(4)):
            record = scope.log_records.add()
            _random_attributes(rng, record.attributes)
            if rng.random() < 0.7:
                _set(record.body, _random_value(rng))
    else:
        gauge = scope.metrics.add(name="g").gauge.data_points.add(as_int=1)
        _random_attributes(rng, gauge.attributes)
        _random_attributes(rng, gauge.exemplars.add().filtered_attributes)
        _random_attributes(rng, scope.metrics.add(name="h").histogram.data_points.add().attributes)
        _random_attributes(rng, scope.metrics.add(name="s").summary.data_points.add().attributes)
    return request


def test_a_request_told_clean_by_its_attributes_bytes_is_what_the_walk_leaves_unchanged():
    """Over 600 random requests of every signal through one processor (its memory of clean attributes filling
    up and starting over): a request's bytes tell it clean exactly when the walk finds no secret in it, and a
    request with one comes out as the walk redacts it (``_process`` compares every request both ways)."""
    import random

    rng = random.Random(1505)
    processor = Redact()
    processor.CLEAN_CACHE_SIZE = 64  # so the memory starts over many times
    outcomes = {True: 0, False: 0}
    for i in range(600):
        signal = ("traces", "logs", "metrics")[i % 3]
        outcomes[_process(signal, _random_request(rng, signal), processor)] += 1
    assert outcomes[True] > 200 and outcomes[False] > 50, outcomes


def test_an_attribute_is_clean_by_its_bytes_only_when_its_value_is_read_exactly():
    """Numbers, arrays of numbers, and ids under an id's name are told clean by their bytes; a string is not
    (whatever it ends with), nor anything with an unknown or a repeated field, a long key or no key: those are read
    as the walk reads them."""
    from aitrail.collector.processors.redact import _clean_bytes

    def data(key: str, value: object, extra: bytes = b"") -> bytes:
        return _kv(key, value).SerializeToString() + extra

    for value in (0, -1, 2**63 - 1, 1.5, float("nan"), True, False, [1, 2.5, True], list(range(2**20, 2**20 + 40))):
        assert _clean_bytes(data("gen_ai.usage.input_tokens", value)), value
        assert _clean_bytes(data("note", value)), value
    ids = ["chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "3f786850e387550fdab836ed7e6dc881de23001b"]
    for value in ids:
        assert _clean_bytes(data("gen_ai.response.id", value)) and _clean_bytes(data("vcs.ref.head.revision", value))
        assert not _clean_bytes(data("note", value))  # an id is clean under an id's name only
        assert not _clean_bytes(data("k" * 130 + ".id", value))  # a key of 128 bytes or more: parsed
    assert not _clean_bytes(data("gen_ai.response.id", "a" * 130))  # a string length past one byte: parsed
    assert not _clean_bytes(data("note", "sk-ant-api03-" + "x" * 40 + "\x12\x03\x18\x05"))
    assert not _clean_bytes(data("note", [1, "x"])) and not _clean_bytes(data("note", {"k": 1}))
    assert not _clean_bytes(data("note", 5, extra=b"\x1a\x00"))  # an unknown field
    assert not _clean_bytes(data("note", 5, extra=b"\x12\x02\x0a\x00"))  # a second value: the last one is read
    assert not _clean_bytes(data("", 5)) and not _clean_bytes(b"") and not _clean_bytes(b"\x0a")
    long_array = data("aitrail.code.line_fingerprints", list(range(2**40, 2**40 + 30)))
    assert _clean_bytes(long_array)
    assert not _clean_bytes(long_array[:-1]) and not _clean_bytes(long_array + b"\x0a\x02\x18\x01")
