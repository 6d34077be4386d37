"""Re-verifying a draw from its report, its entries file and the values published before it, naming every
check that fails. Without the published values a forgery could be complete, so their absence is a failure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from . import v2
from .beacon import LEAGUE_OF_ENTROPY, Beacon, BeaconError, Chain, randomness
from .entries import entries_sha256, parse_entries
from .procedure import PROCEDURE, commitment_digest, draw, pick

FIELDS = (
    "procedure",
    "utility",
    "month",
    "committed_at",
    "window_opens",
    "commitment",
    "seed",
    "public_value",
    "entries_sha256",
    "entries_count",
    "winners",
    "reserves",
)


_NOT_GIVEN = (
    "not given: without the commitment published before the window, a report with a new seed and a "
    "recomputed commitment cannot be told from the real one"
)
V2_FIELDS = (
    "procedure",
    "statement",
    "commitment",
    "seed",
    "closed_at",
    "entries_sha256",
    "entries_count",
    "beacon",
    "randomness",
    "winners",
    "reserves",
    "reopened_before_run",
    "disqualified",
)


@dataclass(frozen=True)
class Failure:
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


def verify(
    report: dict,
    entries_file: bytes,
    published_commitment: str | None,
    published_entries_sha256: str | None = None,
    chains: dict[str, Chain] | None = None,
) -> list[Failure]:
    """Every check that fails (empty: the draw is what the report says). ``published_commitment``: the value
    announced before the window opened; ``published_entries_sha256``: the one announced at close (v2);
    ``chains``: drand chains trusted besides the League of Entropy's (a test chain)."""
    if report.get("procedure") == v2.PROCEDURE:
        return verify_v2(report, entries_file, published_commitment, published_entries_sha256, chains)
    return verify_v1(report, entries_file, published_commitment)


def verify_v1(report: dict, entries_file: bytes, published_commitment: str | None) -> list[Failure]:
    """A ``meterverify-draw-v1`` report (no published entries hash existed then)."""
    missing = [f for f in FIELDS if f not in report]
    extra = sorted(set(report) - set(FIELDS))
    if missing or extra:
        return [Failure("report_fields", f"missing {missing}, unexpected {extra}")]
    failures = []
    if report["procedure"] != PROCEDURE:
        failures.append(Failure("procedure", f"unknown procedure {str(report['procedure'])[:40]!r}"))
    seed = str(report["seed"])
    if len(seed) != 64 or any(c not in "0123456789abcdef" for c in seed):
        return failures + [Failure("seed", "the seed is not 64 lower-case hex digits")]
    if commitment_digest(report) != report["commitment"]:
        failures.append(
            Failure("commitment", "the revealed seed and draw details do not match the commitment")
        )
    if published_commitment is None:
        failures.append(Failure("published_commitment", _NOT_GIVEN))
    elif published_commitment != report["commitment"]:
        failures.append(Failure("published_commitment", "the report's commitment is not the one published"))
    if entries_sha256(entries_file) != report["entries_sha256"]:
        failures.append(
            Failure(
                "entries_sha256",
                "the entries file is not the one drawn from (an entry added, removed or changed)",
            )
        )
    try:
        entries = parse_entries(entries_file)
    except (ValueError, UnicodeDecodeError) as e:
        return failures + [Failure("entries_file", str(e))]
    failures += _count(entries, report)
    if any(e.utility != report["utility"] or e.month != report["month"] for e in entries):
        failures.append(Failure("entries_month", "an entry belongs to another utility or month"))
    winners, reserves = report["winners"], report["reserves"]
    try:
        picked = draw(
            seed,
            str(report["public_value"]),
            entries_sha256(entries_file),
            len(entries),
            len(winners) + len(reserves),
        )
    except (ValueError, TypeError) as e:
        return failures + [Failure("winners", str(e))]
    expected = [
        {
            "rank": rank,
            "consumer_number": entries[i].consumer_number,
            "submission_id": entries[i].submission_id,
        }
        for rank, i in enumerate(picked, 1)
    ]
    if winners != expected[: len(winners)]:
        failures.append(Failure("winners", "the winners are not the ones the seed and entries give"))
    if reserves != [{**p, "rank": r} for r, p in enumerate(expected[len(winners) :], 1)]:
        failures.append(Failure("reserves", "the reserves are not the ones the seed and entries give"))
    return failures


def verify_v2(
    report: dict,
    entries_file: bytes,
    published_commitment: str | None,
    published_entries_sha256: str | None,
    chains: dict[str, Chain] | None = None,
) -> list[Failure]:
    """A ``meterverify-draw-v2`` report (see ``draw.v2``)."""
    missing = [f for f in V2_FIELDS if f not in report]
    extra = sorted(set(report) - set(V2_FIELDS))
    if missing or extra:
        return [Failure("report_fields", f"missing {missing}, unexpected {extra}")]
    failures = []
    if published_commitment is None:
        failures.append(Failure("published_commitment", _NOT_GIVEN))
    elif published_commitment != report["commitment"]:
        failures.append(Failure("published_commitment", "the report's commitment is not the one published"))
    if published_entries_sha256 is None:
        failures.append(
            Failure(
                "published_entries_sha256",
                "not given: without the entries hash published at "
                "close, entries added or removed afterwards cannot be seen",
            )
        )
    elif published_entries_sha256 != report["entries_sha256"]:
        failures.append(
            Failure("published_entries_sha256", "the report's entries are not the ones published")
        )
    s = report["statement"]
    try:
        if v2.statement_digest(s) != report["commitment"]:
            failures.append(Failure("commitment", "the statement does not hash to the commitment"))
        seed = str(report["seed"])
        if len(seed) != 64 or any(c not in "0123456789abcdef" for c in seed):
            return failures + [Failure("seed", "the seed is not 64 lower-case hex digits")]
        if v2.seed_sha256(seed) != s["seed_sha256"]:
            failures.append(Failure("seed", "the revealed seed is not the one committed to"))
        failures += _times(report, s)
        for name in ("winners", "reserves"):
            if type(s[name]) is not int or len(report[name]) != s[name]:
                failures.append(
                    Failure(
                        f"{name}_count",
                        f"the statement fixed {s[name]!r} {name}, the report has {len(report[name])}",
                    )
                )
        chain = Chain.from_dict({k: v for k, v in s["beacon"].items() if k not in ("round", "round_time")})
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return failures + [Failure("statement", f"malformed statement: {e!r}"[:200])]
    failures += _chain(chain, chains)
    beacon = report["beacon"]
    try:
        b = Beacon.from_dict(beacon)
        if b.round != s["beacon"]["round"]:
            failures.append(
                Failure("beacon_round", f"the statement fixed round {s['beacon']['round']}, not {b.round}")
            )
        value = randomness(chain, b)
        if value != report["randomness"]:
            failures.append(Failure("randomness", "the randomness is not the round's"))
    except (BeaconError, KeyError, TypeError) as e:
        return failures + [Failure("beacon", str(e)[:200])]
    if hashlib.sha256(entries_file).hexdigest() != report["entries_sha256"]:
        failures.append(Failure("entries_sha256", "the entries file is not the one drawn from"))
    try:
        entries = v2.parse_public_entries(entries_file)
    except (ValueError, UnicodeDecodeError) as e:
        return failures + [Failure("entries_file", str(e))]
    failures += _count(entries, report)
    wanted = len(report["winners"]) + len(report["reserves"])
    try:
        picked = pick(v2.numbers(seed, value, hashlib.sha256(entries_file).hexdigest()), len(entries), wanted)
    except ValueError as e:
        return failures + [Failure("winners", str(e))]
    people = [entries[i] for i in picked]
    n = len(report["winners"])
    if report["winners"] != [{"rank": r, "entry": e} for r, e in enumerate(people[:n], 1)]:
        failures.append(Failure("winners", "the winners are not the ones the seed, round and entries give"))
    if report["reserves"] != [{"rank": r, "entry": e} for r, e in enumerate(people[n:], 1)]:
        failures.append(Failure("reserves", "the reserves are not the ones the seed, round and entries give"))
    if not set(report["reopened_before_run"]) <= set(entries):
        failures.append(Failure("reopened_before_run", "lists an entry that is not in the entries file"))
    drawn = set(people)
    for d in report["disqualified"]:
        if (
            not isinstance(d, dict)
            or d.get("entry") not in drawn
            or not all(d.get(k) for k in ("why", "at", "by"))
        ):
            failures.append(
                Failure("disqualified", "a disqualification must name a drawn entry, why, when and by whom")
            )
            break
    return failures


def _count(entries: list, report: dict) -> list[Failure]:
    """The report's entry count: an integer (``6.0`` is not one) and the file's."""
    if type(report["entries_count"]) is int and len(entries) == report["entries_count"]:
        return []
    return [
        Failure(
            "entries_count",
            f"the file has {len(entries)} entries, the report says {report['entries_count']!r}",
        )
    ]


def _times(report: dict, s: dict) -> list[Failure]:
    """commit < window opens <= close_from <= closed_at <= close_by < the round's time."""
    at = {k: datetime.fromisoformat(s[k]) for k in ("committed_at", "window_opens", "close_from", "close_by")}
    closed = datetime.fromisoformat(report["closed_at"])
    round_time = datetime.fromisoformat(s["beacon"]["round_time"])
    out = []
    if not at["committed_at"] < at["window_opens"]:
        out.append(Failure("committed_late", "the commitment was made after the window opened"))
    if not at["close_from"] <= closed <= at["close_by"]:
        out.append(Failure("closed_at", "the entries were frozen outside the times the statement fixed"))
    if not closed < round_time or not at["close_by"] < round_time:
        out.append(Failure("beacon_round", "the round's value existed before the entries were frozen"))
    return out


def _chain(chain: Chain, extra: dict[str, Chain] | None) -> list[Failure]:
    """The statement's chain must be one of the League of Entropy's (or one the caller trusts), key and all."""
    known = {**LEAGUE_OF_ENTROPY, **(extra or {})}.get(chain.chain_hash)
    if known is None:
        return [Failure("beacon_chain", f"chain {chain.chain_hash[:16]}... is not a known drand chain")]
    if known != chain:
        return [Failure("beacon_chain", "the statement's chain details differ from the known chain's")]
    return []
