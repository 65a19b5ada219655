"""The projector's event source mapping: how it reads the table's stream (infra/projection.py),
its filter evaluated against the records the dal really writes, and its failure destination."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from local.streams import TableStream, lambda_record
from tests.factories import seed_message
from tests.infra.conftest import Synthesized
from tests.infra.helpers import as_list, function_by_handler, ref_id, role_statements
from tracker import constants as c
from tracker.dal import keys
from tracker.dal.models import RecipientItem
from tracker.dal.projection import recipient_change
from tracker.dal.quarantine import DynamoQuarantineStore

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

STREAM_READS = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}


def stream_mapping(synth: Synthesized) -> dict[str, Any]:
    table_id = synth.logical_id(synth.stack.storage.table)
    projector_id, _ = function_by_handler(synth, c.PROJECTOR_HANDLER)
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        and m["Properties"]["FunctionName"] == {"Ref": projector_id}
    ]
    return mapping


def test_the_projector_reads_the_tables_stream_in_order_with_partial_batch_responses(
    synth: Synthesized,
) -> None:
    projector_id, _ = function_by_handler(synth, c.PROJECTOR_HANDLER)
    mapping = stream_mapping(synth)
    assert mapping["FunctionName"] == {"Ref": projector_id}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # The handler reads the shard id that only tumbling-window invocations carry.
    assert mapping["TumblingWindowInSeconds"] == 900
    # The handler names the record to restart from: halving the batch would only re-deliver.
    assert mapping["BisectBatchOnFunctionError"] is False
    # Bounded, so a batch that keeps failing cannot hold its shard for the stream's 24 hours.
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10_000
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] < 24 * 3600
    # The defaults of projectorBatchSize, projectorBatchingWindowSeconds, projectorParallelizationFactor.
    assert (
        mapping["BatchSize"],
        mapping["MaximumBatchingWindowInSeconds"],
        mapping["ParallelizationFactor"],
    ) == (1000, 1, 1)


def test_given_up_batches_go_to_an_encrypted_queue_only_the_projector_may_send_to(
    synth: Synthesized,
) -> None:
    queue_id = synth.logical_id(synth.stack.projection.failure_queue)
    destination = stream_mapping(synth)["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": [queue_id, "Arn"]}
    queue = synth.resources("AWS::SQS::Queue")[queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    senders = [
        handler
        for handler in (c.INGEST_HANDLER, c.SENDER_HANDLER, c.PROJECTOR_HANDLER, c.SEND_API_HANDLER)
        if any(
            s["Resource"] == destination and "sqs:SendMessage" in as_list(s["Action"])
            for s in role_statements(synth, function_by_handler(synth, handler)[1])
        )
    ]
    assert senders == [c.PROJECTOR_HANDLER]


def test_only_the_projector_and_the_events_function_may_read_the_stream_and_only_this_tables(
    synth: Synthesized,
) -> None:
    stream = {"Fn::GetAtt": [synth.logical_id(synth.stack.storage.table), "StreamArn"]}
    for function_id, function in synth.resources("AWS::Lambda::Function").items():
        statements = role_statements(synth, function)
        reads = {
            a
            for s in statements
            for a in as_list(s["Action"])
            if a in STREAM_READS and s["Effect"] == "Allow"
        }
        if function["Properties"]["Handler"] in (c.PROJECTOR_HANDLER, c.EVENTS_HANDLER):
            assert reads == STREAM_READS
            on_stream = [s for s in statements if set(as_list(s["Action"])) & STREAM_READS]
            assert all(s["Resource"] == stream for s in on_stream), on_stream
        else:
            assert reads == set(), function_id


def test_the_mapping_follows_the_context(tmp_path: Path) -> None:
    from tests.infra.conftest import SENDER_ADDRESS, SES_IDENTITY, synthesize

    tuned = synthesize(
        tmp_path,
        {
            "senderAddress": SENDER_ADDRESS,
            "sesIdentity": SES_IDENTITY,
            c.CONTEXT_PROJECTOR_BATCH_SIZE: "250",
            c.CONTEXT_PROJECTOR_BATCHING_WINDOW_SECONDS: "5",
            c.CONTEXT_PROJECTOR_PARALLELIZATION_FACTOR: "4",
            c.CONTEXT_INGEST_MEMORY_MB: "3008",
            c.CONTEXT_INGEST_MAX_CONCURRENCY: "20",
            c.CONTEXT_INGEST_RESERVED_CONCURRENCY: "25",
        },
    )
    mapping = stream_mapping(tuned)
    assert (
        mapping["BatchSize"],
        mapping["MaximumBatchingWindowInSeconds"],
        mapping["ParallelizationFactor"],
    ) == (250, 5, 4)
    ingest_id, ingest = function_by_handler(tuned, c.INGEST_HANDLER)
    assert ingest["Properties"]["MemorySize"] == 3008
    assert ingest["Properties"]["ReservedConcurrentExecutions"] == 25
    (sqs_mapping,) = [
        m["Properties"]
        for m in tuned.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": ingest_id}
    ]
    assert sqs_mapping["ScalingConfig"] == {"MaximumConcurrency": 20}


def test_the_ingest_function_has_the_benchs_memory_and_concurrency_by_default(synth: Synthesized) -> None:
    """The bench's Lambda model holds the throughput goal at tracker.constants' values: the stack
    must deploy exactly those."""
    from bench import cost

    assert (cost.ingest_memory().value, cost.ingest_concurrency().value) == (
        c.INGEST_MEMORY_MB,
        c.INGEST_MAX_CONCURRENCY,
    )
    ingest_id, ingest = function_by_handler(synth, c.INGEST_HANDLER)
    assert ingest["Properties"]["MemorySize"] == c.INGEST_MEMORY_MB == 1769  # one full vCPU
    assert "ReservedConcurrentExecutions" not in ingest["Properties"]
    (sqs_mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": ingest_id}
    ]
    assert sqs_mapping["ScalingConfig"] == {"MaximumConcurrency": c.INGEST_MAX_CONCURRENCY}


# --- the filter, on the records the dal writes ------------------------------------------------------


def filter_patterns(synth: Synthesized) -> list[EventPattern]:
    filters = stream_mapping(synth)["FilterCriteria"]["Filters"]
    return [EventPattern.load(f["Pattern"]) for f in filters]


def passes(patterns: list[EventPattern], record: dict[str, Any]) -> bool:
    """Lambda delivers a record that matches any one of the mapping's filters."""
    return any(pattern.matches_event(record) for pattern in patterns)


@pytest.mark.usefixtures("table")
def test_the_filter_passes_exactly_the_recipient_changes_the_projector_decodes(
    synth: Synthesized, table: str
) -> None:
    # Every kind of write the functions make: a message with its content and recipients (created,
    # then changed), a quarantined record, and a recipient removed.
    seed_message("tenant-a", "msg-1", recipients=3)
    DynamoQuarantineStore().put("sqs-1", json.dumps({"not": "an SES event"}), "unparseable", "test")
    removed = RecipientItem.get(keys.message_pk("tenant-a", "msg-1"), keys.recipient_sk("r2"))
    removed.status = "sent"
    removed.save()
    removed.delete()

    reader = TableStream(table)
    records = [lambda_record(r, reader.stream_arn) for _, batch in reader.batches() for r in batch]
    patterns = filter_patterns(synth)
    delivered = [r for r in records if passes(patterns, r)]
    decoded = [r for r in records if recipient_change(r, "shard") is not None]
    assert delivered == decoded
    # Three recipients created, one changed and removed; the message, content and quarantine
    # writes are filtered out.
    assert len(delivered) == 5
    assert {r["eventName"] for r in delivered} == {"INSERT", "MODIFY", "REMOVE"}
    assert len(records) > len(delivered)
    kept_out = [r for r in records if not passes(patterns, r)]
    assert all(
        not r["dynamodb"]["Keys"][c.TABLE_SORT_KEY]["S"].startswith(keys.RECIPIENT_SK_PREFIX)
        for r in kept_out
    )


def test_filters_are_mapping_filters_of_recipient_images(synth: Synthesized) -> None:
    from infra.projection import recipient_change_patterns

    patterns = [json.loads(f["Pattern"]) for f in stream_mapping(synth)["FilterCriteria"]["Filters"]]
    assert patterns == recipient_change_patterns()
    assert ref_id(stream_mapping(synth)["FunctionName"]) == function_by_handler(synth, c.PROJECTOR_HANDLER)[0]
