"""Addresses: the one normaliser (tracker.domain.ids.normalize_email) and what the send API accepts
(tracker.models.send.EmailAddress): RFC 5321 lengths, no display names, IDNA domains stored in
their ASCII form, an ASCII local part."""

from __future__ import annotations

from typing import Any

import email_validator
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tracker.domain.ids import normalize_email
from tracker.models.send import EmailAddress

ADDRESS: TypeAdapter[Any] = TypeAdapter(EmailAddress)
DOMAIN_189 = f"{'d' * 63}.{'e' * 63}.{'f' * 57}.com"


@pytest.mark.parametrize(
    ("address", "normal"),
    [
        ("  Ann.Lee@Example.COM ", "ann.lee@example.com"),
        ("a@xn--bcher-kva.ch", "a@xn--bcher-kva.ch"),
        ("a@bücher.ch", "a@xn--bcher-kva.ch"),
        ("A@BÜCHER.CH", "a@xn--bcher-kva.ch"),
        ("a@faß.de", "a@xn--fa-hia.de"),  # IDNA 2008 (UTS 46 non-transitional): ß stays ß
        ("a@bücher。ch", "a@xn--bcher-kva.ch"),  # an ideographic full stop separates labels too
        ("a@ü@x.com", "a@ü@x.com"),  # not an address: lowercased, left to the validators
    ],
)
def test_the_normaliser_trims_lowercases_and_writes_the_domain_in_ascii(address: str, normal: str) -> None:
    assert normalize_email(address) == normal


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "a@",
        "@",
        "a@-ü-.com",
        "a@ü..com",
        "a@" + "ü" * 10_000,
        "ü@" + "\ud800.com",
        "a@\u0000ü",
    ],
)
def test_the_normaliser_is_total_on_what_it_cannot_encode(address: str) -> None:
    normal = normalize_email(address)
    assert normal == address.strip().lower() or normal.isascii()


@settings(max_examples=200, derandomize=True, database=None)
@given(st.text(max_size=80))
def test_the_normaliser_never_raises_and_is_idempotent(address: str) -> None:
    once = normalize_email(address)
    assert normalize_email(once) == once


@pytest.mark.parametrize(
    "domain", ["bücher.ch", "München.DE", "xn--bcher-kva.ch", "例え.jp", "faß.de", "ΕΛΛΑΣ.gr"]
)
def test_the_normaliser_writes_domains_as_email_validator_does(domain: str) -> None:
    validated = email_validator.validate_email(f"a@{domain}", check_deliverability=False)
    assert normalize_email(f"a@{domain}") == f"a@{validated.ascii_domain}"


@pytest.mark.parametrize(
    ("address", "stored"),
    [
        ("Ann@Example.com", "ann@example.com"),
        ("a@xn--bcher-kva.ch", "a@xn--bcher-kva.ch"),
        ("a@bücher.ch", "a@xn--bcher-kva.ch"),
        (f"{'a' * 64}@example.com", f"{'a' * 64}@example.com"),
        (f"{'a' * 64}@{DOMAIN_189}", f"{'a' * 64}@{DOMAIN_189}"),  # 254 octets
    ],
)
def test_sendable_addresses_are_stored_in_their_ascii_form(address: str, stored: str) -> None:
    assert ADDRESS.validate_python(address) == stored


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("Name <a@example.com>", "display name"),
        ('"Ann Lee" <a@example.com>', "display name"),
        ("<a@example.com>", "display name"),
        (f"{'a' * 65}@example.com", "too long before the @-sign"),
        (f"{'a' * 65}@{DOMAIN_189}", "too long"),  # 255 octets
        (f"a@{'b' * 64}.com", "so many characters"),  # a DNS label is at most 63 octets
        ("jürgen@example.com", "before the @ must be ASCII"),
        ("jürgen@bücher.ch", "before the @ must be ASCII"),
        ("a@example", "period"),
        ("a b@example.com", "invalid characters"),
    ],
)
def test_addresses_we_cannot_send_to_are_refused_saying_why(address: str, says: str) -> None:
    with pytest.raises(ValidationError) as error:
        ADDRESS.validate_python(address)
    assert says in error.value.errors()[0]["msg"], error.value.errors()[0]["msg"]
