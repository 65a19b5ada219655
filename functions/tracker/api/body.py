"""How a request body is read: its media type, size and encoding, then its JSON.

Powertools' request validation reads bodies itself, and only accepts a Content-Type that starts
with the lowercase ``application/json`` (anything else it does not know is an unmapped error: a
500). ``BodyReadingValidation`` is that same validation with our rules for the body:

* **Media type** (RFC 9110 8.3.1: type, subtype and the charset value are case-insensitive):
  ``application/json`` and every ``application/<name>+json`` type (RFC 6839 3.1: the suffix says
  the content is JSON, so a JSON parser reads it; what the body means is still the route's
  schema, which refuses anything that is not a message). ``charset`` may be absent or ``utf-8``
  only (RFC 8259 8.1: JSON between systems is UTF-8). Anything else, forms included, is a 415
  with ``Accept: application/json``. Without a Content-Type the body is examined as JSON (RFC
  9110 8.3 lets a recipient do so); without a body there is nothing to type.
* **Size**: at most ``MAX_REQUEST_BYTES`` (UTF-8 bytes, after base64 decoding), else a 413. The
  largest body the send schema admits (500 recipients with every field at its limit, 256 KiB of
  content, every character escaped the longest way JSON allows) is about 3.0 MB; 4 MiB leaves
  room for white space and stays under Lambda's 6 MB synchronous payload (API Gateway allows 10 MB,
  but a larger event never reaches the function).
* **Encoding**: a body that is not UTF-8 is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from email.message import Message
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from tracker.api.errors import ProtocolError
from tracker.domain.errors import InvalidRequestError

MAX_REQUEST_BYTES = 4 * 1024 * 1024
JSON_MEDIA_TYPE = "application/json"
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/*+json``, in any case, with no charset but UTF-8."""
    header = Message()
    header["Content-Type"] = content_type
    media_type = header.get_content_type()  # lowercase; "text/plain" when the value is no media type
    charset = header.get_param("charset")
    maintype, _, subtype = media_type.partition("/")
    json_syntax = media_type == JSON_MEDIA_TYPE or (
        maintype == "application" and subtype.endswith("+json") and len(subtype) > len("+json")
    )
    return json_syntax and (charset is None or (isinstance(charset, str) and charset.lower() in _UTF8_NAMES))


def unsupported_media_type(content_type: str) -> ProtocolError:
    return ProtocolError(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        f"the body must be JSON in UTF-8 ({JSON_MEDIA_TYPE} or a +json type), not {content_type[:100]!r}",
        headers={"Accept": JSON_MEDIA_TYPE},
    )


def body_text(event: BaseProxyEvent) -> str | None:
    """The body as text: its media type checked, its size bounded, base64 decoded, UTF-8."""
    raw = event.body
    if not raw:
        return None
    content_type = event.headers.get("content-type", "").strip()
    if content_type and not is_json_media_type(content_type):
        raise unsupported_media_type(content_type)
    data = _bytes_of(raw, base64_encoded=bool(event.is_base64_encoded))
    if len(data) > MAX_REQUEST_BYTES:
        raise ProtocolError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the body is {len(data)} bytes; at most {MAX_REQUEST_BYTES} are accepted",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequestError("the body is not valid UTF-8", field="body") from error


def _bytes_of(raw: str, *, base64_encoded: bool) -> bytes:
    if base64_encoded:
        try:
            return base64.b64decode(raw, validate=True)
        except binascii.Error as error:
            raise InvalidRequestError("the body is marked base64 but is not base64", field="body") from error
    try:
        return raw.encode("utf-8")
    except UnicodeEncodeError as error:  # lone surrogates: no UTF-8 sequence holds them
        raise InvalidRequestError("the body is not valid UTF-8", field="body") from error


class BodyReadingValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, with the body read by the rules above."""

    def _get_body(self, app: Any) -> Any:
        text = body_text(app.current_event)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            # The error Powertools raises for a body that is not JSON: a 400 naming the position.
            raise RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", error.pos),
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": error.msg},
                    }
                ]
            ) from error
