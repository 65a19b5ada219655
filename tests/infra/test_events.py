"""Events out in the template (infra/events.py): the bus with its archive and schema, the events
function on its own mapping of the table's stream, the webhook delivery role and dead-letter
queue with its consumer, and the send function's permissions on the per-tenant resources, scoped
by name prefix."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from infra.events import registry_schema
from tests.infra.conftest import Synthesized
from tests.infra.helpers import as_list, function_by_handler, ref_id, role_statements
from tracker import constants as c

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def joined(value: Any) -> str:
    """A Fn::Join of strings and references, as text (references as their logical ids)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(joined(part) for part in parts)
    if "Ref" in value:
        return "{" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "{" + ".".join(value["Fn::GetAtt"]) + "}"
    return json.dumps(value)


def test_the_bus_has_an_archive_of_every_status_event_and_a_registered_schema(synth: Synthesized) -> None:
    (bus,) = synth.resources("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == c.EVENT_BUS_NAME
    (archive,) = synth.resources("AWS::Events::Archive").values()
    assert archive["Properties"]["EventPattern"] == {"source": [c.EVENT_SOURCE]}
    assert archive["Properties"]["RetentionDays"] == 90
    (schema,) = synth.resources("AWS::EventSchemas::Schema").values()
    assert schema["Properties"]["Type"] == "JSONSchemaDraft4"
    content = json.loads(schema["Properties"]["Content"])
    jsonschema.Draft4Validator.check_schema(content)
    assert content == registry_schema()
    assert synth.resources("AWS::EventSchemas::Registry")


def test_the_events_function_reads_the_stream_on_its_own_mapping_and_may_put_on_the_bus(
    synth: Synthesized,
) -> None:
    function_id, function = function_by_handler(synth, c.EVENTS_HANDLER)
    table_id = synth.logical_id(synth.stack.storage.table)
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is False
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert len(mapping["FilterCriteria"]["Filters"]) == 2  # recipient items only
    bus_id = synth.logical_id(synth.stack.events_out.bus)
    statements = role_statements(synth, function)
    puts = [s for s in statements if "events:PutEvents" in as_list(s["Action"])]
    assert [ref_id(s["Resource"]) for s in puts] == [bus_id]
    assert not any(
        a.startswith("dynamodb:")
        and "Stream" not in a
        and a not in {"dynamodb:GetRecords", "dynamodb:GetShardIterator"}
        for s in statements
        for a in as_list(s["Action"])
    )
    env = function["Properties"]["Environment"]["Variables"]
    assert env[c.ENV_EVENT_BUS_NAME] == {"Ref": bus_id}


def test_the_send_function_manages_only_prefixed_connections_destinations_rules_and_secrets(
    synth: Synthesized,
) -> None:
    _, function = function_by_handler(synth, c.SEND_API_HANDLER)
    statements = {s.get("Sid"): s for s in role_statements(synth, function)}
    prefix = c.WEBHOOK_RESOURCE_PREFIX
    expected = {
        "WebhookConnections": (":connection/" + prefix + "*", "events:CreateConnection"),
        "WebhookDestinations": (":api-destination/" + prefix + "*", "events:CreateApiDestination"),
        "WebhookRules": ("/" + prefix + "*", "events:PutTargets"),
        "WebhookConnectionSecrets": (
            ":secret:events!connection/" + prefix + "*",
            "secretsmanager:CreateSecret",
        ),
    }
    for sid, (suffix, action) in expected.items():
        statement = statements[sid]
        assert action in as_list(statement["Action"]), sid
        (resource,) = as_list(statement["Resource"])
        assert joined(resource).endswith(suffix), (sid, joined(resource))
        assert "*" not in joined(resource).removesuffix("*"), sid
    rule = joined(as_list(statements["WebhookRules"]["Resource"])[0])
    assert f":rule/{c.EVENT_BUS_NAME}/" in rule
    pass_role = statements["WebhookDeliveryRole"]
    assert pass_role["Action"] == "iam:PassRole"
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}}
    env = function["Properties"]["Environment"]["Variables"]
    for name in (c.ENV_EVENT_BUS_NAME, c.ENV_WEBHOOK_PREFIX, c.ENV_WEBHOOK_ROLE_ARN, c.ENV_WEBHOOK_DLQ_ARN):
        assert name in env, name
    # Local mode's allowance of http://127.0.0.1 targets is never set by the stack.
    for resource in synth.resources("AWS::Lambda::Function").values():
        assert c.ENV_WEBHOOK_ALLOW_LOCAL not in resource["Properties"].get("Environment", {}).get(
            "Variables", {}
        )


def test_eventbridge_may_invoke_only_prefixed_destinations_and_dead_letter_only_for_prefixed_rules(
    synth: Synthesized,
) -> None:
    role_id = synth.logical_id(synth.stack.events_out.delivery_role)
    role = synth.json["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "events.amazonaws.com"
    }
    policies = [
        p
        for p in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    (statement,) = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert statement["Action"] == "events:InvokeApiDestination"
    assert joined(statement["Resource"]).endswith(f":api-destination/{c.WEBHOOK_RESOURCE_PREFIX}*")

    dlq_id = synth.logical_id(synth.stack.events_out.dead_letter_queue)
    queue = synth.json["Resources"][dlq_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    policies = [
        p
        for p in synth.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": dlq_id} in p["Properties"]["Queues"]
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (send,) = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert send["Action"] == "sqs:SendMessage"
    assert joined(send["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(f"/{c.WEBHOOK_RESOURCE_PREFIX}*")
    consumer_id, _ = function_by_handler(synth, c.WEBHOOK_FAILURES_HANDLER)
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": consumer_id}
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}


def test_event_put_failures_and_the_webhook_dlq_are_alarmed(synth: Synthesized) -> None:
    alarm_ids = {alarm.node.id for alarm in synth.stack.observability.alarms}
    assert {
        "EventPutFailures",
        "EventsFailedBatches",
        "WebhookDeliveryFailures",
        "WebhookDlqOldestMessage",
    } <= alarm_ids
