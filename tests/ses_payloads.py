"""Real SES payloads aimed at seeded recipients: the guide's examples (`tests/fixtures/ses/`) and the
builders' events (`tests/ses_builders.py`, through `tests.strategies`), as valid records that must
apply; and the names of their parts (type-specific objects, recipient lists, time fields)."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests import ses_builders as b
from tests.strategies import SENT_AT, Target, labelled_events
from tracker.models.ses import parse_ses_timestamp

FIXTURES = Path(__file__).parent / "fixtures" / "ses"
FIXTURE_NAMES = tuple(sorted(path.name for path in FIXTURES.glob("*.json")))

# The type-specific object of each record type, and where its recipient list is.
TYPE_KEYS = {
    "Send": "send",
    "Delivery": "delivery",
    "Open": "open",
    "Click": "click",
    "Bounce": "bounce",
    "Complaint": "complaint",
    "Reject": "reject",
    "Rendering Failure": "failure",
    "DeliveryDelay": "deliveryDelay",
    "Subscription": "subscription",
}
RECIPIENT_LISTS = {
    "bounce": "bouncedRecipients",
    "complaint": "complainedRecipients",
    "deliveryDelay": "delayedRecipients",
}
TIME_KEYS = frozenset({"timestamp", "expirationTime", "arrivalDate"})
ADDRESS_KEYS = frozenset({"destination", "recipients", "emailAddress", "to", "from", "source"})


def type_key(record: Mapping[str, Any]) -> str:
    name = record.get("eventType", record.get("notificationType"))
    return TYPE_KEYS[str(name)]


# --- good records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GoodEvent:
    """A valid SES record for one seeded recipient, and where it came from."""

    label: str
    record: dict[str, Any]


@functools.cache
def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def retarget(name: str, target: Target, minutes: int) -> dict[str, Any]:
    """The guide's example ``name`` as SES would publish it for ``target``: its SES message id, its
    address only, our tags (identity notifications carry none) and times moved to our send, the
    event ``minutes`` after it."""
    record = copy.deepcopy(_fixture(name))
    mail = record["mail"]
    shift = SENT_AT - parse_ses_timestamp(mail["timestamp"])
    mail["messageId"] = target.ses_message_id
    mail["destination"] = [target.email]
    if "commonHeaders" in mail:
        mail["commonHeaders"]["messageId"] = target.ses_message_id
        mail["commonHeaders"]["to"] = [target.email]
    if "tags" in mail:
        mail["tags"].update(
            {k: [v] for k, v in b.tags_for(target.tenant_id, target.message_id, target.recipient_id).items()}
        )
    section = record[type_key(record)]
    if "recipients" in section:
        section["recipients"] = [target.email]
    if (listed := RECIPIENT_LISTS.get(type_key(record))) is not None:
        section[listed] = [{**section[listed][0], "emailAddress": target.email}]
    for container in (mail, section):
        for key in TIME_KEYS & container.keys():
            moved = parse_ses_timestamp(container[key]) + shift
            if container is section and key == "timestamp":
                moved += timedelta(minutes=minutes)
            container[key] = b.ses_timestamp(moved)
    return record


def good_events(targets: Sequence[Target]) -> st.SearchStrategy[GoodEvent]:
    """Valid, tagged SES records (identity notifications untagged, as SES sends them) for ``targets``:
    the builders' events and the guide's examples."""
    built = labelled_events(targets, tagged=True).map(lambda labelled: GoodEvent(*labelled))
    examples = st.builds(
        lambda name, target, minutes: GoodEvent(
            f"{name} {target.message_id}/{target.recipient_id} +{minutes}min",
            retarget(name, target, minutes),
        ),
        st.sampled_from(FIXTURE_NAMES),
        st.sampled_from(list(targets)),
        st.integers(0, 240),
    )
    return st.one_of(built, examples)
