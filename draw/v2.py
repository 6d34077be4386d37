"""The draw procedure, version ``meterverify-draw-v2``: nobody can steer it, the operator included.

It follows RFC 3797's order: everything is fixed and published *before* the randomness exists, and the
randomness comes from a source nobody here controls.

1. **Commit** (before the month's self-reading window opens). A 32-byte secret seed is drawn from the OS's
   CSPRNG. The *statement* is published: ``procedure``, ``utility``, ``month``, ``committed_at``,
   ``window_opens``, ``close_from`` (the window's end plus the ``submitted_at`` allowance), ``close_by``,
   ``winners``, ``reserves``, ``seed_sha256`` and ``beacon``: a drand chain (name, chain hash, public key,
   genesis, period, scheme) and its ``round``, the first round emitted after ``close_by`` (its
   ``round_time``). The *commitment* is SHA-256 of the statement's canonical JSON (sorted keys, no spaces).
2. **Close** (between ``close_from`` and ``close_by``, hence before the round exists). The public entries
   file is frozen: the line ``entry``, then per entry the SHA-256 (hex) of its submission's receipt id, in
   ascending order. Its SHA-256 ``entries_sha256`` and the count are published with the closing time.
3. **Run**. The round's signature is verified against the chain's public key (``draw.beacon``); its
   randomness is SHA-256 of the signature. ``key = SHA-256("meterverify-draw-v2" || 0x00 || seed ||
   0x00 || randomness || 0x00 || entries_sha256 as ASCII)``; the i-th number is
   ``HMAC-SHA256(key, str(i))`` as a big-endian 256-bit integer. Picks are made from the entries in file order
   as in v1 (rejection sampling, no modulo bias): the first ``winners`` are the winners, the next
   ``reserves`` the reserves. Every input is fixed, so running again gives the same result byte for byte.
4. **Disqualification** (after the run). A winner or reserve whose decision is reopened and rejected is
   listed in ``disqualified`` (entry, why, when, by whom); the standing places are the winners not
   disqualified followed, in order, by the reserves not disqualified, the first ``winners`` of them winning.
   Reopens of entered submissions between close and run are listed in ``reopened_before_run``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime

from .beacon import Beacon, Chain
from .procedure import pick

PROCEDURE = "meterverify-draw-v2"
PUBLIC_HEADER = "entry"


def entry_id(receipt_id: str) -> str:
    """The public name of an entry: SHA-256 of the receipt id its consumer holds (no personal data)."""
    return hashlib.sha256(receipt_id.encode()).hexdigest()


def public_entries(receipt_ids: list[str]) -> bytes:
    """The public entries file: ``entry`` then one hashed receipt id per line, ascending, ``\\n`` endings."""
    return "".join(
        f"{line}\n" for line in [PUBLIC_HEADER, *sorted({entry_id(r) for r in receipt_ids})]
    ).encode()


def parse_public_entries(data: bytes) -> list[str]:
    """The entries of a public file; ``ValueError`` for anything that is not canonical."""
    lines = data.decode("ascii").split("\n")
    if lines[:1] != [PUBLIC_HEADER] or lines[-1] != "":
        raise ValueError(f"the file must start with the line {PUBLIC_HEADER!r} and end with a newline")
    entries = lines[1:-1]
    if any(len(e) != 64 or any(c not in "0123456789abcdef" for c in e) for e in entries):
        raise ValueError("every entry is 64 lower-case hex digits")
    if entries != sorted(set(entries)):
        raise ValueError("entries must be in ascending order, each once")
    return entries


def seed_sha256(seed: str) -> str:
    return hashlib.sha256(bytes.fromhex(seed)).hexdigest()


def statement_digest(statement: dict) -> str:
    canonical = json.dumps(statement, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Commitment:
    """The published statement and the secret seed behind it."""

    statement: dict
    seed: str

    @property
    def digest(self) -> str:
        return statement_digest(self.statement)


def commit(
    utility: str,
    month: str,
    committed_at: datetime,
    window_opens: datetime,
    close_from: datetime,
    close_by: datetime,
    winners: int,
    reserves: int,
    chain: Chain,
    seed: str | None = None,
) -> Commitment:
    """The statement of a new draw. ``ValueError`` when its times are not in the order the procedure needs."""
    if not committed_at < window_opens <= close_from < close_by:
        raise ValueError("commit before the window opens; close_from and close_by after it, in that order")
    if type(winners) is not int or type(reserves) is not int or winners < 1 or reserves < 0:
        raise ValueError("at least one winner; reserves zero or more (whole numbers)")
    seed = seed or secrets.token_hex(32)
    round_ = chain.first_round_after(close_by)
    statement = {
        "procedure": PROCEDURE,
        "utility": utility,
        "month": month,
        "committed_at": _iso(committed_at),
        "window_opens": _iso(window_opens),
        "close_from": _iso(close_from),
        "close_by": _iso(close_by),
        "winners": winners,
        "reserves": reserves,
        "seed_sha256": seed_sha256(seed),
        "beacon": {**chain.to_dict(), "round": round_, "round_time": _iso(chain.round_time(round_))},
    }
    return Commitment(statement, seed)


def numbers(seed: str, randomness: str, entries_sha256: str):
    key = hashlib.sha256(
        PROCEDURE.encode()
        + b"\x00"
        + bytes.fromhex(seed)
        + b"\x00"
        + bytes.fromhex(randomness)
        + b"\x00"
        + entries_sha256.encode()
    ).digest()
    i = 0
    while True:
        yield int.from_bytes(hmac.new(key, str(i).encode(), hashlib.sha256).digest(), "big")
        i += 1


@dataclass
class Report:
    procedure: str
    statement: dict
    commitment: str
    seed: str
    closed_at: str
    entries_sha256: str
    entries_count: int
    beacon: dict  # the round as published: round, signature, previous_signature
    randomness: str
    winners: list[dict] = field(default_factory=list)  # {"rank", "entry"}
    reserves: list[dict] = field(default_factory=list)
    reopened_before_run: list[str] = field(default_factory=list)  # entries reopened between close and run
    disqualified: list[dict] = field(default_factory=list)  # {"entry", "why", "at", "by"}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Report:
        return cls(**d)

    def standing(self) -> tuple[list[str], list[str]]:
        """The winners and reserves after disqualifications (see the procedure, step 4)."""
        out = {d["entry"] for d in self.disqualified}
        places = [p["entry"] for p in self.winners + self.reserves if p["entry"] not in out]
        n = len(self.winners)
        return places[:n], places[n:]


def run(
    commitment: Commitment,
    closed_at: datetime,
    entries_file: bytes,
    beacon: Beacon,
    randomness: str,
    reopened_before_run: list[str] | None = None,
) -> Report:
    """Draw from the frozen public entries with the round's verified ``randomness`` (``beacon.randomness``)."""
    s = commitment.statement
    entries = parse_public_entries(entries_file)
    if beacon.round != s["beacon"]["round"]:
        raise ValueError(f"the statement fixed round {s['beacon']['round']}, not {beacon.round}")
    if s["winners"] + s["reserves"] > len(entries):
        raise ValueError(
            f"cannot draw {s['winners']} winners and {s['reserves']} reserves from {len(entries)}"
        )
    digest = hashlib.sha256(entries_file).hexdigest()
    picked = pick(numbers(commitment.seed, randomness, digest), len(entries), s["winners"] + s["reserves"])
    people = [entries[i] for i in picked]
    return Report(
        procedure=PROCEDURE,
        statement=s,
        commitment=commitment.digest,
        seed=commitment.seed,
        closed_at=_iso(closed_at),
        entries_sha256=digest,
        entries_count=len(entries),
        beacon=beacon.to_dict(),
        randomness=randomness,
        winners=[{"rank": r, "entry": e} for r, e in enumerate(people[: s["winners"]], 1)],
        reserves=[{"rank": r, "entry": e} for r, e in enumerate(people[s["winners"] :], 1)],
        reopened_before_run=sorted(set(reopened_before_run or []) & set(entries)),
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
