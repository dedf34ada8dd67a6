"""The census a statement takes of a request's items: told in C when none is refused, the same as item by item."""

from __future__ import annotations

import random

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from aitrail.collector.engine import logs, metrics, traces

STATEMENTS = {"traces": traces.STATEMENT, "logs": logs.STATEMENT, **{f"metrics.{kind}": statement
                                                                     for kind, statement in metrics.STATEMENTS.items()}}


DEFECTS = {"trace_id": [b"", bytes(16), bytes(range(15)), bytes(range(17))],
           "span_id": [b"", bytes(8), bytes(range(7)), bytes(range(9))],
           "parent_span_id": [bytes(range(3)), bytes(range(16))]}
"""What an item's ids may be besides valid: each is refused by some rule (or, for a log record or an exemplar, an
empty id is none)."""


def _ids(rng: random.Random, item: object, defective: bool) -> None:
    """Valid ids, or (``defective``) one of them drawn from :data:`DEFECTS`."""
    item.trace_id, item.span_id = rng.randbytes(16), rng.randbytes(8)  # type: ignore[attr-defined]
    if defective:
        name = rng.choice([name for name in DEFECTS if hasattr(item, name)])
        setattr(item, name, rng.choice(DEFECTS[name]))


def _request(rng: random.Random, signal: str):  # noqa: ANN202
    """A request of a few items with valid ids, one of which (one time in two) has a defective one."""
    defective = rng.random() < 0.5
    if signal == "traces":
        request = ExportTraceServiceRequest()
        spans = request.resource_spans.add().scope_spans.add().spans
        items = [spans.add(name="s") for _ in range(rng.randrange(1, 6))]
        items += [span.links.add() for span in items if rng.random() < 0.2]
    elif signal == "logs":
        request = ExportLogsServiceRequest()
        records = request.resource_logs.add().scope_logs.add().log_records
        items = [records.add() for _ in range(rng.randrange(1, 6))]
    else:
        request = ExportMetricsServiceRequest()
        scope = request.resource_metrics.add().scope_metrics.add()
        items = []
        for _ in range(rng.randrange(1, 4)):
            kind = rng.choice(list(metrics.KINDS))
            for point in [getattr(scope.metrics.add(name="m"), kind).data_points.add() for _ in range(2)]:
                items += [point.exemplars.add() for _ in range(rng.choice([0, 1, 2]) if kind != "summary" else 0)]
    wrong = rng.randrange(len(items)) if items and defective else -1
    for at, item in enumerate(items):
        _ids(rng, item, at == wrong)
    return request


@pytest.mark.parametrize("name", list(STATEMENTS))
def test_the_census_counts_what_the_refusal_rule_refuses_item_by_item(name: str):
    statement = STATEMENTS[name]
    rng = random.Random(name)
    cleared = refused = 0
    for _ in range(400):
        request = _request(rng, name.split(".")[0])
        every = list(statement.items(request))
        expected: dict[str, int] = {}
        for item in every:
            reason = statement.refusal(item)
            if reason:
                expected[reason] = expected.get(reason, 0) + 1
        assert statement.census(request) == (len(every), expected)
        cleared += bool(every) and statement.clear(every)
        refused += bool(expected)
    assert cleared > 20 and (refused > 5 or name == "metrics.summary")
