"""The download of Apple's list (stdlib urllib) against a local HTTPS server: TLS verified (chain
and host name), https only (also after a redirect), a timeout, a bounded size, the whole body or
nothing, and every failure as ReferenceDataError naming its cause."""

from __future__ import annotations

import http.server
import ssl
import time
from collections.abc import Iterator

import pytest

from tests.apple_ranges import egress_csv
from tests.https_server import LocalHttps, Route, answer, https_server
from tracker.dal.apple_feed import HttpAppleRangesFeed
from tracker.domain.errors import ReferenceDataError

LIST = egress_csv(["172.224.224.0/27", "2a02:26f7:b3c0:4000::/64"])
MAX_BYTES = 4096


def without_length(body: bytes) -> Route:
    """A body delimited by closing the connection (HTTP/1.0 style), as some servers send."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    return route


def slow(handler: http.server.BaseHTTPRequestHandler) -> None:
    time.sleep(3)
    answer(200, LIST.encode())(handler)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHttps]:
    routes: dict[str, Route] = {
        "/list": answer(200, LIST.encode(), {"Content-Type": "text/csv"}),
        "/unavailable": answer(503, b"<html>Service Unavailable</html>"),
        "/declared-too-big": answer(200, b"x" * 10, length=MAX_BYTES + 1),
        "/too-big": without_length(b"1.2.3.0/24,US,,,\n" * (MAX_BYTES // 16 + 1)),
        "/short": answer(200, LIST.encode()[:20], length=len(LIST)),
        "/binary": answer(200, b"\xff\xfe\x00bad"),
        "/to-http": answer(302, b"", {"Location": "http://127.0.0.1:1/list"}),
        "/slow": slow,
    }
    with https_server(tmp_path_factory.mktemp("tls"), routes) as running:
        routes["/to-https"] = answer(302, b"", {"Location": running.url("/list")})
        yield running


def feed(
    server: LocalHttps, path: str, *, host: str = "127.0.0.1", trusted: bool = True
) -> HttpAppleRangesFeed:
    return HttpAppleRangesFeed(
        server.url(path, host),
        timeout_seconds=0.5 if path == "/slow" else 10,
        max_bytes=MAX_BYTES,
        tls=server.trusting_context() if trusted else None,
    )


def test_the_list_is_downloaded_whole_as_text(server: LocalHttps) -> None:
    assert feed(server, "/list").download() == LIST
    assert feed(server, "/to-https").download() == LIST  # a redirect that stays on https


def test_the_default_context_verifies_the_certificate_chain(server: LocalHttps) -> None:
    default = HttpAppleRangesFeed(server.url("/list"), timeout_seconds=10, max_bytes=MAX_BYTES)
    assert default.tls.verify_mode is ssl.CERT_REQUIRED
    assert default.tls.check_hostname
    with pytest.raises(ReferenceDataError, match="CERTIFICATE_VERIFY_FAILED"):
        feed(server, "/list", trusted=False).download()


def test_a_certificate_for_another_host_is_refused(server: LocalHttps) -> None:
    with pytest.raises(ReferenceDataError, match="Hostname mismatch"):
        feed(server, "/list", host="localhost").download()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/unavailable", "HTTP 503"),
        ("/declared-too-big", f"{MAX_BYTES + 1} bytes declared, more than {MAX_BYTES}"),
        ("/too-big", f"more than {MAX_BYTES} bytes"),
        ("/short", "IncompleteRead|of .* bytes received"),
        ("/binary", "not UTF-8"),
        ("/to-http", "redirects to http://127.0.0.1:1/list, which is not https"),
        ("/slow", "timed out"),
    ],
)
def test_a_failed_download_is_refused_naming_why(server: LocalHttps, path: str, message: str) -> None:
    with pytest.raises(ReferenceDataError, match=message):
        feed(server, path).download()


def test_only_https_urls_are_accepted() -> None:
    for url in (
        "http://mask-api.icloud.com/egress-ip-ranges.csv",
        "file:///etc/passwd",
        "ftp://example.com/x",
    ):
        with pytest.raises(ValueError, match="https only"):
            HttpAppleRangesFeed(url, timeout_seconds=1, max_bytes=1)
