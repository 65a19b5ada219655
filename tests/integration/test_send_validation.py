"""POST /messages validation: every refused body is a 400 naming the field, and nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.apigw import json_body
from tests.conftest import TEST_TABLE
from tests.integration.test_send_support import (
    SendWorld,
    email_body,
    make_world,
    messages_of,
    recipients_body,
)
from tracker.dal.models import bind_table, table_schema
from tracker.models.send import MAX_BODY_BYTES, MAX_RECIPIENTS, MAX_SUBJECT_CHARS


@pytest.fixture(scope="module")
def validating_world() -> Iterator[SendWorld]:
    """One world for the many cases of this module (a refused body writes nothing)."""
    with mock_aws():
        bind_table(TEST_TABLE, region="us-east-1")
        boto3.client("dynamodb", region_name="us-east-1").create_table(**table_schema())
        yield make_world()


def big_text() -> str:
    return "x" * (MAX_BODY_BYTES + 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipients": []}, "recipients"),
        ({"recipients": [{"customer_id": "c1", "email": "not-an-address"}]}, "recipients[0].email"),
        ({"recipients": [{"customer_id": "c1", "email": "ann@exa mple.com"}]}, "recipients[0].email"),
        ({"recipients": [{"customer_id": "c1", "email": "jürgen@example.com"}]}, "recipients[0].email"),
        ({"recipients": [{"customer_id": "c1", "email": "Ann <ann@example.com>"}]}, "recipients[0].email"),
        ({"recipients": [{"customer_id": "c1", "email": f"{'a' * 65}@example.com"}]}, "recipients[0].email"),
        ({"recipients": [{"customer_id": "c#1", "email": "ann@example.com"}]}, "recipients[0].customer_id"),
        ({"recipients": [{"email": "ann@example.com"}]}, "recipients[0].customer_id"),
        ({"recipients": [{"customer_id": "c1\n", "email": "ann@example.com"}]}, "recipients[0].customer_id"),
        ({"recipients": recipients_body(MAX_RECIPIENTS + 1)}, "recipients"),
        ({"kind": "newsletter"}, "kind"),
        ({"kind": "invoice"}, "invoice_id"),
        ({"kind": "invoice", "invoice_id": "INV/1"}, "invoice_id"),
        ({"kind": "invoice", "invoice_id": "INV-1\n"}, "invoice_id"),
        ({"kind": "receipt"}, "payment_id"),
        ({"kind": "email", "payment_id": "PAY-1"}, "payment_id"),
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * (MAX_SUBJECT_CHARS + 1)}, "subject"),
        ({"subject": "Hi\r\nBcc: everyone@example.com"}, "subject"),
        *[
            ({"subject": f"Spring{control}term"}, "subject")
            for control in ("\x00", "\t", "\x0b", "\x0c", "\x7f", "\x85", "\u2028", "\u2029")
        ],
        *[
            (
                {
                    "recipients": [
                        {"customer_id": "c1", "email": "ann@example.com", "name": f"Ann{control}Lee"}
                    ]
                },
                "recipients[0].name",
            )
            for control in ("\x00", "\t", "\x85", "\u2028")
        ],
        ({"text": None, "html": None}, "text"),
        ({"text": big_text(), "html": None}, "text"),
        ({"text": None, "html": big_text()}, "html"),
        ({"text": "x" * (MAX_BODY_BYTES // 2 + 1), "html": "y" * (MAX_BODY_BYTES // 2 + 1)}, "text"),
        ({"tenant_id": "tenant-b"}, "tenant_id"),
    ],
)
def test_invalid_bodies_are_400s_naming_the_field(
    validating_world: SendWorld, change: dict[str, Any], field: str
) -> None:
    response = validating_world.post(email_body(1, **change))
    assert response["statusCode"] == 400, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == field, error
    assert error["message"].startswith(f"{field}:")
    assert messages_of("tenant-a") == []


def test_the_unicode_and_ascii_forms_of_one_address_are_a_duplicate(validating_world: SendWorld) -> None:
    recipients = recipients_body(2)
    recipients[0]["email"] = "kim@xn--bcher-kva.ch"
    recipients[1]["email"] = "Kim@Bücher.ch"
    response = validating_world.post(email_body(recipients=recipients))
    assert response["statusCode"] == 400, response["body"]
    assert json_body(response)["error"]["field"] == "recipients[1].email"
    assert messages_of("tenant-a") == []


def test_a_duplicated_address_is_a_400_naming_the_second_one(validating_world: SendWorld) -> None:
    recipients = recipients_body(3)
    recipients[2]["email"] = "PERSON0@example.com"
    response = validating_world.post(email_body(recipients=recipients))
    assert response["statusCode"] == 400
    error = json_body(response)["error"]
    assert error["field"] == "recipients[2].email"
    assert "recipients[0].email" in error["message"]
    assert messages_of("tenant-a") == []


@pytest.mark.parametrize("body", ["not json", "[]", ""])
def test_a_body_that_is_not_a_json_object_is_a_400(validating_world: SendWorld, body: str) -> None:
    response = validating_world.request("POST", "/messages", body=body)
    assert response["statusCode"] == 400, response["body"]
    assert json_body(response)["error"]["code"] == "invalid_request"


def test_an_unusable_idempotency_key_is_a_400(validating_world: SendWorld) -> None:
    response = validating_world.post(email_body(1), key="k" * 256)
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["field"].lower() == "idempotency-key"
