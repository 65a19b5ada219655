"""The bench's two designs (ours with its projector, the naive baseline) and its meter on tiny inputs:
correct, and counted the way the report says."""

from __future__ import annotations

import boto3
import pytest

from bench import capacity, counting
from bench.emulator import ACCOUNT_ID, ENVIRONMENT, REGION, TABLE, emulated_table
from bench.generator import SyntheticSend
from bench.hot import item_kind
from bench.reads import page_rows
from bench.runs import NAIVE, OURS, run_ingest
from tracker.models.ses import parse_record_body


@pytest.fixture(autouse=True)
def bench_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def send() -> SyntheticSend:
    return SyntheticSend(30, seed=3)


def test_the_naive_baseline_gives_the_model_answer_with_one_request_per_step(send: SyntheticSend) -> None:
    truth = send.truth(parse_record_body)
    indexes = list(range(send.recipients))
    run = run_ingest(NAIVE, send, send.specs, indexes, lambda: truth)

    assert run.check.ok, run.check.problems()
    assert run.records == len(send.specs)
    requests = run.requests
    gets = [r for r in requests if r.operation == "GetItem"]
    puts = [r for r in requests if r.operation == "PutItem"]
    updates = [r for r in requests if r.operation == "UpdateItem"]
    assert {r.operation for r in requests} == {"GetItem", "PutItem", "UpdateItem"}
    # One read per event; a recipient write and a log entry per event that is not a duplicate.
    assert len(gets) == len(send.specs)
    assert len(puts) == 2 * truth.distinct_events
    assert sum(1 for r in puts if item_kind(r.written[0]) == "event log entry") == truth.distinct_events
    # The counter moves exactly when a tally does; each update writes the message item once.
    assert 0 < len(updates) < truth.distinct_events
    assert all(r.written == ((r.written[0][0], "#META"),) for r in updates)
    # Its indexes project every attribute: each recipient write rewrites its index entries.
    recipient_puts = [r for r in puts if item_kind(r.written[0]) == "recipient"]
    assert all(r.index_write_units >= 1 for r in recipient_puts)


def test_ours_writes_each_changed_recipient_once_and_the_projector_counts_it(send: SyntheticSend) -> None:
    truth = send.truth(parse_record_body)
    indexes = list(range(send.recipients))
    run = run_ingest(OURS, send, send.specs, indexes, lambda: truth)

    assert run.check.ok, run.check.problems()
    assert run.projector_batches, "the projector ran on the table's stream"
    ingest = {r.operation for r in run.ingest_requests}
    assert ingest <= {"BatchGetItem", "PutItem"}
    # One BatchGetItem of recipients per batch, one PutItem per changed recipient per batch.
    assert sum(1 for r in run.ingest_requests if r.operation == "BatchGetItem") == len(run.batches)
    for batch in run.batches:
        written = [key for r in batch.requests for key in r.written]
        assert len(written) == len(set(written))
        assert all(item_kind(key) == "recipient" for key in written)
    # KEYS_ONLY/INCLUDE indexes: no recipient update moves an index key, so none writes an entry;
    # only the message item enters (and later leaves or moves in) the attention queue, per message.
    index_writers = [r for r in run.requests if r.index_write_units]
    assert all(item_kind(key) == "message item (counters)" for r in index_writers for key in r.written)
    assert sum(r.index_write_units for r in run.requests) <= 4
    # The projector writes the message item (counts), the statistics hour items and suppression
    # items (evidence), no more.
    kinds = {item_kind(key) for r in run.projector_requests for key in r.written}
    assert {"message item (counters)", "statistics hour item"} <= kinds
    assert kinds <= {"message item (counters)", "statistics hour item", "suppression item (evidence)"}
    assert {r.operation for r in run.projector_requests} == {"UpdateItem"}
    assert run.recipient_sizes
    assert max(run.recipient_sizes) < 2048


def test_the_meter_counts_items_and_capacity_by_dynamodbs_rules() -> None:
    meter = counting.Meter(counting.Backend(ACCOUNT_ID, REGION))
    with emulated_table(), meter.installed():
        client = boto3.client("dynamodb", region_name=REGION)
        big = {"pk": {"S": "p"}, "sk": {"S": "a"}, "blob": {"S": "x" * 1500}}
        client.put_item(TableName=TABLE, Item=big)
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "p"}, "sk": {"S": "b"}}}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {
                            "pk": {"S": "p"},
                            "sk": {"S": "c"},
                            "gsi1pk": {"S": "g"},
                            "gsi1sk": {"S": "h"},
                        },
                    }
                },
            ]
        )
        client.batch_get_item(
            RequestItems={TABLE: {"Keys": [{"pk": {"S": "p"}, "sk": {"S": s}} for s in ("a", "b", "zz")]}}
        )
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            ConsistentRead=True,
        )
    put, transaction, batch_get, query = meter.records
    assert (put.operation, put.items_written, put.write_units, put.index_write_units) == (
        "PutItem",
        1,
        2.0,
        0.0,
    )
    assert put.written == (("p", "a"),)
    # Two 1 KB items in a transaction: 2 units each; the one with gsi1 keys also writes that index.
    assert (transaction.items_written, transaction.write_units, transaction.index_write_units) == (
        2,
        4.0,
        1.0,
    )
    # Eventually consistent BatchGetItem: half a unit per item, a miss included.
    assert (batch_get.items_read, batch_get.read_units) == (3, 1.5)
    # A consistent Query of ~1.6 KB in all: one unit.
    assert (query.items_read, query.read_units) == (3, 1.0)
    tally = counting.Tally.of(meter.records)
    assert (tally.write_requests, tally.read_requests, tally.items_written) == (2, 2, 3)


def test_item_sizes_follow_the_published_rules() -> None:
    assert capacity.item_size({"name": {"S": "héllo"}}) == 4 + 6
    assert capacity.item_size({"n": {"N": "12345"}}) == 1 + 4  # 3 bytes for 5 digits + 1
    assert capacity.item_size({"n": {"N": "1000"}}) == 1 + 2  # trailing zeros trimmed
    assert capacity.item_size({"ok": {"BOOL": True}, "nil": {"NULL": True}}) == 2 + 1 + 3 + 1
    assert capacity.item_size({"ss": {"SS": ["ab", "cde"]}}) == 2 + 5
    assert capacity.item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1 + 1
    assert capacity.write_units(0, 1024, transactional=False) == 1
    assert capacity.write_units(1500, 900, transactional=True) == 4
    assert capacity.read_units(4097, consistent=False) == 1.0
    assert capacity.read_units(100, consistent=True) == 1.0


def test_round_trips_count_a_thread_pool_as_its_busiest_thread() -> None:
    def request(thread: str) -> counting.Request:
        return counting.Request("GetItem", 0, 1, 0, 0, 0.5, (), 1, None, 0, 0, False, "core", thread)

    sequential = [request("MainThread")] * 3
    pooled = [
        request("MainThread"),
        *[request(f"ThreadPoolExecutor-4_{n}") for n in (0, 0, 0, 1, 2)],
        *[request(f"ThreadPoolExecutor-5_{n}") for n in (0, 1)],
    ]
    assert counting.round_trips(sequential) == 3
    assert counting.round_trips(pooled) == 1 + 3 + 1


def test_index_entries_are_written_only_when_their_key_or_projected_attributes_change() -> None:
    keys_only = capacity.IndexSchema("gsi2pk", "gsi2sk", "KEYS_ONLY")
    include = capacity.IndexSchema("gsi1pk", "gsi1sk", "INCLUDE", ("kind",))
    everything = capacity.IndexSchema("gsi3pk", "gsi3sk", "ALL")
    indexes = (keys_only, include, everything)
    base = {
        "pk": {"S": "p"},
        "sk": {"S": "R#1"},
        "gsi1pk": {"S": "c"},
        "gsi1sk": {"S": "t"},
        "gsi2pk": {"S": "SES#1"},
        "gsi2sk": {"S": "R"},
        "gsi3pk": {"S": "inv"},
        "gsi3sk": {"S": "d"},
        "kind": {"S": "email"},
        "facts": {"S": "x" * 900},
    }
    opened = {**base, "facts": {"S": "y" * 950}}
    before, after = capacity.Image.of(base, indexes), capacity.Image.of(opened, indexes)
    # An open rewrites facts: only the ALL index writes, a 1 KB entry (~1,000 bytes + 100).
    assert capacity.index_write_units(before, after, changed=True) == 2.0
    # The KEYS_ONLY entry holds the keys alone: well under 1 KB.
    assert before.entries[0] is not None
    assert before.entries[0].size < 200
    moved = capacity.Image.of({**opened, "gsi2pk": {"S": "SES#2"}}, indexes)
    # A new lookup key: the KEYS_ONLY index deletes one entry and puts one (plus the ALL index).
    assert capacity.index_write_units(after, moved, changed=True) == 2.0 + 2.0
    retitled = capacity.Image.of({**base, "kind": {"S": "invoice"}}, indexes)
    assert capacity.index_write_units(before, retitled, changed=True) == 1.0 + 2.0
    assert capacity.index_write_units(before, before, changed=True) == 0.0
    assert capacity.index_write_units(before, after, changed=False) == 0.0


def test_an_invoice_log_page_counts_each_header_and_recipient_as_a_row() -> None:
    groups = {"items": [{"message_id": "m1", "recipients": [{}, {}]}, {"message_id": "m2", "recipients": []}]}
    assert page_rows(groups) == 4
    assert page_rows({"items": [{"message_id": "m1", "recipients": 7}, {"message_id": "m2"}]}) == 2
    assert page_rows({"items": []}) == 0
