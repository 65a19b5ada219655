"""The SQS partial batch response the handlers build themselves, checked against Powertools' batch
utility (which they used to call): the same response for the same outcomes, the same error for an
event without records."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import UnexpectedBatchTypeError
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tracker.handlers.support import partial_batch_response, sqs_records


def event(message_ids: list[str]) -> dict[str, Any]:
    return {"Records": [{"messageId": m, "body": "{}", "attributes": {}} for m in message_ids]}


def powertools_response(sqs_event: dict[str, Any], failed: set[str]) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        if record.message_id in failed:
            raise RuntimeError("not applied")

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event=sqs_event, record_handler=record_handler, processor=processor))


@pytest.mark.parametrize("failed", [set(), {"b"}, {"a", "c"}, {"a", "b", "c"}])
def test_the_response_is_powertools_own(failed: set[str]) -> None:
    sqs_event = event(["a", "b", "c"])
    ours = partial_batch_response(r["messageId"] for r in sqs_records(sqs_event) if r["messageId"] in failed)
    assert ours == powertools_response(sqs_event, failed)


@pytest.mark.parametrize("bad_event", [{}, {"Records": []}, {"Records": {"a": 1}}])
def test_an_event_without_records_is_refused_like_powertools_does(bad_event: dict[str, Any]) -> None:
    with pytest.raises(UnexpectedBatchTypeError):
        powertools_response(bad_event, set())
    with pytest.raises(UnexpectedBatchTypeError):
        sqs_records(bad_event)
