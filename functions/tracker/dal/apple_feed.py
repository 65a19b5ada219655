"""Apple's published egress list over HTTPS (``logic.ports.AppleRangesFeed``).

The standard library's ``urllib`` is enough for one GET of one file a day, so the layer carries
no HTTP client for it. What it adds to a bare ``urlopen``: TLS with certificate and host name
verification (the default context, also after a redirect, which must stay on https), a timeout
on every socket operation, a bound on the body's size (checked against Content-Length before
reading and while reading), and every failure as ``ReferenceDataError`` naming the cause.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request
from typing import IO, Any

from tracker import constants
from tracker.domain.errors import ReferenceDataError

USER_AGENT = f"{constants.SERVICE_NAME} (Apple ranges refresh)"


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not newurl.startswith("https://"):
            raise ReferenceDataError(f"{req.full_url} redirects to {newurl}, which is not https")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class HttpAppleRangesFeed:
    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float,
        max_bytes: int,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if not url.startswith("https://"):
            raise ValueError(f"Apple's list is fetched over https only, not from {url!r}")
        self.url = url
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        # The default context verifies the certificate chain and the host name.
        self.tls = tls or ssl.create_default_context()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self.tls), _HttpsOnlyRedirects()
        )

    def download(self) -> str:
        # The scheme is https, checked in __init__ and on every redirect.
        request = urllib.request.Request(  # noqa: S310
            self.url,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "text/csv, text/plain",
                "Accept-Encoding": "identity",
            },
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                body = self._bounded_body(response)
        except ReferenceDataError:
            raise
        except urllib.error.HTTPError as error:
            raise ReferenceDataError(f"{self.url}: HTTP {error.code} {error.reason}") from error
        except urllib.error.URLError as error:
            raise ReferenceDataError(f"{self.url}: {error.reason}") from error
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise ReferenceDataError(f"{self.url}: {type(error).__name__}: {error}") from error
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ReferenceDataError(f"{self.url}: the body is not UTF-8 text ({error})") from error

    def _bounded_body(self, response: Any) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared is not None and int(declared) > self._max_bytes:
            raise ReferenceDataError(f"{self.url}: {declared} bytes declared, more than {self._max_bytes}")
        body: bytes = response.read(self._max_bytes + 1)
        if len(body) > self._max_bytes:
            raise ReferenceDataError(f"{self.url}: more than {self._max_bytes} bytes")
        if declared is not None and len(body) != int(declared):
            raise ReferenceDataError(f"{self.url}: {len(body)} of {declared} bytes received")
        return body
