"""Public randomness nobody here controls: a round of a drand chain (the League of Entropy), verified offline.

A drand round is a BLS12-381 threshold signature by the chain's group key, made at a time fixed by the chain's
genesis and period: ``time(round) = genesis + (round - 1) * period``. Its value cannot be known before then
by anyone short of a threshold of the League's members, and anyone can check it against the chain's public
key. The draw's randomness is SHA-256 of the signature (drand's own definition of a round's randomness).

Schemes: ``pedersen-bls-chained`` (the ``default`` chain: the message is SHA-256(previous signature ||
round as 8 bytes big-endian)) and ``pedersen-bls-unchained`` (SHA-256(round)); public keys on G1 (48 bytes),
signatures on G2 (96 bytes), hashed to the curve with the IETF ciphersuite
``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`` (py_ecc's ``G2Basic``). Verified with py_ecc: pure Python,
about a quarter of a second per round, and it verifies the ``default`` chain's published rounds.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime

CHAINED, UNCHAINED = "pedersen-bls-chained", "pedersen-bls-unchained"


class BeaconError(ValueError):
    pass


@dataclass(frozen=True)
class Chain:
    """A drand chain, as its ``/info`` endpoint describes it."""

    name: str
    chain_hash: str
    public_key: str  # hex, 48 bytes (G1)
    genesis_time: int  # Unix seconds of round 1
    period: int  # seconds between rounds
    scheme: str

    def round_time(self, round_: int) -> datetime:
        return datetime.fromtimestamp(self.genesis_time + (round_ - 1) * self.period, UTC)

    def first_round_after(self, moment: datetime) -> int:
        """The first round emitted strictly after ``moment``: its value does not exist at ``moment``."""
        elapsed = moment.timestamp() - self.genesis_time
        return max(1, math.floor(elapsed / self.period) + 2)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "chain_hash": self.chain_hash,
            "public_key": self.public_key,
            "genesis_time": self.genesis_time,
            "period": self.period,
            "scheme": self.scheme,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Chain:
        return cls(
            str(d["name"]),
            str(d["chain_hash"]),
            str(d["public_key"]),
            _int(d["genesis_time"]),
            _int(d["period"]),
            str(d["scheme"]),
        )


# The League of Entropy's mainnet chain (https://api.drand.sh/info): chained rounds every 30 s since 2020-07-22.
DEFAULT = Chain(
    name="default",
    chain_hash="8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce",
    public_key="868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a569937c529eeda66c7293784a9402801af31",
    genesis_time=1595431050,
    period=30,
    scheme=CHAINED,
)
LEAGUE_OF_ENTROPY = {DEFAULT.chain_hash: DEFAULT}


@dataclass(frozen=True)
class Beacon:
    """One round as the chain publishes it (``/public/<round>``); ``previous_signature`` for chained schemes."""

    round: int
    signature: str
    previous_signature: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> Beacon:
        return cls(_int(d["round"]), str(d["signature"]), str(d.get("previous_signature") or ""))

    def to_dict(self) -> dict:
        return {
            "round": self.round,
            "signature": self.signature,
            "previous_signature": self.previous_signature,
        }


def message(chain: Chain, beacon: Beacon) -> bytes:
    """What the chain's group signed for this round."""
    round_bytes = beacon.round.to_bytes(8, "big")
    if chain.scheme == CHAINED:
        return hashlib.sha256(_hex(beacon.previous_signature, "previous_signature") + round_bytes).digest()
    if chain.scheme == UNCHAINED:
        return hashlib.sha256(round_bytes).digest()
    raise BeaconError(f"unsupported drand scheme {chain.scheme[:40]!r}")


def randomness(chain: Chain, beacon: Beacon) -> str:
    """The round's randomness (SHA-256 of its signature, hex) once the signature verifies against the chain's
    public key; ``BeaconError`` otherwise."""
    from py_ecc.bls import G2Basic

    signature = _hex(beacon.signature, "signature")
    try:
        ok = G2Basic.Verify(_hex(chain.public_key, "public key"), message(chain, beacon), signature)
    except Exception as e:  # a point not on the curve, a wrong length: not a signature of this chain
        raise BeaconError(f"round {beacon.round}: not a valid signature ({e})") from None
    if not ok:
        raise BeaconError(f"round {beacon.round}: the signature does not verify against chain {chain.name}")
    return hashlib.sha256(signature).hexdigest()


def _hex(text: str, what: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise BeaconError(f"the {what} is not hex") from None


def _int(value) -> int:
    """An integer, and only one: ``6.0``, ``"6"`` or ``True`` are refused."""
    if type(value) is not int:
        raise BeaconError(f"{value!r} is not an integer")
    return value
