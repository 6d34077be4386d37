"""Simulate one month of self-readings through the verification engine.

    python -m bench.verify_month [--consumers 1000000]

Each consumer gets a meter (5 to 8 digits, 0 to 2 decimals), a sanctioned load, a habit (median daily use)
and six months of verified history; then a submission with injected faults at realistic rates: typing
mistakes, reader misreads (confident and unsure), unsure digits, poor photos, non-meter photos, reused
photos, late submissions, stuck meters and rollovers. Prints the share accepted / sent to review /
rejected, the wrong automatic accepts (must be 0 where typed and read disagree), and decisions per second
on one core (the engine only; building the inputs is not timed).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import numpy as np
from tqdm import tqdm

from verification import (
    ACCEPTED,
    Consumer,
    EarlierPhoto,
    PastReading,
    PhotoFacts,
    ReaderResult,
    Reading,
    Submission,
    decide,
)

# Fault rates per submission (the rest are clean).
FAULTS = {
    "typo_one_digit": 0.030,
    "typo_swap": 0.012,
    "typo_missing": 0.008,
    "typo_extra": 0.004,
    "typo_decimal_shift": 0.008,
    "typo_decimal_as_digit": 0.010,
    "misread_confident": 0.004,
    "misread_unsure": 0.015,
    "unsure_digit": 0.030,
    "poor_photo": 0.030,
    "not_a_meter": 0.008,
    "reused_photo": 0.004,
    "stuck_meter": 0.005,
}
TYPOS = {k for k in FAULTS if k.startswith("typo_")}
LATE_SHARE = 0.12  # submitted after the self-reading days
IST = timezone(timedelta(hours=5, minutes=30))


def _typo(rng: np.random.Generator, kind: str, value: Reading) -> Reading:
    s = str(value.units)
    if kind == "typo_decimal_as_digit":
        return (
            Reading(value.units, 0)
            if value.decimals
            else Reading(value.units * 10 + int(rng.integers(0, 10)), 0)
        )
    if kind == "typo_decimal_shift":
        return (
            Reading(value.units, (value.decimals + 1) % 3)
            if len(s) > 1
            else Reading(value.units + 1, value.decimals)
        )
    if kind == "typo_one_digit":
        i = int(rng.integers(0, len(s)))
        s = s[:i] + str((int(s[i]) + int(rng.integers(1, 10))) % 10) + s[i + 1 :]
    elif kind == "typo_swap" and len(s) >= 2:
        i = int(rng.integers(0, len(s) - 1))
        if s[i] == s[i + 1]:
            s = s[:i] + str((int(s[i]) + 1) % 10) + s[i + 1 :]
        else:
            s = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    elif kind == "typo_missing" and len(s) >= 2:
        i = int(rng.integers(0, len(s)))
        s = s[:i] + s[i + 1 :]
    else:  # extra digit (or a swap/missing on a one-digit value)
        i = int(rng.integers(0, len(s) + 1))
        s = s[:i] + str(int(rng.integers(1, 10))) + s[i:]
    return Reading(int(s), value.decimals)


def make_month(rng: np.random.Generator, n: int, start: int) -> list[tuple[Submission, str, Reading]]:
    """``n`` submissions with their injected fault and true reading."""
    digits = rng.choice([5, 6, 6, 6, 7, 7, 8], n)
    decimals = rng.choice([0, 1, 1, 1, 2], n)
    load = rng.choice([1.0, 2.0, 3.0, 5.0, 7.5, 10.0], n)
    habit = rng.lognormal(np.log(5.0), 0.7, n)  # kWh per day
    fault_names = ["clean", *FAULTS]
    fault_p = np.array([1 - sum(FAULTS.values()), *FAULTS.values()])
    faults = rng.choice(len(fault_names), n, p=fault_p)
    late = rng.random(n) < LATE_SHARE
    out = []
    for k in range(n):
        nd, dec = int(digits[k]), int(decimals[k])
        scale = 10**dec
        top = 10**nd
        fault = fault_names[faults[k]]
        consumer = Consumer(f"C{start + k:07d}", nd, dec, float(load[k]))
        value = int(rng.integers(0, top // 2))
        if rng.random() < 0.002:  # counter about to roll over
            value = top - int(habit[k] * 120 * scale)
        history = []
        day = date(2026, 5, 2)
        for _ in range(6):
            history.append(PastReading(day, Reading(value % top, dec)))
            used = 0 if fault == "stuck_meter" else habit[k] * 30 * rng.uniform(0.7, 1.3)
            value += int(used * scale)
            day += timedelta(days=30 + int(rng.integers(-2, 3)))
        truth = Reading(value % top, dec)
        shown = str(truth.units).rjust(nd, "0")
        conf = tuple(float(c) for c in rng.uniform(0.95, 1.0, nd))
        read = ReaderResult(shown, dec, float(rng.uniform(0.92, 1.0)), conf)
        typed = truth
        when = datetime(
            2026,
            11,
            int(rng.integers(6, 11)) if late[k] else int(rng.integers(1, 6)),
            int(rng.integers(6, 22)),
            tzinfo=IST,
        )
        photo = PhotoFacts(when)
        if fault in TYPOS:
            typed = _typo(rng, fault, truth)
        elif fault.startswith("misread"):
            i = int(rng.integers(0, nd))
            wrong = shown[:i] + str((int(shown[i]) + int(rng.integers(1, 10))) % 10) + shown[i + 1 :]
            low = fault == "misread_unsure"
            conf = tuple(0.6 if (low and j == i) else c for j, c in enumerate(conf))
            read = ReaderResult(wrong, dec, 0.7 if low else read.confidence, conf)
        elif fault == "unsure_digit":
            i = int(rng.integers(0, nd))
            read = ReaderResult(shown, dec, 0.8, tuple(0.55 if j == i else c for j, c in enumerate(conf)))
        elif fault == "poor_photo":
            read = ReaderResult(
                shown,
                dec,
                read.confidence,
                conf,
                quality=(str(rng.choice(["blurred", "glare", "too_dark"])),),
            )
        elif fault == "not_a_meter":
            read = ReaderResult(None, 0, 0.0, readable=False, reason="no_display")
        elif fault == "reused_photo":
            earlier = EarlierPhoto(
                "earlier", int(rng.integers(0, 4)), "OTHER", False, False, when.date(), None
            )
            photo = PhotoFacts(when, nearest_earlier_photo=earlier)
        out.append((Submission(consumer, typed, read, photo, tuple(history)), fault, truth))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--consumers", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    statuses: Counter = Counter()
    by_fault: dict[str, Counter] = {}
    wrong_accepts: Counter = Counter()
    reasons: Counter = Counter()
    eligible = 0
    seconds = 0.0
    bar = tqdm(total=args.consumers, unit="consumer", desc="simulating")
    for start in range(0, args.consumers, args.chunk):
        batch = make_month(rng, min(args.chunk, args.consumers - start), start)
        t = time.perf_counter()
        decisions = [decide(sub) for sub, _, _ in batch]
        seconds += time.perf_counter() - t
        for (_, fault, truth), d in zip(batch, decisions, strict=True):
            statuses[d.status] += 1
            by_fault.setdefault(fault, Counter())[d.status] += 1
            reasons.update(d.reasons)
            eligible += d.lucky_draw_eligible
            if d.status == ACCEPTED and Reading.parse(d.verified_reading) != truth:
                wrong_accepts[fault] += 1
        bar.update(len(batch))
    bar.close()
    n = args.consumers
    print(f"{n:,} submissions, one month")
    for status in ("accepted", "needs_review", "rejected"):
        print(f"  {status:<13} {statuses[status] / n:6.1%}")
    print(f"  lucky-draw eligible {eligible / n:6.1%}")
    print("by injected fault (accepted / review / rejected):")
    for fault, c in sorted(by_fault.items(), key=lambda kv: -sum(kv[1].values())):
        total = sum(c.values())
        print(
            f"  {fault:<22} {total:>8,}  {c['accepted'] / total:6.1%} {c['needs_review'] / total:6.1%} {c['rejected'] / total:6.1%}"
        )
    typed_vs_read = sum(v for k, v in wrong_accepts.items() if k in TYPOS or k.startswith("misread"))
    print(
        f"wrong automatic accepts: {sum(wrong_accepts.values())} (typed-vs-read mismatches: {typed_vs_read}) {dict(wrong_accepts)}"
    )
    print("most common review reasons: " + ", ".join(f"{k} {v:,}" for k, v in reasons.most_common(8)))
    print(f"decisions per second (one core, engine only): {n / seconds:,.0f}")


if __name__ == "__main__":
    main()
