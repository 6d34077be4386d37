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
