"""Procedure v2: nobody can steer the draw, the operator included (issue 21's findings, one test each), on a
drand chain of the test's own (a BLS key pair made here) and on the League of Entropy's real chain."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from draw import v2
from draw.beacon import DEFAULT, Beacon, BeaconError, randomness
from draw.verify import verify
from tests.draw.chain import TestChain

OPENS = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)  # 1 Dec, 00:00 in India
CLOSE_FROM = OPENS + timedelta(days=5, hours=72)
CLOSE_BY = CLOSE_FROM + timedelta(hours=48)
RECEIPTS = [f"receipt-{i:03d}-{'x' * 20}" for i in range(40)]


@pytest.fixture(scope="module")
def chain() -> TestChain:
    return TestChain()


def _commit(chain: TestChain, committed_at: datetime = OPENS - timedelta(days=2), winners: int = 3,
            reserves: int = 2) -> v2.Commitment:  # fmt: skip
    return v2.commit("msedcl", "2026-12", committed_at, OPENS, CLOSE_FROM, CLOSE_BY, winners, reserves,
                     chain.chain)  # fmt: skip


def _draw(chain: TestChain, receipts=RECEIPTS, **commit_args):
    c = _commit(chain, **commit_args)
    entries = v2.public_entries(receipts)
    beacon = chain.round(c.statement["beacon"]["round"])
    report = v2.run(c, CLOSE_FROM + timedelta(hours=1), entries, beacon, randomness(chain.chain, beacon))
    return c, entries, report


def _check(chain: TestChain, report: dict, entries: bytes, commitment: str, entries_sha256: str) -> list[str]:
    return [
        f.check
        for f in verify(report, entries, commitment, entries_sha256, {chain.chain.chain_hash: chain.chain})
    ]


def test_the_real_default_chain_round_verifies_and_a_changed_one_does_not() -> None:
    # Round 162810 of the League of Entropy's default chain, as api.drand.sh published it.
    real = Beacon(
        162810,
        "8aee2fb6c79704f54c164ee9fcab89a16e83f843e8d483ba7002c3aee222812263a2e9225ad2e32b80acefe1f066d3db17eb"
        "c4cd2a25e5f7975575c94316851113e674056b0eecb515a01ca62f7a370a5d6d26828dd02243041cab8d33ad4796",
        "ac27db9e31f65fed65130667dcb323ad2745fa5901f6f8b82f39e3707cd13150d9c25c412f02f32cc9561466d7abbec808a3"
        "1899d4768d2429c3a83d21d41928399b9a6e1e74873069990210ee57c0bc049af5dc1ef0b1b394caade1d77f4c0d",
    )
    assert randomness(DEFAULT, real) == "646c742faded02ebeb15fcb1c34314ed566381df59b90b28ba5af8b12b959c2d"
    with pytest.raises(BeaconError):
        randomness(DEFAULT, Beacon(162811, real.signature, real.previous_signature))
    assert DEFAULT.round_time(162810) == datetime.fromtimestamp(1595431050 + 162809 * 30, UTC)
    moment = DEFAULT.round_time(162810) + timedelta(seconds=1)
    assert DEFAULT.first_round_after(moment) == 162811  # emitted after the moment, never at or before it


def test_a_fair_draw_verifies_with_the_published_values_and_runs_again_identically(chain: TestChain) -> None:
    c, entries, report = _draw(chain)
    digest = hashlib.sha256(entries).hexdigest()
    assert _check(chain, report.to_dict(), entries, c.digest, digest) == []
    # Finding 4: every input was fixed before; a second run gives the same report, byte for byte.
    _, _, again = _draw(chain)
    again_c = v2.Commitment(c.statement, c.seed)
    beacon = Beacon.from_dict(report.beacon)
    rerun = v2.run(again_c, CLOSE_FROM + timedelta(hours=1), entries, beacon, randomness(chain.chain, beacon))
    assert rerun.to_dict() == report.to_dict()
    assert report.statement["beacon"]["round"] == chain.chain.first_round_after(CLOSE_BY)


def test_the_randomness_cannot_be_ground(chain: TestChain) -> None:
    # Finding 1: the public value was free text; now it is the committed round's verified signature.
    c, entries, report = _draw(chain)
    digest = hashlib.sha256(entries).hexdigest()
    for forged in ({**report.beacon, "signature": chain.round(report.beacon["round"] + 1).signature},
                   {**report.beacon, "round": report.beacon["round"] + 1}):  # fmt: skip
        bad = {**report.to_dict(), "beacon": forged}
        assert {"beacon", "beacon_round"} & set(_check(chain, bad, entries, c.digest, digest)), forged
    other_round = chain.round(report.beacon["round"] + 1)  # a valid round, not the committed one
    with pytest.raises(ValueError, match="fixed round"):
        v2.run(c, CLOSE_FROM, entries, other_round, randomness(chain.chain, other_round))


def test_without_the_published_values_nothing_is_ok(chain: TestChain) -> None:
    # Finding 3: a complete forgery (new seed, recomputed commitment, chosen winners) passed without them.
    c, entries, report = _draw(chain)
    checks = [
        f.check for f in verify(report.to_dict(), entries, None, None, {chain.chain.chain_hash: chain.chain})
    ]
    assert checks == ["published_commitment", "published_entries_sha256"]
    forged_c = v2.commit("msedcl", "2026-12", OPENS - timedelta(days=2), OPENS, CLOSE_FROM, CLOSE_BY, 3, 2,
                         chain.chain)  # fmt: skip
    beacon = Beacon.from_dict(report.beacon)
    forged = v2.run(forged_c, CLOSE_FROM, entries, beacon, randomness(chain.chain, beacon))
    digest = hashlib.sha256(entries).hexdigest()
    assert "published_commitment" in _check(chain, forged.to_dict(), entries, c.digest, digest)


def test_a_consistent_forgery_with_an_entry_added_or_removed_is_caught(chain: TestChain) -> None:
    # Findings 2 and 4: entries changed after close, the report recomputed to match.
    c, entries, report = _draw(chain)
    digest = hashlib.sha256(entries).hexdigest()
    for receipts in (RECEIPTS + ["receipt-of-a-friend"], RECEIPTS[1:]):
        changed = v2.public_entries(receipts)
        beacon = Beacon.from_dict(report.beacon)
        forged = v2.run(c, CLOSE_FROM, changed, beacon, randomness(chain.chain, beacon))
        assert "published_entries_sha256" in _check(chain, forged.to_dict(), changed, c.digest, digest)


def test_the_counts_and_times_are_bound(chain: TestChain) -> None:
    # Finding 5: winner 2 moved to reserve 1, reserves truncated, a late commit, a close after the round.
    c, entries, report = _draw(chain)
    digest = hashlib.sha256(entries).hexdigest()
    d = report.to_dict()
    moved = copy.deepcopy(d)
    moved["reserves"] = [{"rank": 1, "entry": moved["winners"].pop()["entry"]},
                         *({**p, "rank": p["rank"] + 1} for p in moved["reserves"])]  # fmt: skip
    assert "winners_count" in _check(chain, moved, entries, c.digest, digest)
    truncated = {**d, "reserves": d["reserves"][:1]}
    assert "reserves_count" in _check(chain, truncated, entries, c.digest, digest)
    with pytest.raises(ValueError, match="before the window opens"):
        _commit(chain, committed_at=OPENS + timedelta(hours=1))
    after_round = {**d, "closed_at": (CLOSE_BY + timedelta(hours=1)).isoformat()}
    assert "closed_at" in _check(chain, after_round, entries, c.digest, digest)
    assert "entries_count" in _check(
        chain, {**d, "entries_count": float(d["entries_count"])}, entries, c.digest, digest
    )


def test_another_chain_or_key_is_not_trusted(chain: TestChain) -> None:
    c, entries, report = _draw(chain)
    digest = hashlib.sha256(entries).hexdigest()
    checks = [
        f.check for f in verify(report.to_dict(), entries, c.digest, digest)
    ]  # not told of the test chain
    assert "beacon_chain" in checks


def test_a_disqualified_winner_is_replaced_by_the_first_reserve(chain: TestChain) -> None:
    c, entries, report = _draw(chain)
    first = report.winners[0]["entry"]
    report.disqualified.append({"entry": first, "why": "reopened and rejected: reused photo",
                                "at": "2026-12-20T10:00:00+00:00", "by": "chitra"})  # fmt: skip
    winners, reserves = report.standing()
    assert winners == [p["entry"] for p in report.winners[1:]] + [report.reserves[0]["entry"]]
    assert reserves == [report.reserves[1]["entry"]]
    digest = hashlib.sha256(entries).hexdigest()
    assert _check(chain, report.to_dict(), entries, c.digest, digest) == []
    bad = report.to_dict()
    bad["disqualified"] = [{"entry": "0" * 64, "why": "x", "at": "y", "by": "z"}]
    assert "disqualified" in _check(chain, bad, entries, c.digest, digest)


def test_public_entries_hold_no_consumer_data_and_any_receipt_can_be_found() -> None:
    entries = v2.public_entries(["receipt-b", "receipt-a"])
    assert v2.parse_public_entries(entries) == sorted(v2.entry_id(r) for r in ("receipt-a", "receipt-b"))
    assert b"receipt" not in entries
    with pytest.raises(ValueError):
        v2.parse_public_entries(entries.replace(b"\n", b"\r\n"))


def test_pages_escape_every_field_and_masks_have_one_shape(chain: TestChain) -> None:
    from zoneinfo import ZoneInfo

    import draw
    from draw.page import to_html

    c, entries, report = _draw(chain)
    report.statement = {**report.statement, "utility": "<script>alert(1)</script>"}
    report.disqualified = [{"entry": report.winners[0]["entry"], "why": "<b>x</b>", "at": "2026-12-20T10:00:00+00:00",
                            "by": "<i>"}]  # fmt: skip
    page = to_html(report, ZoneInfo("Asia/Kolkata"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>x</b>" not in page
    assert "IST" in page and "+00:00" in page  # the utility's time, UTC beside
    v1 = draw.run(draw.commit("u", "2026-11", "<i>late</i>", "<b>w</b>"), [], 0)
    assert "<i>late</i>" not in draw.to_html(v1) and "&lt;i&gt;late&lt;/i&gt;" in draw.to_html(v1)
    assert {len(draw.mask(n)) for n in ("0001", "C0001", "000000001", "C0000000001")} == {8}
    assert draw.mask("0001") == "••••••••" and draw.mask("C000000001") == "••••0001"
