"""The draw procedure, version ``meterverify-draw-v1`` (kept to verify its reports; new draws use ``v2``),
written so that anyone can re-implement it.

1. **Commit** (before the self-reading window opens): a 32-byte secret seed is drawn from the OS's CSPRNG.
   The commitment is SHA-256 of the canonical JSON (sorted keys, no spaces) of
   ``{"procedure", "utility", "month", "committed_at", "window_opens", "seed"}`` (seed as 64 hex digits).
   The commitment is published; the seed is kept secret.
2. **Close**: the month's entries are frozen into the canonical CSV; its SHA-256 is ``entries_sha256``.
3. **Draw**: the seed is revealed. ``key = SHA-256("meterverify-draw-v1" || 0x00 || seed || 0x00 ||
   public_value as UTF-8)`` (public_value: a random value announced in advance, e.g. a lottery result; empty
   if none). The i-th random number is ``HMAC-SHA256(key, entries_sha256 + ":" + str(i))`` read as a
   big-endian 256-bit integer, i = 0, 1, 2, ...
4. **Pick** without replacement from the entries in file order: to pick one of ``m`` remaining entries, take
   the next random number ``x``; if ``x >= m * floor(2^256 / m)`` discard it and take the next (rejection
   sampling: no modulo bias); else the pick is remaining entry number ``x mod m``, which is removed. The
   first ``winners`` picks are the winners in rank order, the next ``reserves`` picks the reserves.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass

PROCEDURE = "meterverify-draw-v1"
_SPACE = 2**256


@dataclass(frozen=True)
class Commitment:
    procedure: str
    utility: str
    month: str
    committed_at: str  # ISO 8601, UTC
    window_opens: str  # ISO 8601: the first moment a submission can enter
    seed: str  # 64 hex digits; secret until the draw

    @property
    def digest(self) -> str:
        return commitment_digest(asdict(self))


def commitment_digest(fields: dict) -> str:
    keys = ("procedure", "utility", "month", "committed_at", "window_opens", "seed")
    canonical = json.dumps({k: fields[k] for k in keys}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_seed() -> str:
    return secrets.token_hex(32)


def commit(
    utility: str, month: str, committed_at: str, window_opens: str, seed: str | None = None
) -> Commitment:
    seed = seed or new_seed()
    if len(seed) != 64 or any(c not in "0123456789abcdef" for c in seed):
        raise ValueError("the seed is 64 lower-case hex digits")
    return Commitment(PROCEDURE, utility, month, committed_at, window_opens, seed)


def _numbers(seed: str, public_value: str, entries_sha256: str):
    key = hashlib.sha256(
        PROCEDURE.encode() + b"\x00" + bytes.fromhex(seed) + b"\x00" + public_value.encode()
    ).digest()
    counter = 0
    while True:
        digest = hmac.new(key, f"{entries_sha256}:{counter}".encode(), hashlib.sha256).digest()
        yield int.from_bytes(digest, "big")
        counter += 1


def draw(seed: str, public_value: str, entries_sha256: str, n_entries: int, picks: int) -> list[int]:
    """Indices (into the entries in file order) of ``picks`` distinct entries, in the order drawn."""
    return pick(_numbers(seed, public_value, entries_sha256), n_entries, picks)


def pick(numbers: Iterator[int], n_entries: int, picks: int) -> list[int]:
    """``picks`` distinct indices of ``n_entries`` from 256-bit random ``numbers`` (step 4: rejection
    sampling, so every entry is equally likely)."""
    if picks > n_entries:
        raise ValueError(f"cannot draw {picks} of {n_entries} entries")
    remaining = list(range(n_entries))
    chosen = []
    while len(chosen) < picks:
        m = len(remaining)
        limit = m * (_SPACE // m)
        x = next(numbers)
        while x >= limit:
            x = next(numbers)
        chosen.append(remaining.pop(x % m))
    return chosen
