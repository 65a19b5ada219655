"""The update-expression shortcuts (``remembered_update_expressions``, ``one_map_per_traversal``
in local/moto_request_shortcuts.py) against plain moto: the same texts again and again with other
values (the remembered tree reused), on new and existing items, every clause kind, nested paths,
functions, failing conditions and invalid expressions, answer and store the same."""

from __future__ import annotations

import functools
from typing import Any

from tests.integration.test_moto_shortcuts import TABLE, answer, client, emulators, item
from tracker.dal.models import bind_table, table_schema

__all__ = ["emulators"]  # the module's fixture: both emulators, started once

COUNTERS = "ADD #c.#k :one, sum_n :n SET changed_at = :s, first_at = if_not_exists(first_at, :s)"
UPDATES: list[tuple[str, dict[str, Any], dict[str, str] | None]] = [
    ("SET #c = :m", {":m": {"M": {"opened": {"N": "9"}}}}, {"#c": "counts"}),
    (COUNTERS, {":one": {"N": "1"}, ":n": {"N": "3"}, ":s": {"S": "a"}}, {"#c": "counts", "#k": "opened"}),
    (COUNTERS, {":one": {"N": "2"}, ":n": {"N": "-1"}, ":s": {"S": "b"}}, {"#c": "counts", "#k": "opened"}),
    (COUNTERS, {":one": {"N": "1"}, ":n": {"N": "1"}, ":s": {"S": "c"}}, {"#c": "counts", "#k": "clicked"}),
    (
        "SET entries = list_append(if_not_exists(entries, :empty), :entry)",
        {":empty": {"L": []}, ":entry": {"L": [{"S": "x"}]}},
        None,
    ),
    (
        "SET entries = list_append(if_not_exists(entries, :empty), :entry)",
        {":empty": {"L": []}, ":entry": {"L": [{"S": "y"}]}},
        None,
    ),
    ("SET v = v + :one REMOVE first_at", {":one": {"N": "1"}}, None),  # v missing on a new item: refused
    ("ADD tags :t", {":t": {"SS": ["p", "q"]}}, None),
    (
        "DELETE tags :t SET #c.#k = :one",
        {":t": {"SS": ["q"]}, ":one": {"N": "1"}},
        {"#c": "counts", "#k": "bounced"},
    ),
    ("SET sk = :s", {":s": {"S": "moved"}}, None),  # a key attribute: refused
    ("SET = broken", {}, None),  # does not parse: refused each time
    ("SET = broken", {}, None),
    ("SET a = :s, a = :s", {":s": {"S": "twice"}}, None),  # overlapping paths: refused
]


def update_script(db: Any) -> list[Any]:
    bind_table(TABLE, region="us-east-1")
    db.create_table(**table_schema())
    db.put_item(TableName=TABLE, Item=item("u#1", "old", v=1, counts="x"))
    log: list[Any] = []
    for key in (item("u#1", "old"), item("u#1", "new"), item("u#2", "new")):
        for expression, values, names in UPDATES:
            request: dict[str, Any] = {"TableName": TABLE, "Key": key, "UpdateExpression": expression}
            request |= {"ReturnValues": "ALL_NEW"}
            if values:
                request["ExpressionAttributeValues"] = values
            if names:
                request["ExpressionAttributeNames"] = names
            log.append(answer(functools.partial(db.update_item, **request)))
            conditional = request | {"ConditionExpression": "attribute_not_exists(#c.clicked)"}
            conditional["ExpressionAttributeNames"] = {"#c": "counts"} | (names or {})
            log.append(answer(functools.partial(db.update_item, **conditional)))
    log.append(answer(lambda: db.scan(TableName=TABLE, ConsistentRead=True)["Items"]))
    return log


def test_update_expressions_answer_and_store_the_same_with_the_shortcuts(emulators: Any) -> None:
    plain, fast = (update_script(client(emulators[name], "dynamodb")) for name in ("plain", "shortcuts"))
    assert len(plain) == len(fast) == 3 * 2 * len(UPDATES) + 1
    for step, (expected, got) in enumerate(zip(plain, fast, strict=True)):
        assert got == expected, f"request {step} answered differently"
    errors = {entry.get("error") for entry in plain if isinstance(entry, dict)}
    assert {"ValidationException", "ConditionalCheckFailedException"} <= errors  # the failures are exercised
    assert sum(1 for entry in plain if isinstance(entry, dict) and "Attributes" in entry) >= 10
