"""The HTTP server's own refusals, before the app sees a request (a malformed request line, a header too
large), in the API's error shape instead of uvicorn's plain text."""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol


class JsonErrorsH11(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"detail": {"code": "bad_request", "message": msg[:80]}}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=STATUS_PHRASES[400]),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()
