"""The bench's naive baseline and its meter on tiny inputs: correct, and counted the way the report says."""

from __future__ import annotations

import boto3
import pytest

from bench import capacity, counting
from bench.emulator import ACCOUNT_ID, ENVIRONMENT, REGION, TABLE, emulated_table
from bench.generator import SyntheticSend
from bench.runs import naive_handler, ours_handler, run_ingest
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
    run = run_ingest("naive", send, send.specs, indexes, lambda: truth, naive_handler)

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
    # The counter moves exactly when a status does; each update writes the message item once.
    assert 0 < len(updates) < truth.distinct_events
    assert all(r.written == ((r.written[0][0], "#META"),) for r in updates)


def test_ours_through_the_same_harness_gives_the_model_answer_in_batched_requests(
    send: SyntheticSend,
) -> None:
    truth = send.truth(parse_record_body)
    indexes = list(range(send.recipients))
    run = run_ingest("ours", send, send.specs, indexes, lambda: truth, ours_handler)

    assert run.check.ok, run.check.problems()
    operations = {r.operation for r in run.requests if r.component == "core"}
    assert operations <= {"BatchGetItem", "TransactWriteItems", "BatchWriteItem", "Query"}
    # One BatchGetItem of recipients per batch, plus at most one of suppression records when it has bounces.
    batch_gets = sum(1 for r in run.requests if r.operation == "BatchGetItem")
    assert len(run.batches) <= batch_gets <= 2 * len(run.batches)
    transactions = [r for r in run.requests if r.operation == "TransactWriteItems"]
    assert all(r.write_units >= 2 * r.items_written for r in transactions)


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


def test_round_trips_count_overlapping_requests_once() -> None:
    def request(start: float) -> counting.Request:
        return counting.Request(
            "GetItem", 0, 1, 0, 0, 0.5, (), 1, (start, start + 0.005), 0, 0, False, "core"
        )

    sequential = [request(0.0), request(0.01), request(0.02)]
    concurrent = [request(0.0), request(0.0001), request(0.0002), request(0.01)]
    assert counting.round_trips(sequential) == pytest.approx(3)
    assert counting.round_trips(concurrent) == pytest.approx(2, abs=0.05)
