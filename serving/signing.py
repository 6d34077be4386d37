"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>.<body>"`` with the endpoint's secret.

Header ``Meterverify-Signature: t=<unix seconds>,v1=<hex digest>``. A receiver recomputes the digest over the
raw body, compares in constant time and refuses old timestamps (replays). ``verify`` is the reference.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Meterverify-Signature"
EVENT_HEADER = "Meterverify-Event-Id"
TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(
    secret: str, body: bytes, header: str, tolerance_s: int = TOLERANCE_S, now: float | None = None
) -> bool:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))
