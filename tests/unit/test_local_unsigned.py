"""Local mode's placeholder signatures (local/unsigned.py): the headers the emulator reads (the
credential scope: service, region, access key) are those a real signature carries."""

from __future__ import annotations

import re

import pytest
from botocore import auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local import unsigned
from local.unsigned import PLACEHOLDER_SIGNATURE, placeholder_signatures

HEADER = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<scope>\S+), SignedHeaders=(?P<signed>\S+), Signature=(?P<sig>\w+)"
)


def authorization(token: str | None = None) -> tuple[dict[str, str], re.Match[str]]:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:5000/",
        data=b'{"TableName": "t"}',
        headers={"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0"},
    )
    SigV4Auth(Credentials("local", "secret", token), "dynamodb", "us-east-1").add_auth(request)
    found = HEADER.fullmatch(request.headers["Authorization"])
    assert found is not None
    return dict(request.headers.items()), found


def test_a_placeholder_signature_keeps_the_scope_and_headers_of_a_real_one() -> None:
    real_headers, real = authorization(token="session")
    with placeholder_signatures():
        headers, placeholder = authorization(token="session")
    assert placeholder["sig"] == PLACEHOLDER_SIGNATURE != real["sig"]
    assert placeholder["scope"].split("/")[2:] == ["us-east-1", "dynamodb", "aws4_request"]
    assert placeholder["scope"].split("/")[0] == "local"
    assert (placeholder["scope"], placeholder["signed"]) == (real["scope"], real["signed"])
    assert set(headers) == set(real_headers)  # X-Amz-Date and the session token too


def test_outside_the_context_requests_are_signed() -> None:
    with placeholder_signatures():
        pass
    assert authorization()[1]["sig"] != PLACEHOLDER_SIGNATURE


def test_install_keeps_placeholder_signatures_for_the_rest_of_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth.SigV4Auth, "add_auth", auth.SigV4Auth.add_auth)  # undone after the test
    unsigned.install()
    assert authorization()[1]["sig"] == PLACEHOLDER_SIGNATURE
