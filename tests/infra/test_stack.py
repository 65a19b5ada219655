"""The synthesized template, checked by value."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match

from infra import table_access
from tests.infra.conftest import FRONTEND_ORIGIN, SENDER_ADDRESS, SES_IDENTITY, Synthesized
from tests.infra.helpers import (
    actions_of,
    as_list,
    denies_insecure_transport,
    function_by_handler,
    ref_id,
    role_statements,
    ses_arn,
)
from tracker import constants as c
from tracker.dal.models import table_schema

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ALL_SES_EVENT_TYPES = {
    "send",
    "reject",
    "bounce",
    "complaint",
    "delivery",
    "deliveryDelay",
    "renderingFailure",
    "open",
    "click",
    "subscription",
}
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
REQUIRED = {"senderAddress": SENDER_ADDRESS, "sesIdentity": SES_IDENTITY}


# --- Lambda functions ------------------------------------------------------------------------------


def test_every_function_uses_the_latest_python_runtime_on_arm64(synth: Synthesized) -> None:
    from infra.functions import RUNTIME

    def version(runtime: lambda_.Runtime) -> tuple[int, ...]:
        return tuple(int(p) for p in runtime.name.removeprefix("python").split("."))

    pythons = [
        getattr(lambda_.Runtime, n) for n in dir(lambda_.Runtime) if re.fullmatch(r"PYTHON_\d+_\d+", n)
    ]
    latest = max(pythons, key=version)
    assert latest.name == RUNTIME.name
    functions = synth.resources("AWS::Lambda::Function")
    # ingest, projector, sender, read API, send API, Apple ranges refresher, events, webhook failures,
    # export worker
    assert len(functions) == 9
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == latest.name, logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert len(props["Layers"]) == 1, logical_id


def test_the_layer_targets_the_runtime_and_arm64(synth: Synthesized) -> None:
    from infra.functions import runtime_python_version
    from layers.build_layer import PYTHON_VERSION

    assert runtime_python_version() == PYTHON_VERSION
    (layer,) = synth.resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == [f"python{PYTHON_VERSION}"]


def test_function_code_asset_is_the_functions_folder_only(synth: Synthesized) -> None:
    import shutil

    from infra.function_code import FUNCTIONS_DIR
    from infra.functions import runtime_python_version
    from layers.build_layer import BUILD_DIR

    assert FUNCTIONS_DIR.name == "functions"
    # functions/ itself, or its copy with the runtime's byte-code (infra.function_code).
    version = runtime_python_version()
    expected = (
        FUNCTIONS_DIR if shutil.which(f"python{version}") is None else BUILD_DIR / f"functions-{version}"
    )
    paths = {
        f["Metadata"]["aws:asset:path"]
        for f in synth.resources("AWS::Lambda::Function").values()
        if "aws:asset:path" in f.get("Metadata", {})
    }
    assert paths == {str(expected)}


def test_functions_share_the_powertools_environment_and_log_groups_with_retention(synth: Synthesized) -> None:
    log_groups = synth.resources("AWS::Logs::LogGroup")
    for logical_id, function in synth.resources("AWS::Lambda::Function").items():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == c.SERVICE_NAME, logical_id
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == c.METRICS_NAMESPACE, logical_id
        assert env["POWERTOOLS_LOG_LEVEL"] == "INFO", logical_id
        assert env[c.ENV_TABLE_NAME] == {"Ref": synth.logical_id(synth.stack.storage.table)}, logical_id
        assert env[c.ENV_RECIPIENT_RETENTION_DAYS] == "365", logical_id  # eventLogRetentionDays, its old name
        assert env[c.ENV_MESSAGE_RETENTION_DAYS] == str(c.DEFAULT_MESSAGE_RETENTION_DAYS), logical_id
        assert env[c.ENV_CONTENT_RETENTION_DAYS] == str(c.DEFAULT_CONTENT_RETENTION_DAYS), logical_id
        assert env[c.ENV_ATTENTION_STUCK_HOURS] == str(c.DEFAULT_ATTENTION_STUCK_HOURS), logical_id
        assert env["PYDANTIC_DISABLE_PLUGINS"] == "__all__", logical_id  # no plugin scan on cold start
        log_group_id = ref_id(function["Properties"]["LoggingConfig"]["LogGroup"])
        assert log_groups[log_group_id]["Properties"]["RetentionInDays"] == 90, logical_id


def test_sender_gets_the_configuration_set_and_sender_address(synth: Synthesized) -> None:
    _, sender = function_by_handler(synth, c.SENDER_HANDLER)
    env = sender["Properties"]["Environment"]["Variables"]
    assert env[c.ENV_CONFIGURATION_SET] == c.CONFIGURATION_SET_NAME
    assert env[c.ENV_SENDER_ADDRESS] == SENDER_ADDRESS
    # Tracking per kind: the second set, invoices untracked by default (untrackedKinds).
    assert env[c.ENV_UNTRACKED_CONFIGURATION_SET] == c.UNTRACKED_CONFIGURATION_SET_NAME
    assert env[c.ENV_UNTRACKED_KINDS] == "invoice"
    # Emails' unsubscribe links point at the API's own URL by default (unsubscribeBaseUrl).
    assert "RestApi" in json.dumps(env[c.ENV_UNSUBSCRIBE_BASE_URL])
    _, send_api = function_by_handler(synth, c.SEND_API_HANDLER)
    assert send_api["Properties"]["Environment"]["Variables"][c.ENV_UNTRACKED_KINDS] == "invoice"


def test_api_functions_get_the_secret_arn_but_no_secret_and_only_the_send_one_the_queue(
    synth: Synthesized,
) -> None:
    _, read_api = function_by_handler(synth, c.READ_API_HANDLER)
    _, send_api = function_by_handler(synth, c.SEND_API_HANDLER)
    (queue_id,) = [
        k for k in synth.resources("AWS::SQS::Queue") if k == synth.logical_id(synth.stack.sending.queue)
    ]
    secret_id = synth.logical_id(synth.stack.api.cursor_secret)
    unsubscribe_id = synth.logical_id(synth.stack.api.unsubscribe_secret)
    assert set(synth.resources("AWS::SecretsManager::Secret")) == {secret_id, unsubscribe_id}
    for api in (read_api, send_api):
        env = api["Properties"]["Environment"]["Variables"]
        assert env[c.ENV_CURSOR_SECRET_ARN] == {"Ref": secret_id}
        assert env[c.ENV_ALLOWED_ORIGIN] == FRONTEND_ORIGIN
        assert c.ENV_CURSOR_SECRET not in env
        assert c.ENV_UNSUBSCRIBE_SECRET not in env
    # The unsubscribe link key: the send function verifies links, the sender signs them.
    _, sender = function_by_handler(synth, c.SENDER_HANDLER)
    for function in (send_api, sender):
        env = function["Properties"]["Environment"]["Variables"]
        assert env[c.ENV_UNSUBSCRIBE_SECRET_ARN] == {"Ref": unsubscribe_id}
    assert c.ENV_UNSUBSCRIBE_SECRET_ARN not in read_api["Properties"]["Environment"]["Variables"]
    assert send_api["Properties"]["Environment"]["Variables"][c.ENV_SEND_QUEUE_URL] == {"Ref": queue_id}
    assert c.ENV_SEND_QUEUE_URL not in read_api["Properties"]["Environment"]["Variables"]
    for logical_id in (secret_id, unsubscribe_id):
        secret = synth.json["Resources"][logical_id]["Properties"]
        assert "GenerateSecretString" in secret
        assert "SecretString" not in secret


# --- event source mappings and queues --------------------------------------------------------------


def test_ingest_event_source_mapping(synth: Synthesized) -> None:
    ingest_id, _ = function_by_handler(synth, c.INGEST_HANDLER)
    events_queue_id = synth.logical_id(synth.stack.ingestion.queue)
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": ingest_id},
            "EventSourceArn": {"Fn::GetAtt": [events_queue_id, "Arn"]},
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 5,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": c.INGEST_MAX_CONCURRENCY},  # 13: the bench's model
        },
    )


def test_sender_event_source_mapping(synth: Synthesized) -> None:
    sender_id, _ = function_by_handler(synth, c.SENDER_HANDLER)
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": sender_id},
            "EventSourceArn": {"Fn::GetAtt": [synth.logical_id(synth.stack.sending.queue), "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": Match.any_value()},
        },
    )


def test_every_queue_mapping_reports_batch_item_failures_and_has_visibility_6x_timeout(
    synth: Synthesized,
) -> None:
    queues = synth.resources("AWS::SQS::Queue")
    mappings = {
        k: m
        for k, m in synth.resources("AWS::Lambda::EventSourceMapping").items()
        if ref_id(m["Properties"]["EventSourceArn"]) in queues
    }
    # ingest, sender, exporter and the webhook DLQ's consumer (the projector and events functions
    # read the stream)
    assert len(mappings) == 4
    for logical_id, mapping in mappings.items():
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical_id
        assert 2 <= props["ScalingConfig"]["MaximumConcurrency"] <= 1000, logical_id
        function = synth.json["Resources"][ref_id(props["FunctionName"])]["Properties"]
        queue = synth.json["Resources"][ref_id(props["EventSourceArn"])]["Properties"]
        window = props.get("MaximumBatchingWindowInSeconds", 0)
        assert queue["VisibilityTimeout"] >= 6 * function["Timeout"] + window, logical_id


def test_work_queues_redrive_to_their_dlq(synth: Synthesized) -> None:
    pairs = [
        (synth.stack.ingestion.queue, synth.stack.ingestion.dead_letter_queue),
        (synth.stack.sending.queue, synth.stack.sending.dead_letter_queue),
    ]
    queues = synth.resources("AWS::SQS::Queue")
    assert c.MAX_RECEIVE_COUNT >= 5
    for queue, dlq in pairs:
        props = queues[synth.logical_id(queue)]["Properties"]
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [synth.logical_id(dlq), "Arn"]},
            "maxReceiveCount": c.MAX_RECEIVE_COUNT,
        }
        dlq_props = queues[synth.logical_id(dlq)]["Properties"]
        # A dead-lettered message keeps its first enqueue time and expires by it: the DLQ keeps
        # messages as long as SQS allows, a week longer than the work queue.
        assert dlq_props["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert props["MessageRetentionPeriod"] == 7 * 24 * 3600
        assert "RedrivePolicy" not in dlq_props


def test_every_queue_is_encrypted_and_denies_insecure_transport(synth: Synthesized) -> None:
    policies = synth.resources("AWS::SQS::QueuePolicy").values()
    queues = synth.resources("AWS::SQS::Queue")
    # three work queues, their DLQs, the projector's and the events function's failed batches, the
    # webhook DLQ
    assert len(queues) == 9
    for logical_id, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, logical_id
        statements = [
            s
            for p in policies
            if {"Ref": logical_id} in p["Properties"]["Queues"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert denies_insecure_transport(statements, "sqs:*"), logical_id


# --- SES -> SNS -> SQS -------------------------------------------------------------------------------


def test_configuration_set_publishes_every_event_type_to_the_topic(synth: Synthesized) -> None:
    sets = synth.resources("AWS::SES::ConfigurationSet")
    tracked_id = synth.logical_id(synth.stack.ingestion.configuration_set)
    untracked_id = synth.logical_id(synth.stack.ingestion.untracked_configuration_set)
    assert sets[tracked_id]["Properties"]["Name"] == c.CONFIGURATION_SET_NAME
    assert sets[untracked_id]["Properties"]["Name"] == c.UNTRACKED_CONFIGURATION_SET_NAME
    destinations = {
        d["Properties"]["ConfigurationSetName"]["Ref"]: d["Properties"]["EventDestination"]
        for d in synth.resources("AWS::SES::ConfigurationSetEventDestination").values()
    }
    assert set(destinations) == {tracked_id, untracked_id}
    for props in destinations.values():
        assert props["Enabled"] is True
        assert props["SnsDestination"] == {"TopicARN": {"Ref": synth.logical_id(synth.stack.ingestion.topic)}}
    assert set(destinations[tracked_id]["MatchingEventTypes"]) == ALL_SES_EVENT_TYPES
    # The untracked kinds' set publishes no open and no click: SES adds no pixel, rewrites no link.
    assert set(destinations[untracked_id]["MatchingEventTypes"]) == ALL_SES_EVENT_TYPES - {"open", "click"}


def test_events_topic_is_kms_encrypted_and_only_ses_of_this_configuration_set_may_publish(
    synth: Synthesized,
) -> None:
    topic_id = synth.logical_id(synth.stack.ingestion.topic)
    key_id = synth.logical_id(synth.stack.ingestion.topic_key)
    topic = synth.json["Resources"][topic_id]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = synth.json["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    ses_key_statements = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "ses.amazonaws.com"}
    ]
    assert actions_of(ses_key_statements) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    for statement in ses_key_statements:  # SES on behalf of this account only
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}

    (policy,) = [
        p
        for p in synth.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert denies_insecure_transport(statements, "sns:Publish")
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 2, "only SES may publish, for each of our two configuration sets"
    sources = []
    for allow in allows:
        assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
        assert as_list(allow["Action"]) == ["sns:Publish"]
        assert allow["Resource"] == {"Ref": topic_id}
        conditions = {k.lower(): v for k, v in allow["Condition"]["StringEquals"].items()}
        assert conditions.pop("aws:sourceaccount") == {"Ref": "AWS::AccountId"}
        sources.append(json.dumps(conditions.pop("aws:sourcearn"), sort_keys=True))
        assert conditions == {}
    expected = [
        ses_arn_with_config_set(synth, synth.stack.ingestion.configuration_set),
        ses_arn_with_config_set(synth, synth.stack.ingestion.untracked_configuration_set),
    ]
    assert sorted(sources) == sorted(json.dumps(arn, sort_keys=True) for arn in expected)


def ses_arn_with_config_set(synth: Synthesized, config_set: Any) -> dict[str, Any]:
    config_set_id = synth.logical_id(config_set)
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ses:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":configuration-set/",
                {"Ref": config_set_id},
            ],
        ]
    }


def test_topic_feeds_the_events_queue_with_raw_delivery_off(synth: Synthesized) -> None:
    topic_id = synth.logical_id(synth.stack.ingestion.topic)
    subs = [
        s["Properties"]
        for s in synth.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    ]
    assert len(subs) == 1
    (sub,) = subs
    assert sub["Protocol"] == "sqs"
    assert sub["Endpoint"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.ingestion.queue), "Arn"]}
    assert sub.get("RawMessageDelivery", False) is False
    assert sub["RedrivePolicy"] == {
        "deadLetterTargetArn": {
            "Fn::GetAtt": [synth.logical_id(synth.stack.ingestion.dead_letter_queue), "Arn"]
        }
    }


# --- DynamoDB ----------------------------------------------------------------------------------------


def test_table_keys_indexes_ttl_pitr_deletion_protection_and_retention(synth: Synthesized) -> None:
    tables = synth.resources("AWS::DynamoDB::GlobalTable")
    assert len(tables) == 1
    (table,) = tables.values()
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": c.TABLE_PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": c.TABLE_SORT_KEY, "KeyType": "RANGE"},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": c.TTL_ATTRIBUTE, "Enabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    projections = {i["IndexName"]: i["Projection"] for i in table_schema()["GlobalSecondaryIndexes"]}
    expected_indexes = [
        {
            "IndexName": index.name,
            "KeySchema": [
                {"AttributeName": index.partition_key, "KeyType": "HASH"},
                {"AttributeName": index.sort_key, "KeyType": "RANGE"},
            ],
            # Compared with the models' schema in tests/infra/test_storage.py.
            "Projection": projections[index.name],
            "WarmThroughput": WARM_THROUGHPUT,
            "WriteOnDemandThroughputSettings": WRITE_CAP,
        }
        for index in c.GLOBAL_INDEXES
    ]
    assert props["GlobalSecondaryIndexes"] == expected_indexes
    key_names = {c.TABLE_PARTITION_KEY, c.TABLE_SORT_KEY} | {
        k for index in c.GLOBAL_INDEXES for k in (index.partition_key, index.sort_key)
    }
    assert {d["AttributeName"] for d in props["AttributeDefinitions"]} == key_names
    assert {d["AttributeType"] for d in props["AttributeDefinitions"]} == {"S"}
    (replica,) = props["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is True


# The defaults of tableWarmWriteUnits/tableWarmReadUnits and tableMaxWriteUnits/tableMaxReadUnits.
WARM_THROUGHPUT = {"ReadUnitsPerSecond": 12_000, "WriteUnitsPerSecond": 10_000}
WRITE_CAP = {"MaxWriteRequestUnits": 20_000}
READ_CAP = {"MaxReadRequestUnits": 20_000}


def test_table_and_indexes_are_warm_and_capped_on_demand(synth: Synthesized) -> None:
    (table,) = synth.resources("AWS::DynamoDB::GlobalTable").values()
    props = table["Properties"]
    assert props["WarmThroughput"] == WARM_THROUGHPUT
    assert props["WriteOnDemandThroughputSettings"] == WRITE_CAP
    (replica,) = props["Replicas"]
    # A global table sets read capacity per replica, for the table and for each index.
    assert replica["ReadOnDemandThroughputSettings"] == READ_CAP
    assert replica["GlobalSecondaryIndexes"] == [
        {"IndexName": index.name, "ReadOnDemandThroughputSettings": READ_CAP} for index in c.GLOBAL_INDEXES
    ]
    for index in props["GlobalSecondaryIndexes"]:
        assert index["WarmThroughput"] == WARM_THROUGHPUT, index["IndexName"]
        assert index["WriteOnDemandThroughputSettings"] == WRITE_CAP, index["IndexName"]


def test_table_throughput_follows_the_context(tmp_path: Path) -> None:
    from tests.infra.conftest import synthesize

    tuned = synthesize(
        tmp_path,
        {
            **REQUIRED,
            "tableWarmWriteUnits": "16000",
            "tableWarmReadUnits": "14000",
            "tableMaxWriteUnits": "30000",
            "tableMaxReadUnits": "25000",
        },
    )
    (table,) = tuned.resources("AWS::DynamoDB::GlobalTable").values()
    props = table["Properties"]
    assert props["WarmThroughput"] == {"ReadUnitsPerSecond": 14_000, "WriteUnitsPerSecond": 16_000}
    assert props["WriteOnDemandThroughputSettings"] == {"MaxWriteRequestUnits": 30_000}
    assert props["Replicas"][0]["ReadOnDemandThroughputSettings"] == {"MaxReadRequestUnits": 25_000}
    assert {json.dumps(i["WarmThroughput"]) for i in props["GlobalSecondaryIndexes"]} == {
        json.dumps({"ReadUnitsPerSecond": 14_000, "WriteUnitsPerSecond": 16_000})
    }


# --- API ---------------------------------------------------------------------------------------------


def test_every_method_but_health_and_cors_preflight_requires_a_cognito_token(synth: Synthesized) -> None:
    methods = synth.resources("AWS::ApiGateway::Method")
    resources = synth.resources("AWS::ApiGateway::Resource")
    (authorizer_id,) = synth.resources("AWS::ApiGateway::Authorizer")
    health_ids = {k for k, r in resources.items() if r["Properties"]["PathPart"] == "health"}
    assert len(health_ids) == 1
    unsubscribe_ids = {
        k
        for k, r in resources.items()
        if r["Properties"]["PathPart"] == "{token}"
        and resources[r["Properties"]["ParentId"]["Ref"]]["Properties"]["PathPart"] == "unsubscribe"
    }
    assert len(unsubscribe_ids) == 1
    send_function_id = synth.logical_id(synth.stack.api.send_function)
    seen_health = seen_authorized = seen_unsubscribe = 0
    for logical_id, method in methods.items():
        props = method["Properties"]
        resource = props.get("ResourceId", {})
        if props["HttpMethod"] == "OPTIONS":
            # CORS preflight: no credentials by browser design; a MOCK that never reaches the function.
            assert props["AuthorizationType"] == "NONE", logical_id
            assert props["Integration"]["Type"] == "MOCK", logical_id
        elif resource.get("Ref") in unsubscribe_ids:
            # The signed one-click unsubscribe link: mail clients POST it with no token of ours; the
            # send function checks the link's signature.
            assert props["AuthorizationType"] == "NONE", logical_id
            assert props["Integration"]["Type"] == "AWS_PROXY", logical_id
            assert send_function_id in json.dumps(props["Integration"]["Uri"]), logical_id
            seen_unsubscribe += 1
        elif props["HttpMethod"] == "GET" and resource.get("Ref") in health_ids:
            assert props["AuthorizationType"] == "NONE", logical_id
            # API Gateway answers it: an unauthenticated request never reaches a function.
            assert props["Integration"]["Type"] == "MOCK", logical_id
            seen_health += 1
        else:
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS", logical_id
            assert props["AuthorizerId"] == {"Ref": authorizer_id}, logical_id
            seen_authorized += 1
    assert seen_health == 1
    assert seen_unsubscribe == 1
    assert seen_authorized >= 1


def test_health_is_a_static_answer_of_api_gateway(synth: Synthesized) -> None:
    from infra.api import HEALTH_BODY

    (health,) = [
        m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "GET" and m["Properties"]["Integration"]["Type"] == "MOCK"
    ]
    integration = health["Integration"]
    assert integration["RequestTemplates"] == {"application/json": json.dumps({"statusCode": 200})}
    (response,) = integration["IntegrationResponses"]
    assert response["StatusCode"] == "200"
    assert json.loads(response["ResponseTemplates"]["application/json"]) == HEALTH_BODY == {"status": "ok"}
    assert response["ResponseParameters"] == {
        "method.response.header.Access-Control-Allow-Origin": f"'{FRONTEND_ORIGIN}'"
    }
    assert health["MethodResponses"][0]["StatusCode"] == "200"
    # No function may be invoked by API Gateway but through the authorized proxy route.
    for permission in synth.resources("AWS::Lambda::Permission").values():
        assert "/health" not in json.dumps(permission["Properties"].get("SourceArn")), permission


def test_without_the_hosted_dashboard_the_app_client_has_no_oauth(synth: Synthesized) -> None:
    (client,) = synth.resources("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is False
    for key in ("AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs", "LogoutURLs"):
        assert key not in props, key
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def test_authorizer_uses_the_stacks_user_pool_with_an_immutable_tenant_attribute(synth: Synthesized) -> None:
    (pool_id, pool), *others = synth.resources("AWS::Cognito::UserPool").items()
    assert not others
    (authorizer,) = synth.resources("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["Properties"]["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    props = pool["Properties"]
    assert {
        "AttributeDataType": "String",
        "Mutable": False,
        "Name": c.TENANT_ATTRIBUTE,
        "StringAttributeConstraints": {"MaxLength": "64", "MinLength": "1"},
    } in props["Schema"]
    assert f"custom:{c.TENANT_ATTRIBUTE}" == c.TENANT_CLAIM
    assert props["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert props["MfaConfiguration"] == "ON"
    assert pool["DeletionPolicy"] == "Retain"
    (client,) = synth.resources("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["GenerateSecret"] is False
    assert f"custom:{c.TENANT_ATTRIBUTE}" not in client["Properties"].get("WriteAttributes", [])
    assert f"custom:{c.TENANT_ATTRIBUTE}" in client["Properties"]["ReadAttributes"]


def test_stage_has_access_logs_execution_logs_tracing_and_throttling(synth: Synthesized) -> None:
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    access_log_group = synth.logical_id(synth.stack.api.access_logs)
    assert access_log_group in json.dumps(props["AccessLogSetting"]["DestinationArn"])
    fields = json.loads(props["AccessLogSetting"]["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    assert fields["sub"] == "$context.authorizer.claims.sub"
    assert props["TracingEnabled"] is True
    (settings,) = props["MethodSettings"]
    assert settings["HttpMethod"] == "*"
    assert settings["ResourcePath"] == "/*"
    assert settings["LoggingLevel"] in ("ERROR", "INFO")
    assert settings["DataTraceEnabled"] is False
    assert 0 < settings["ThrottlingRateLimit"] <= settings["ThrottlingBurstLimit"]


def test_cors_allows_only_the_frontend_origin(synth: Synthesized) -> None:
    origin = f"'{FRONTEND_ORIGIN}'"
    for method in synth.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] != "OPTIONS":
            continue
        (response,) = props["Integration"]["IntegrationResponses"]
        assert response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"] == origin
        # The dashboard's resend sends an Idempotency-Key: a preflight that refused it would block it.
        allowed = response["ResponseParameters"]["method.response.header.Access-Control-Allow-Headers"]
        assert "Idempotency-Key" in allowed.strip("'").split(",")
    responses = synth.resources("AWS::ApiGateway::GatewayResponse").values()
    assert {r["Properties"]["ResponseType"] for r in responses} == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for r in responses:
        assert (
            r["Properties"]["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
            == origin
        )


# --- IAM: least privilege ----------------------------------------------------------------------------


def test_sender_may_send_only_as_the_configured_identity_and_configuration_set(synth: Synthesized) -> None:
    _, sender = function_by_handler(synth, c.SENDER_HANDLER)
    ses_statements = [
        s for s in role_statements(synth, sender) if any(a.startswith("ses:") for a in as_list(s["Action"]))
    ]
    # Sending, and reading the account's send rate (nothing else of SES).
    assert len(ses_statements) == 2
    (rate,) = [s for s in ses_statements if as_list(s["Action"]) == ["ses:GetAccount"]]
    assert (rate["Effect"], rate["Resource"]) == ("Allow", "*")
    (statement,) = [s for s in ses_statements if s is not rate]
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Action"]) == ["ses:SendEmail"]
    resources = as_list(statement["Resource"])
    assert "*" not in resources
    assert sorted(map(json.dumps, resources)) == sorted(
        map(
            json.dumps,
            [
                ses_arn(f":identity/{SES_IDENTITY}"),
                ses_arn(f":configuration-set/{c.CONFIGURATION_SET_NAME}"),
                ses_arn(f":configuration-set/{c.UNTRACKED_CONFIGURATION_SET_NAME}"),
            ],
        )
    )
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": SENDER_ADDRESS}}


def test_only_the_sender_can_send_email(synth: Synthesized) -> None:
    for handler in (c.INGEST_HANDLER, c.PROJECTOR_HANDLER, c.READ_API_HANDLER, c.SEND_API_HANDLER):
        _, function = function_by_handler(synth, handler)
        actions = actions_of(role_statements(synth, function))
        assert not {a for a in actions if a.startswith("ses:") or a == "*"}, handler


def test_each_function_gets_exactly_the_access_it_needs(synth: Synthesized) -> None:
    _, ingest = function_by_handler(synth, c.INGEST_HANDLER)
    _, sender = function_by_handler(synth, c.SENDER_HANDLER)
    _, projector = function_by_handler(synth, c.PROJECTOR_HANDLER)
    _, read_api = function_by_handler(synth, c.READ_API_HANDLER)
    _, api = function_by_handler(synth, c.SEND_API_HANDLER)
    _, exporter = function_by_handler(synth, c.EXPORT_HANDLER)
    ingest_actions = actions_of(role_statements(synth, ingest))
    sender_actions = actions_of(role_statements(synth, sender))
    api_actions = actions_of(role_statements(synth, api))
    read_api_actions = actions_of(role_statements(synth, read_api))
    for actions in (ingest_actions, sender_actions, api_actions, read_api_actions):
        assert {"logs:CreateLogStream", "logs:PutLogEvents"} <= actions
        assert not any(a.startswith("kms:") for a in actions)
    # DynamoDB: the measured lists (infra/table_access.py), on the table and on named indexes only.
    table = {"Fn::GetAtt": [synth.logical_id(synth.stack.storage.table), "Arn"]}
    for function, access in (
        (ingest, table_access.INGEST),
        (sender, table_access.SENDER),
        (api, table_access.SEND_API),
        (read_api, table_access.READ_API),
        (projector, table_access.PROJECTOR),
        (exporter, table_access.EXPORTER),
    ):
        stream = {"Fn::GetAtt": [synth.logical_id(synth.stack.storage.table), "StreamArn"]}
        statements = [
            s
            for s in role_statements(synth, function)
            if any(a.startswith("dynamodb:") for a in as_list(s["Action"])) and s["Resource"] != stream
        ]
        on_table = [s for s in statements if s["Resource"] == table]
        assert len(on_table) == 1
        assert sorted(as_list(on_table[0]["Action"])) == sorted(access.actions)
        on_indexes = [s for s in statements if s["Resource"] != table]
        expected_indexes = [{"Fn::Join": ["", [table, f"/index/{name}"]]} for name in access.queried_indexes]
        assert [r for s in on_indexes for r in as_list(s["Resource"])] == expected_indexes
        assert all(as_list(s["Action"]) == ["dynamodb:Query"] for s in on_indexes)
        dynamodb_actions = actions_of(statements)
        assert not dynamodb_actions & {
            "dynamodb:Scan",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:DescribeStream",
            "dynamodb:ListStreams",
            "dynamodb:DescribeTable",
        }
    assert "sqs:ReceiveMessage" in ingest_actions
    assert "sqs:ReceiveMessage" in sender_actions
    assert "sqs:SendMessage" in api_actions
    assert "sqs:SendMessage" not in ingest_actions | sender_actions
    assert "sqs:SendMessage" not in read_api_actions
    assert "secretsmanager:GetSecretValue" in api_actions & read_api_actions
    assert not any(a.startswith("secretsmanager:") for a in ingest_actions)
    # The sender reads one secret: the key it signs unsubscribe links with.
    sender_secrets = [
        s
        for s in role_statements(synth, sender)
        if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
    ]
    assert [s["Resource"] for s in sender_secrets] == [
        {"Ref": synth.logical_id(synth.stack.api.unsubscribe_secret)}
    ]
    # The queue each function may use is its own.
    for function, queue, action in (
        (ingest, synth.stack.ingestion.queue, "sqs:ReceiveMessage"),
        (sender, synth.stack.sending.queue, "sqs:ReceiveMessage"),
    ):
        (statement,) = [s for s in role_statements(synth, function) if action in as_list(s["Action"])]
        assert statement["Resource"] == {"Fn::GetAtt": [synth.logical_id(queue), "Arn"]}
    # The send function queues sends and exports; the export worker queues the rest of an export.
    for function, queues in (
        (api, (synth.stack.sending.queue, synth.stack.exports.queue)),
        (exporter, (synth.stack.exports.queue,)),
    ):
        sending = [s for s in role_statements(synth, function) if "sqs:SendMessage" in as_list(s["Action"])]
        resources = [r for s in sending for r in as_list(s["Resource"])]
        assert sorted(map(json.dumps, resources)) == sorted(
            json.dumps({"Fn::GetAtt": [synth.logical_id(queue), "Arn"]}) for queue in queues
        )
    # S3: the worker writes exports, the read function gets them (to presign); nothing else.
    exports = {
        "Fn::Join": [
            "",
            [{"Fn::GetAtt": [synth.logical_id(synth.stack.exports.bucket), "Arn"]}, "/exports/*"],
        ]
    }
    for function, wanted in (
        (exporter, {"s3:PutObject", "s3:AbortMultipartUpload"}),
        (read_api, {"s3:GetObject"}),
    ):
        on_s3 = [
            s
            for s in role_statements(synth, function)
            if any(a.startswith("s3:") for a in as_list(s["Action"]))
        ]
        assert actions_of(on_s3) == wanted
        assert [r for st in on_s3 for r in as_list(st["Resource"])] == [exports]


def test_no_iam_statement_has_wildcard_action_or_resource_except_xray(synth: Synthesized) -> None:
    statements = []
    for role in synth.resources("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
        assert not role["Properties"].get("ManagedPolicyArns") or _is_apigateway_cloudwatch_role(role)
    for policy in synth.resources("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements
    for statement in statements:
        actions = as_list(statement["Action"])
        assert "*" not in actions
        assert not any(a.endswith(":*") for a in actions), statement
        if "*" in as_list(statement["Resource"]):
            # X-Ray's and the sender's read of its send rate: neither has resource-level permissions.
            assert set(actions) <= XRAY_ACTIONS or set(actions) == {"ses:GetAccount"}, statement
    # Resource policies never grant everything to everyone.
    for resource_type in ("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
        for policy in synth.resources(resource_type).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    assert statement["Principal"] not in ("*", {"AWS": "*"}), statement
                    assert "*" not in as_list(statement["Action"]), statement


def _is_apigateway_cloudwatch_role(role: dict[str, Any]) -> bool:
    principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    return bool(
        principal == {"Service": "apigateway.amazonaws.com"}
    ) and "AmazonAPIGatewayPushToCloudWatchLogs" in (json.dumps(role["Properties"]["ManagedPolicyArns"]))


# Every action that changes nothing: reads of the table, of the cursor secret, and the function's own
# logs and traces (which Lambda needs to run any function).
READ_ONLY_ACTIONS = {
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    # Signing an export's download URL (infra/exports.py: objects under exports/ only).
    "s3:GetObject",
    *XRAY_ACTIONS,
}


def test_the_read_api_function_can_change_nothing(synth: Synthesized) -> None:
    _, read_api = function_by_handler(synth, c.READ_API_HANDLER)
    actions = actions_of(role_statements(synth, read_api))
    assert {"dynamodb:Query", "dynamodb:BatchGetItem"} <= actions
    assert actions - READ_ONLY_ACTIONS == set()
    # The send function has what the read one lacks (so the split is a real one).
    _, send_api = function_by_handler(synth, c.SEND_API_HANDLER)
    assert {"dynamodb:PutItem", "sqs:SendMessage"} <= actions_of(role_statements(synth, send_api))
