"""Webhook signatures and the retry schedule."""

from __future__ import annotations

from serving import signing
from serving.delivery import backoff_s


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"id":"e1","data":{"status":"accepted"}}'
    header = signing.sign("whsec_x", body, timestamp=1_800_000_000)
    assert signing.verify("whsec_x", body, header, now=1_800_000_010)
    assert not signing.verify("whsec_y", body, header, now=1_800_000_010)  # wrong secret
    assert not signing.verify("whsec_x", body.replace(b"accepted", b"rejected"), header, now=1_800_000_010)
    assert not signing.verify("whsec_x", body, header, now=1_800_000_000 + 301)  # a replay, too old
    assert not signing.verify("whsec_x", body, "garbage")
    forged = header.replace("t=1800000000", "t=1800000100")  # a fresh timestamp does not fit the digest
    assert not signing.verify("whsec_x", body, forged, now=1_800_000_100)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_s(n, 2, 60) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def test_a_redirect_is_a_failed_delivery_not_followed() -> None:
    """A receiver answering 302 must not count as delivered, nor be followed with a GET elsewhere."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from serving.config import Settings
    from serving.delivery import _post

    seen: list[str] = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            seen.append(f"POST {self.path}")
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            seen.append(f"GET {self.path}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        settings = Settings(webhook_allowed_hosts=["127.0.0.1"], webhook_timeout_s=5)
        status, why = _post(url, b"{}", "secret", "evt_1", settings)
    finally:
        server.shutdown()
    assert status == 302 and why == "HTTP 302"
    assert seen == ["POST /hook"]
