"""How often each decision reason fires, and every automatic rejection, on photos the models never saw.

    python -m bench.reasons [--synth-n 300] [--seed 7300] [--real datasets/real-photos-lt]

Each photo is sent as a consumer would send it: the true reading typed, for a consumer whose meter (digits,
decimals) and history fit it, inside the self-reading days; the shipped reader verifies it and the rules
decide (``verification.decide``, as the service does). Synthetic photos include photos of no meter, unlit
LCDs and other screens (date, MD, segment test): the truth says whether a person could read the kWh reading
there. Real photos: the labelled set in ``datasets/`` (a smoke test: one meter).

Prints, per set: the decisions, the photos accepted although they did not show the kWh reading, then per
reason how often it fired (review or reject), and each automatic rejection with whether it was wrong (the
photo showed the kWh reading typed). An automatic rejection must be
wrong < 0.1% of the time; the rest goes to a reviewer.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from tqdm import tqdm

import verification as v
from meterdata.synth import render_photo
from vision.reader import MeterReader
from vision.reading import Meter

ROOT = Path(__file__).resolve().parents[1]

IN_WINDOW = datetime.fromisoformat("2026-11-02T10:00:00+05:30")
HISTORY = (("2026-08-02", 720), ("2026-09-02", 480), ("2026-10-02", 240))  # kWh used up to each reading


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--synth-n", type=int, default=300, help="synthetic photos (0: none)")
    p.add_argument("--seed", type=int, default=7300, help="synthetic set seed (no model was trained on it)")
    p.add_argument(
        "--real",
        type=Path,
        default=ROOT / "datasets" / "real-photos-lt",
        help="a labelled folder (manifest.jsonl + images); '' for none",
    )
    return p


def decide(reader: MeterReader, data: bytes, digits: str | None, decimals: int) -> v.Decision:
    """The decision for this photo with the true reading typed by a consumer whose meter and history fit."""
    digits = digits or "012345"  # a photo of no reading: the consumer typed some number all the same
    typed = v.Reading.from_digits(digits, decimals)
    meter = Meter(len(digits), decimals)
    seen = reader.verify(data, str(typed), meter).to_dict()
    step = 10**decimals
    history = tuple(
        v.PastReading(date.fromisoformat(day), v.Reading(max(0, typed.units - used * step), decimals))
        for day, used in HISTORY
    )
    return v.decide(
        v.Submission(
            consumer=v.Consumer("C", len(digits), decimals, 5),
            typed=typed,
            read=v.ReaderResult.from_reading(seen),
            photo=v.PhotoFacts(IN_WINDOW),
            history=history,
        )
    )


def report(name: str, outcomes: list[tuple[v.Decision, bool, str]], others: set[str]) -> None:
    """``outcomes``: (decision, whether a person could read the typed kWh reading there, photo name);
    ``others``: the photos that show no kWh register at all (no meter, another screen)."""
    n = len(outcomes)
    print(f"\n== {name}: {n} photos ==")
    statuses = Counter(d.status for d, _, _ in outcomes)
    print("  " + ", ".join(f"{s} {statuses[s]} ({statuses[s] / n:.1%})" for s in sorted(statuses)))
    fired: Counter[tuple[str, str]] = Counter()
    for d, _, _ in outcomes:
        for f in {(f.code, f.outcome) for f in d.findings}:
            fired[f] += 1
    print(f"  {'reason':28} {'outcome':8} {'photos':>7} {'share':>7}")
    for (code, outcome), count in sorted(fired.items(), key=lambda kv: -kv[1]):
        print(f"  {code:28} {outcome:8} {count:7d} {count / n:7.1%}")
    accepted = [photo for d, readable, photo in outcomes if d.status == v.ACCEPTED and not readable]
    wrong = [photo for photo in accepted if photo in others]
    print(
        f"  accepted where the truth says the kWh reading cannot be read: {len(accepted)}, of them showing "
        f"another screen or no meter (a wrong reading accepted): {len(wrong)} {wrong[:10]}"
    )
    rejected = [(d, readable, photo) for d, readable, photo in outcomes if d.status == v.REJECTED]
    wrong = [photo for _, readable, photo in rejected if readable]
    print(
        f"  automatic rejections: {len(rejected)}; wrong (the photo showed the typed kWh reading): {len(wrong)}"
    )
    for d, readable, photo in rejected:
        codes = ", ".join(f.code for f in d.findings if f.outcome == "reject")
        print(f"    {photo}: {codes}{'  <- WRONG' if readable else ''}")


def main(args: argparse.Namespace) -> None:
    reader = MeterReader()
    if args.synth_n:
        outcomes, others = [], set()
        for i in tqdm(range(args.synth_n), desc="synthetic", unit="photo"):
            data, sample = render_photo(args.seed, i, size=(1024, 768), split="test")
            readable = bool(sample.readable and sample.mode == "kwh" and sample.digits)
            if sample.mode != "kwh" or not sample.digits:
                others.add(f"synth-{i}")
            outcomes.append((decide(reader, data, sample.digits, sample.decimals), readable, f"synth-{i}"))
        report(f"synthetic (seed {args.seed})", outcomes, others)
    if args.real and str(args.real):
        rows = [json.loads(line) for line in (args.real / "manifest.jsonl").read_text().splitlines() if line]
        outcomes, others = [], set()
        for row in tqdm(rows, desc="real", unit="photo"):
            data = (args.real / row["image"]).read_bytes()
            decision = decide(reader, data, row["digits"], row["decimals"])
            shows_kwh = bool(row["readable"] and row["digits"]) and row.get("mode") in (None, "kwh")
            if row.get("mode") not in (None, "kwh"):
                others.add(row["image"])
            outcomes.append((decision, shows_kwh, row["image"]))
        report(f"real ({args.real.name})", outcomes, others)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
