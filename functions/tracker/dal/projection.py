"""DynamoDB side of the projector (tracker.logic.projector): the recipient changes a stream batch
carries, and the message items' counts, added exactly once per stream record.

A stream record's images are in DynamoDB's wire format; only the few attributes the projector needs
are decoded (address, tallies, and the bounces and complaints of the timeline), never the whole
item. The count update is one UpdateItem per message per batch: ``ADD`` of every count change and
``SET`` of the shard's high-water mark, conditioned on the mark being below the first record it
counts; when the condition fails, DynamoDB returns the item as it is
(``ReturnValuesOnConditionCheckFailure``), so the mark is known without a read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.operand import Path

from tracker import constants
from tracker.dal import keys
from tracker.dal import recipients as stored
from tracker.dal.attention import attention_actions, image_attention, settle_actions
from tracker.dal.insights import fold_links, image_links, insight_actions
from tracker.dal.models import MessageItem, RecipientItem, count_attribute, shared_connection
from tracker.dal.recipients import (
    EVIDENCE_LETTERS,
    detail_from_json,
    entry_from_text,
    stat_marks_from_texts,
)
from tracker.dal.streams import is_ttl_removal
from tracker.dal.support import CONDITION_FAILED, is_condition_failure
from tracker.domain.errors import TransientStoreError, UnreadableChangeError
from tracker.domain.records import MessageKey, RecipientKey
from tracker.domain.stats import StatMark
from tracker.logic.message_changes import AttentionChange, InsightChange
from tracker.logic.projector import (
    MESSAGE_GONE,
    MessageGone,
    RecipientImage,
    RecipientStreamChange,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

logger = logging.getLogger(__name__)

# Stream records live 24 hours: a mark last written longer ago than this can never be needed
# again (no record at or below it can be delivered any more), so it is removed.
MARK_STALE_AFTER = timedelta(hours=48)
_DISCRIMINATOR = "item_type"
_RECIPIENT = "recipient"


# --- stream records -----------------------------------------------------------------------------


def _text(image: Mapping[str, Any], name: str) -> str | None:
    value = image.get(name)
    return str(value["S"]) if isinstance(value, Mapping) and "S" in value else None


def recipient_image(
    image: Mapping[str, Any] | None, key: RecipientKey | None = None, changed_at: datetime | None = None
) -> RecipientImage | None:
    if not image or _text(image, _DISCRIMINATOR) != _RECIPIENT:
        return None
    email = _text(image, RecipientItem.email.attr_name)
    if email is None:
        raise UnreadableChangeError("recipient image without an address")
    tallies = image.get(RecipientItem.tallies.attr_name, {}).get("SS", [])
    facts = json.loads(_text(image, RecipientItem.facts.attr_name) or "{}")
    if not isinstance(facts, dict):
        raise UnreadableChangeError(f"recipient facts are a JSON {type(facts).__name__}, not an object")
    outcomes = tuple(
        entry_from_text(text)
        for text in facts.get("tl") or ()
        if text[:2] in {f"{c}|" for c in EVIDENCE_LETTERS}
    )
    bounce = detail_from_json(facts["bo"]) if facts.get("bo") else None
    subscription = detail_from_json(facts["su"]) if facts.get("su") else None
    attention = image_attention(image, facts, key, changed_at or datetime.now(UTC)) if key is not None else {}
    # The clicks per link (insights): decoded only when its timeline has a click.
    links = image_links(facts, stored.engagement_rules())
    return RecipientImage(
        email=email,
        tallies=frozenset(tallies),
        outcomes=outcomes,
        bounce=bounce,
        subscription=subscription,
        stats=image_stats(image),
        **links,
        **attention,
    )


def image_stats(image: Mapping[str, Any]) -> frozenset[StatMark]:
    """What the image counts under in its tenant's hourly statistics (tracker.domain.stats), as the
    write that made it derived from its facts (``st``, like ``tallies``), with its kind."""
    texts = image.get(RecipientItem.stats.attr_name, {}).get("SS", [])
    return (
        stat_marks_from_texts(texts, _text(image, RecipientItem.kind.attr_name) or "")
        if texts
        else frozenset()
    )


def recipient_change(record: Mapping[str, Any], shard: str) -> RecipientStreamChange | None:
    """The recipient change of one stream record; None when it is not a recipient's. Raises
    UnreadableChangeError when it is one that cannot be decoded."""
    if is_ttl_removal(record):
        return None
    data = record.get("dynamodb") or {}
    item_keys = data.get("Keys") or {}
    pk = _text(item_keys, constants.TABLE_PARTITION_KEY)
    sk = _text(item_keys, constants.TABLE_SORT_KEY)
    if pk is None or sk is None or not sk.startswith(keys.RECIPIENT_SK_PREFIX):
        return None
    try:
        tenant_id, message_id = keys.parse_message_pk(pk)
        key = RecipientKey(tenant_id, message_id, keys.parse_recipient_sk(sk))
        changed_at = _changed_at(data.get("ApproximateCreationDateTime"))
        before = recipient_image(data.get("OldImage"), key, changed_at)
        after = recipient_image(data.get("NewImage"), key, changed_at)
        sequence = str(data["SequenceNumber"])
    # OverflowError: a time too far from the epoch for a datetime (an image edited by hand).
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as error:
        raise UnreadableChangeError(f"stream record of {pk} {sk}: {error}") from error
    if before is None and after is None:
        return None
    return RecipientStreamChange(shard=shard, sequence=sequence, key=key, before=before, after=after)


def _changed_at(value: Any) -> datetime:
    """When the stream saw the change (epoch seconds; the time a send-path failure is listed at)."""
    if isinstance(value, int | float | str) and str(value).replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(value), tz=UTC)
    return datetime.now(UTC)


# --- counts ---------------------------------------------------------------------------------------


def _mark_path(shard: str) -> Path:
    return cast(Path, cast(Any, MessageItem.projected)[shard])


def _client() -> DynamoDBClient:
    # The botocore client behind every model (its retries and endpoint): the one request PynamoDB
    # cannot make, an update that returns the item when its condition fails.
    return cast("DynamoDBClient", shared_connection().client)


def _mark_value(last: str, written: datetime) -> str:
    # "<padded sequence>|<epoch ms>": compares with a bare padded sequence as the sequence does.
    return f"{last}|{int(written.timestamp() * 1000)}"


def _mark_parts(value: str) -> tuple[str, datetime | None]:
    sequence, _, millis = value.partition("|")
    written = datetime.fromtimestamp(int(millis) / 1000, tz=UTC) if millis.isdigit() else None
    return sequence, written


class DynamoCountStore:
    """logic.projector.CountStore on the message items."""

    def __init__(
        self,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stuck_after: timedelta = timedelta(hours=constants.DEFAULT_ATTENTION_STUCK_HOURS),
    ) -> None:
        self._clock = clock
        self._stuck_after = stuck_after

    def add_counts(
        self,
        message: MessageKey,
        shard: str,
        first: str,
        last: str,
        delta: Mapping[str, int],
        attention: AttentionChange | None = None,
        insights: InsightChange | None = None,
    ) -> str | MessageGone | None:
        item = MessageItem(keys.message_pk(message.tenant_id, message.message_id), keys.MESSAGE_SK)
        mark = _mark_path(shard)
        actions = [getattr(MessageItem, count_attribute(tally)).add(n) for tally, n in sorted(delta.items())]
        actions += attention_actions(attention)
        actions += insight_actions(message, insights)
        mark_value = _mark_value(last, self._clock())
        actions.append(mark.set(mark_value))
        condition = MessageItem.pk.exists() & (mark.does_not_exist() | (mark < first))
        request = item.get_update_kwargs_from_instance(
            actions, condition, return_values_on_condition_failure="ALL_OLD"
        )
        try:
            response = _client().update_item(**request, ReturnValues="ALL_NEW")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != CONDITION_FAILED:
                raise TransientStoreError(f"count update of {message.message_id}: {error}") from error
            current = cast("Mapping[str, Any] | None", error.response.get("Item"))
            answer = self._mark_of(current, shard)
            if current and not isinstance(answer, MessageGone):
                # Counted already: its queue place may still be owed (a crash right after counting).
                self._settle(item, message, shard, current)
            return answer
        except BotoCoreError as error:
            raise TransientStoreError(f"count update of {message.message_id}: {error}") from error
        attributes = response.get("Attributes") or {}
        self._settle(item, message, shard, attributes)
        self._prune(item, shard, attributes)
        fold_links(item, message, attributes)
        return None

    def _settle(self, item: MessageItem, message: MessageKey, shard: str, raw: Mapping[str, Any]) -> None:
        """The message's place in the attention queue, derived from the item as the count update
        left it (or found it), written when it differs; conditioned on the shard's mark still being
        the one it was derived at (a later update settles from its own answer)."""
        actions = settle_actions(raw, message, self._stuck_after)
        mark = raw.get(MessageItem.projected.attr_name, {}).get("M", {}).get(shard, {}).get("S")
        if not actions or mark is None:
            return
        try:
            item.update(actions=actions, condition=_mark_path(shard) == mark)
        except UpdateError as error:
            if not is_condition_failure(error):
                raise TransientStoreError(f"attention of {message.message_id}: {error}") from error
            logger.info("attention not settled: the message changed meanwhile")

    @staticmethod
    def _mark_of(current: Mapping[str, Any] | None, shard: str) -> str | MessageGone:
        if not current:
            return MESSAGE_GONE
        marks = current.get(MessageItem.projected.attr_name, {}).get("M", {})
        value = marks.get(shard, {}).get("S")
        if value is None:
            raise TransientStoreError("count update refused without a mark: retry")
        return _mark_parts(str(value))[0]

    def _prune(self, item: MessageItem, shard: str, attributes: Mapping[str, Any]) -> None:
        """Remove the marks of shards that no record can come from any more (rare: a message's
        partition moves to a new shard every few hours while it gets events)."""
        marks = attributes.get(MessageItem.projected.attr_name, {}).get("M", {})
        now = self._clock()
        stale = {
            name: value["S"]
            for name, value in marks.items()
            if name != shard
            and "S" in value
            and (written := _mark_parts(value["S"])[1]) is not None
            and now - written > MARK_STALE_AFTER
        }
        if not stale:
            return
        entries = [_mark_path(name) for name in sorted(stale)]
        condition = MessageItem.pk.exists()
        for entry, name in zip(entries, sorted(stale), strict=True):
            condition &= entry == stale[name]
        try:
            item.update(actions=[entry.remove() for entry in entries], condition=condition)
        except Exception:  # a concurrent write moved a mark: the next update prunes again
            logger.info("stale shard marks not pruned", exc_info=True)
