"""DynamoDB side of the statistics (tracker.logic.stats_projection, tracker.logic.stats): one item
per tenant and UTC hour, written only by the projector, read by the stats routes.

``T#{tenant}#STATS`` / ``HOUR#{yyyy-mm-ddThh}``: a number per kind and metric (``invoice|sent``,
``email|reason:mailbox_full``) that the projector ``ADD``s to, and per stream shard the sequence
number up to which that shard's changes are counted (``@{shard}`` = ``"{sequence}|{epoch ms}"``,
the message items' mark scheme, tracker.dal.projection). The update is conditioned on the shard's
mark being below the first change it counts; a refused update returns the item
(``ReturnValuesOnConditionCheckFailure``), so the mark is known without a read. A window of 30
days is 720 small items, one Query page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from tracker import constants
from tracker.dal import keys
from tracker.dal.models import TrackerItem, shared_connection
from tracker.dal.projection import MARK_STALE_AFTER
from tracker.dal.support import CONDITION_FAILED
from tracker.domain.errors import TransientStoreError
from tracker.logic.stats_projection import StatsDelta

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

logger = logging.getLogger(__name__)

ITEM_TYPE = "stats_hour"
MARK_PREFIX = "@"
SEPARATOR = "|"


def count_name(kind: str, metric: str) -> str:
    return f"{kind}{SEPARATOR}{metric}"


def _client() -> DynamoDBClient:
    return cast("DynamoDBClient", shared_connection().client)


def _table() -> str:
    return str(TrackerItem.Meta.table_name)


def _mark_parts(value: str) -> tuple[str, datetime | None]:
    sequence, _, millis = value.partition("|")
    written = datetime.fromtimestamp(int(millis) / 1000, tz=UTC) if millis.isdigit() else None
    return sequence, written


class DynamoStatsStore:
    """logic.stats_projection.StatsStore on the hour items."""

    def __init__(
        self,
        retention: timedelta = timedelta(days=constants.DEFAULT_MESSAGE_RETENTION_DAYS),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._retention = retention
        self._clock = clock

    def add_stats(
        self, tenant_id: str, hour: datetime, shard: str, first: str, last: str, delta: StatsDelta
    ) -> str | None:
        key = {
            constants.TABLE_PARTITION_KEY: {"S": keys.stats_pk(tenant_id)},
            constants.TABLE_SORT_KEY: {"S": keys.stats_hour_sk(hour)},
        }
        names = {
            "#m": MARK_PREFIX + shard,
            "#t": constants.ITEM_TYPE_ATTRIBUTE,
            "#e": constants.TTL_ATTRIBUTE,
        }
        values: dict[str, Any] = {
            ":mark": {"S": f"{last}|{int(self._clock().timestamp() * 1000)}"},
            ":first": {"S": first},
            ":type": {"S": ITEM_TYPE},
            ":tenant": {"S": tenant_id},
            ":expires": {"N": str(int((hour + self._retention).timestamp()))},
        }
        adds = []
        for i, ((kind, metric), n) in enumerate(sorted(delta.items())):
            names[f"#c{i}"] = count_name(kind, metric)
            values[f":c{i}"] = {"N": str(n)}
            adds.append(f"#c{i} :c{i}")
        expression = "SET #m = :mark, #t = :type, tenant_id = :tenant, #e = :expires"
        if adds:
            expression += " ADD " + ", ".join(adds)
        try:
            response = _client().update_item(
                TableName=_table(),
                Key=key,
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(#m) OR #m < :first",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise TransientStoreError(f"statistics of {tenant_id}: {error}") from error
            current = cast("Mapping[str, Any]", error.response.get("Item") or {})
            mark = current.get(MARK_PREFIX + shard, {}).get("S")
            if mark is None:
                raise TransientStoreError("statistics update refused without a mark: retry") from error
            return _mark_parts(str(mark))[0]
        except BotoCoreError as error:
            raise TransientStoreError(f"statistics of {tenant_id}: {error}") from error
        self._prune(key, shard, response.get("Attributes") or {})
        return None

    def _prune(self, key: Mapping[str, Any], shard: str, attributes: Mapping[str, Any]) -> None:
        """Remove the marks of shards no record can come from any more (a stream keeps 24 hours)."""
        now = self._clock()
        stale = sorted(
            (name, value["S"])
            for name, value in attributes.items()
            if name.startswith(MARK_PREFIX)
            and name != MARK_PREFIX + shard
            and "S" in value
            and (written := _mark_parts(value["S"])[1]) is not None
            and now - written > MARK_STALE_AFTER
        )
        if not stale:
            return
        names = {f"#s{i}": name for i, (name, _) in enumerate(stale)}
        values = {f":s{i}": {"S": value} for i, (_, value) in enumerate(stale)}
        try:
            _client().update_item(
                TableName=_table(),
                Key=dict(key),
                UpdateExpression="REMOVE " + ", ".join(names),
                ConditionExpression=" AND ".join(f"{n} = :s{i}" for i, n in enumerate(names)),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception:  # a concurrent write moved a mark: the next update prunes again
            logger.info("stale statistics marks not pruned", exc_info=True)


def _counts_of(item: Mapping[str, Any], kind: str | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, value in item.items():
        if SEPARATOR not in name or name.startswith(MARK_PREFIX) or "N" not in value:
            continue
        item_kind, _, metric = name.partition(SEPARATOR)
        if kind is None or item_kind == kind:
            counts[metric] = counts.get(metric, 0) + int(value["N"])
    return counts


class DynamoStatsReader:
    """logic.stats.StatsReader: the hour items of a window (one Query, paged)."""

    def hours(
        self, tenant_id: str, since: datetime, until: datetime, kind: str | None = None
    ) -> dict[datetime, dict[str, int]]:
        last = until - timedelta(microseconds=1)
        request: dict[str, Any] = {
            "TableName": _table(),
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :from AND :to",
            "ExpressionAttributeNames": {
                "#pk": constants.TABLE_PARTITION_KEY,
                "#sk": constants.TABLE_SORT_KEY,
            },
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.stats_pk(tenant_id)},
                ":from": {"S": keys.stats_hour_sk(since)},
                ":to": {"S": keys.stats_hour_sk(last)},
            },
        }
        found: dict[datetime, dict[str, int]] = {}
        try:
            while True:
                page = _client().query(**request)
                for item in page.get("Items", []):
                    hour = keys.parse_stats_hour_sk(item[constants.TABLE_SORT_KEY]["S"])
                    found[hour] = _counts_of(item, kind)
                if not page.get("LastEvaluatedKey"):
                    return found
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as error:
            raise TransientStoreError(f"statistics of {tenant_id}: {error}") from error
