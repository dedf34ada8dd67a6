"""``aitrail.collector.imports.deliver``: records reach the typed tables with no collector running (through the
collector's own pipeline in process), through a running collector that owns the data directory (never failing on
its lock), and through one that requires tokens (the tenant is the token's, whatever the payload says)."""

from __future__ import annotations

import pytest

from aitrail.collector.tokens import create_token
from aitrail.collector.imports import deliver
from aitrail.collector.store import StoreLocation, open_store
from aitrail.errors import AccessDenied
from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import line_fingerprint
from aitrail.sdk.records import finding_record

LINE = "eval(request.args['q'])"


def record(line: int = 7):
    return finding_record(source="semgrep", rule="eval", severity="high", message="eval of input", repository="r",
                          commit="a" * 40, file_path="web.py", line_start=line, line_end=line,
                          fingerprints=[line_fingerprint(LINE)], line_text=LINE, resolved=True,
                          time_ns=1_700_000_000_000_000_000)


def findings(store) -> list[dict]:
    return store.rows("SELECT tenant, finding_id, line_start, line_fingerprints FROM aitrail.ai_findings FINAL "
                      "ORDER BY line_start")


def test_without_a_collector_records_go_to_the_store_and_a_second_import_adds_nothing(tmp_path):
    location = StoreLocation(data_dir=tmp_path / "store")
    first = deliver([record(7), record(9)], location)
    deliver([record(7), record(9)], location)
    assert (first.via, first.records) == ("store", 2)
    with open_store(location) as store:
        rows = findings(store)
        raw = store.rows("SELECT count() AS n FROM aitrail.otel_traces")[0]["n"]
    assert [(r["tenant"], r["line_start"]) for r in rows] == [("default", 7), ("default", 9)]
    assert rows[0]["line_fingerprints"] == [line_fingerprint(LINE)]
    assert int(raw) == 2  # the same body twice: one insert (deduplication token), not four spans


def test_when_a_collector_owns_the_store_records_go_through_it(collector, ch, tmp_path):
    done = deliver([record()], StoreLocation(data_dir=tmp_path / "store"))
    assert (done.via, done.target) == ("collector", collector.http_url)
    rows = list(ch.query("SELECT tenant, finding_id FROM aitrail.ai_findings FINAL").named_results())
    assert rows == [{"tenant": "default", "finding_id": record().id}]


def test_a_collector_requiring_tokens_stamps_the_tokens_tenant_and_refuses_without_one(make_collector, tmp_path):
    tokens = tmp_path / "tokens.toml"
    secret, _ = create_token(tokens, "acme", None, ["ingest"])
    running = make_collector(tokens_file=tokens)
    location = StoreLocation(data_dir=tmp_path / "store")
    with pytest.raises(AccessDenied) as refused:
        deliver([record()], location)
    assert refused.value.status == 401 and "ingest" in str(refused.value)
    claimed = dict(resource_attributes={v.TENANT: "globex"})
    assert deliver([record()], location, token=secret, **claimed).via == "collector"
    assert running.wait_drained(10)
    rows = running.store.rows("SELECT tenant FROM aitrail.ai_findings FINAL")
    assert rows == [{"tenant": "acme"}]
