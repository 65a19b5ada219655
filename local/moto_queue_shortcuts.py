"""Shortcuts in moto's SQS and SNS bookkeeping: part of ``local.moto_shortcuts``' set, kept
honest by the same differential test (``tests/integration/test_moto_shortcuts.py``).

* ``single_pass_queues``: SQS requests scan a queue once, not several times per message handled;
* ``one_certificate_per_subscription``: SNS signs notifications with one certificate per
  subscription instead of building a new one for every notification;
* ``one_attribute_per_send``: a ``SendMessage`` (and every notification SNS delivers to a queue)
  reads the queue's ``ContentBasedDeduplication`` setting, and moto computes *every* queue
  attribute for it, three of them by scanning the queue: half of a ``PublishBatch``'s CPU with
  a thousand messages waiting. During a send the setting is read alone.
"""

from __future__ import annotations

import base64
import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def single_pass_queues() -> Iterator[None]:
    """moto's SQS rescans the whole queue several times per request, reading the clock through
    datetime arithmetic for every message: every SendMessage computes all queue attributes (three
    scans, for one FIFO setting), every received message re-reads the retention period through
    them, and a DeleteMessage scans twice. With a 2,000-message backlog a SendMessage took ~25 ms.
    Here the clock is ``time.time()`` (the same instant moto's datetime arithmetic computes), a
    scan reads it once, the retention period is read from the queue, and a delete finds its
    message by its receipt handle (remembered when it was issued) instead of scanning."""
    sqs: Any = importlib.import_module("moto.sqs.models")
    queue_class, backend_class = sqs.Queue, sqs.SQSBackend
    originals = {
        "unix_time": sqs.unix_time,
        "unix_time_millis": sqs.unix_time_millis,
    }
    queue_originals = {
        name: queue_class.__dict__[name]
        for name in (
            "messages",
            "approximate_number_of_messages_delayed",
            "approximate_number_of_messages_not_visible",
            "delete_message",
        )
    }
    retention_original = backend_class.is_message_valid_based_on_retention_period

    def unix_time(dt: Any = None) -> float:
        return originals["unix_time"](dt) if dt is not None else round(time.time(), 6)

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    def messages(queue: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed(queue: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in queue._messages if now < m.delayed_until)

    def not_visible(queue: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in queue._messages if not now > m.visible_at)

    # The message each receipt handle was issued for (handles are random and never reissued): a
    # delete finds its message without asking every message of the queue for its handles.
    issued: dict[str, Any] = {}
    mark_received_original = sqs.Message.mark_received

    def mark_received(message: Any, visibility_timeout: int | None = None) -> None:
        mark_received_original(message, visibility_timeout)
        issued[message.receipt_handle] = message

    def delete_message(queue: Any, receipt_handle: str) -> None:
        if receipt_handle in queue.deleted_messages:
            return  # already deleted: moto accepts it again
        message = issued.get(receipt_handle)
        if message is not None and message in queue._messages:  # identity: Message has no __eq__
            queue._messages.remove(message)
            queue.pending_messages.discard(message)
            handles = message.all_receipt_handles
            queue.deleted_messages.update(handles)
            for handle in handles:
                issued.pop(handle, None)
            return
        kept: list[Any] = []
        deleted: list[Any] = []
        for message in queue._messages:
            (deleted if message.had_receipt_handle(receipt_handle) else kept).append(message)
        if not deleted:
            raise sqs.ReceiptHandleIsInvalid()
        for message in deleted:
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
        queue._messages = kept

    def retained(backend: Any, queue_name: str, message: Any) -> bool:
        retention_period = backend.get_queue(queue_name).message_retention_period
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    sqs.unix_time, sqs.unix_time_millis = unix_time, unix_time_millis
    queue_class.messages = property(messages)
    queue_class.approximate_number_of_messages_delayed = property(delayed)
    queue_class.approximate_number_of_messages_not_visible = property(not_visible)
    queue_class.delete_message = delete_message
    sqs.Message.mark_received = mark_received
    backend_class.is_message_valid_based_on_retention_period = retained
    try:
        yield
    finally:
        sqs.Message.mark_received = mark_received_original
        sqs.unix_time, sqs.unix_time_millis = originals["unix_time"], originals["unix_time_millis"]
        for name, value in queue_originals.items():
            setattr(queue_class, name, value)
        backend_class.is_message_valid_based_on_retention_period = retention_original


SIGNING_KEY_BITS = 1024


@contextmanager
def one_certificate_per_subscription() -> Iterator[None]:
    """moto's SNS builds and signs a new X.509 certificate for every notification it delivers to
    a queue (and keeps every one of them). Real SNS signs each notification with a key whose
    certificate stays at one ``SigningCertURL`` for a long time; here each subscription builds its
    certificate once and signs every notification with it, in moto's format. The key is RSA-1024,
    not RSA-2048 as SNS's: signing was ~1.5 ms per notification, the largest single cost of an SES
    event in the emulator, for a signature nothing in local mode verifies; it still verifies
    against the certificate served at ``SigningCertURL`` (the differential test checks both)."""
    sns: Any = importlib.import_module("moto.sns.models")
    subscription_class = sns.Subscription
    original = subscription_class.get_post_data
    certificates: dict[int, tuple[str, Any]] = {}

    def signing_key_of(subscription: Any) -> tuple[str, Any]:
        if id(subscription) not in certificates:
            key = sns.rsa.generate_private_key(public_exponent=65537, key_size=SIGNING_KEY_BITS)
            issuer = [
                sns.NameAttribute(sns.NameOID.COUNTRY_NAME, "US"),
                sns.NameAttribute(sns.NameOID.ORGANIZATION_NAME, "Amazon"),
                sns.NameAttribute(sns.NameOID.COMMON_NAME, "Amazon RSA 2048 M01"),
            ]
            certificate = (
                sns.cryptography.x509.CertificateBuilder()
                .subject_name(sns.Name([sns.NameAttribute(sns.NameOID.COMMON_NAME, "sns.amazonaws.com")]))
                .issuer_name(sns.Name(issuer))
                .public_key(key.public_key())
                .serial_number(sns.cryptography.x509.random_serial_number())
                .not_valid_before(sns.utcnow())
                .not_valid_after(sns.utcnow() + sns.timedelta(days=365))
                .sign(key, sns.hashes.SHA256())
            )
            name = f"SimpleNotificationService-{str(sns.mock_random.uuid4()).replace('-', '')}.pem"
            region = subscription.topic.sns_backend.region_name
            default_backend = sns.sns_backends[sns.DEFAULT_ACCOUNT_ID][region]
            default_backend._message_public_keys[name] = certificate.public_bytes(
                sns.serialization.Encoding.PEM
            )
            certificates[id(subscription)] = (name, key)
        return certificates[id(subscription)]

    def get_post_data(
        subscription: Any,
        message: str,
        message_id: str,
        subject: str | None,
        message_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        key_name, key = signing_key_of(subscription)
        topic = subscription.topic
        timestamp = sns.iso_8601_datetime_with_milliseconds()
        string_to_sign = (
            f"Message\n{message}\nMessageId\n{message_id}\nTimestamp\n{timestamp}\n"
            f"TopicArn\n{topic.arn}\nType\nNotification\n"
        )
        signature = key.sign(string_to_sign.encode("UTF-8"), sns.padding.PKCS1v15(), sns.hashes.SHA256())
        region = topic.sns_backend.region_name
        post_data: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic.arn,
            "Message": message,
            "Timestamp": timestamp,
            "SignatureVersion": "2",
            "Signature": base64.b64encode(signature).decode("utf-8"),
            "SigningCertURL": f"https://sns.{region}.amazonaws.com/{key_name}",
            "UnsubscribeURL": (
                "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:"
                f"us-east-1:{subscription.account_id}:{topic.name}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"
            ),
        }
        if subject:
            post_data["Subject"] = subject
        if message_attributes:
            post_data["MessageAttributes"] = message_attributes
        return post_data

    subscription_class.get_post_data = get_post_data
    try:
        yield
    finally:
        subscription_class.get_post_data = original


class _Attributes:
    """A queue's attributes as a send reads them: ``ContentBasedDeduplication`` computed alone, as
    moto's ``attributes`` property writes it; anything else asks the property."""

    def __init__(self, queue: Any, full: Any) -> None:
        self._queue, self._full = queue, full

    def get(self, name: str, default: Any = None) -> Any:
        if name != "ContentBasedDeduplication":
            return self._full.fget(self._queue).get(name, default)
        if not self._queue.fifo_queue:
            return default  # a standard queue's attributes do not have it
        value = self._queue.content_based_deduplication
        return str(value).lower() if isinstance(value, bool) else value

    def __getitem__(self, name: str) -> Any:
        return self._full.fget(self._queue)[name]

    def __contains__(self, name: object) -> bool:
        return name in self._full.fget(self._queue)


@contextmanager
def one_attribute_per_send() -> Iterator[None]:
    """``SQSBackend.send_message`` with the queue's ``attributes`` read as ``_Attributes``."""
    sqs: Any = importlib.import_module("moto.sqs.models")
    queue_class, backend_class = sqs.Queue, sqs.SQSBackend
    full, original = queue_class.__dict__["attributes"], backend_class.send_message
    light = property(lambda queue: _Attributes(queue, full))

    def send_message(backend: Any, *args: Any, **kwargs: Any) -> Any:
        queue_class.attributes = light  # requests reach moto one at a time
        try:
            return original(backend, *args, **kwargs)
        finally:
            queue_class.attributes = full

    backend_class.send_message = send_message
    try:
        yield
    finally:
        backend_class.send_message = original


SHORTCUTS = (single_pass_queues, one_certificate_per_subscription, one_attribute_per_send)
