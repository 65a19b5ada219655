"""The deployed table is the table the code is written and tested against: its keys, indexes,
index projections and stream are those of ``tracker.dal.models.table_schema()`` (which local mode
and the tests create)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synthesized
from tracker.dal.models import table_schema

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def deployed_table(synth: Synthesized) -> dict[str, Any]:
    (table,) = synth.resources("AWS::DynamoDB::GlobalTable").values()
    properties: dict[str, Any] = table["Properties"]
    return properties


def by_name(indexes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {index["IndexName"]: index for index in indexes}


def test_the_table_has_the_keys_and_attribute_types_of_the_models(synth: Synthesized) -> None:
    deployed, schema = deployed_table(synth), table_schema()
    assert deployed["KeySchema"] == schema["KeySchema"]
    assert sorted(deployed["AttributeDefinitions"], key=lambda d: d["AttributeName"]) == sorted(
        schema["AttributeDefinitions"], key=lambda d: d["AttributeName"]
    )
    assert deployed["BillingMode"] == schema["BillingMode"]


def test_every_index_has_the_keys_and_projection_of_the_models(synth: Synthesized) -> None:
    deployed = by_name(deployed_table(synth)["GlobalSecondaryIndexes"])
    schema = by_name(table_schema()["GlobalSecondaryIndexes"])
    assert deployed.keys() == schema.keys()
    for name, index in schema.items():
        assert deployed[name]["KeySchema"] == index["KeySchema"], name
        assert deployed[name]["Projection"] == index["Projection"], name
    # What the layout relies on (docs/data-model.md): no index copies whole items.
    assert {index["Projection"]["ProjectionType"] for index in deployed.values()} <= {"KEYS_ONLY", "INCLUDE"}


def test_the_table_streams_new_and_old_images_as_the_projector_reads_them(synth: Synthesized) -> None:
    stream = table_schema()["StreamSpecification"]
    assert stream["StreamEnabled"] is True
    assert deployed_table(synth)["StreamSpecification"] == {"StreamViewType": stream["StreamViewType"]}
    assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
