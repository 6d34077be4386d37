"""A drand-like chain whose group key the tests hold: it signs any round, as the League does every period."""

from __future__ import annotations

import hashlib

from draw.beacon import CHAINED, Beacon, Chain, message


class TestChain:
    __test__ = False  # not a test class

    def __init__(self, name: str = "test") -> None:
        from py_ecc.bls import G2Basic

        self.bls = G2Basic
        self.secret = G2Basic.KeyGen(hashlib.sha256(f"meterverify {name} chain".encode()).digest())
        public = G2Basic.SkToPk(self.secret).hex()
        self.chain = Chain(name, hashlib.sha256(bytes.fromhex(public)).hexdigest(), public,
                           genesis_time=1_700_000_000, period=30, scheme=CHAINED)  # fmt: skip

    def round(self, number: int) -> Beacon:
        """Round ``number``, signed over a previous signature made up for the test."""
        previous = hashlib.sha512(f"round {number - 1}".encode()).hexdigest() + "00" * 32
        return Beacon(number, self.bls.Sign(self.secret, message(self.chain, Beacon(number, "", previous))).hex(),
                      previous)  # fmt: skip
