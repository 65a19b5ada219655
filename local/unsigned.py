"""Requests to the emulator without computing their SigV4 signature.

moto does not check signatures; it reads only the credential scope of the Authorization header
(which service, which region, which access key: the account). Computing the signature (a
canonical request, a hash of the body, four HMACs) was ~10% of local mode's CPU under load, for
a value nobody reads. In local mode's process the SDK's SigV4 signer therefore writes the same
headers with the same scope and a placeholder signature. Only local mode installs this: what
runs in AWS signs as always.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore import auth
from botocore.exceptions import NoCredentialsError

PLACEHOLDER_SIGNATURE = "0" * 64


def _add_auth(signer: Any, request: Any) -> None:
    if signer.credentials is None:
        raise NoCredentialsError()
    request.context["timestamp"] = datetime.now(UTC).strftime(auth.SIGV4_TIMESTAMP)
    signer._modify_request_before_signing(request)  # the date and token headers, as signed
    signer._inject_signature_to_request(request, PLACEHOLDER_SIGNATURE)


@contextmanager
def placeholder_signatures() -> Iterator[None]:
    """SigV4 requests carry a placeholder signature while the context is open."""
    original = auth.SigV4Auth.add_auth
    auth.SigV4Auth.add_auth = _add_auth  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        auth.SigV4Auth.add_auth = original  # type: ignore[method-assign]


def install() -> None:
    """For the rest of this process (local mode's: it talks to the emulator only). A plain
    assignment: an entered context manager nobody holds is collected at once, and its exit
    restored the real signer (local mode signed every request all the same)."""
    auth.SigV4Auth.add_auth = _add_auth  # type: ignore[method-assign,assignment]
