"""A webhook receiver for local mode: prints every event POSTed to it, with the secret header.

    python3 -m local.webhook_echo 9000

then register ``http://127.0.0.1:9000/hook`` with PUT /webhook (``make run`` prints the call)."""

from __future__ import annotations

import http.server
import json
import sys

# tracker.constants.WEBHOOK_SECRET_HEADER (this script runs without the functions' path).
SECRET_HEADER = "X-Tracker-Webhook-Secret"  # noqa: S105 - a header name


class Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        secret = self.headers.get(SECRET_HEADER)
        try:
            shown = json.dumps(json.loads(body), indent=2)
        except ValueError:
            shown = body.decode("utf-8", "replace")
        print(f"{self.path} ({SECRET_HEADER}: {secret})\n{shown}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else 9000
    print(f"webhook receiver on http://127.0.0.1:{port}/ (Ctrl+C stops)", flush=True)
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Echo).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
