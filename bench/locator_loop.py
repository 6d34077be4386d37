"""Reviewers teach the locator a new meter type, end to end: the loop of issue 20.

    python -m bench.locator_loop [--marked 300] [--unseen 100] [--synth-n 600]

1. A meter type whose serial number has as many digits as its register and is printed larger than it
   (``serial_scale``): the shipped locator often reads the serial. Its exact reading is measured on
   ``--unseen`` photos of the type that nothing below sees.
2. Photos of the type go through an embedded service as billing would send them, each with a consumer's typing
   mistake so that a person sees it. A reviewer takes each one; where the outline is not on the register, marks
   the register (the box a person draws around its digits; here from the generator's labels); then accepts the
   reader's reading, or types the right one: ``review_ui.work``, the same calls the browser's keys make. Until
   ``--marked`` photos carry a mark.
3. ``meterverify data from-reviews`` exports them; ``training.train_ranker`` learns from them beside generic
   synthetic scenes, goes through the gate (frozen sets, the paired test) and is served from a models folder.
4. The exact reading before and after: on the unseen photos of the type and on generic synthetic photos.
"""

from __future__ import annotations

import argparse
import io
import logging
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.typing_mistakes import mistake
from meterdata.manifest import load_manifest
from meterdata.strips import nearest_digits
from meterdata.synth import generate
from meterdata.synth.meter_type import MeterType
from meterdata.synth.scene import render_photo
from review_ui import work
from review_ui.auth import Reviewer, create_user
from serving import submissions, tables
from serving.config import Settings
from serving.consumers import import_csv
from serving.database import upgrade
from serving.review_export import export_reviews
from serving.served_models import read_served
from serving.service import Service
from serving.submissions import intake
from serving.submissions.process import process
from training import train_ranker
from vision.reader import MeterReader
from vision.reading import Meter

BIG_SERIAL = MeterType(name="big-serial", digits=6, decimals=1, serial_scale=1.6)
SENT_AT = "2026-11-02T10:00:00+05:30"  # inside November's reading window
SEEDS = {"reviewed": 61, "unseen": 62}  # neither is used by any other benchmark or training set


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--marked", type=int, default=300, help="photos a reviewer marks the register on")
    p.add_argument(
        "--unseen", type=int, default=100, help="photos of the type to measure on, never trained on"
    )
    p.add_argument(
        "--synth-n", type=int, default=600, help="generic synthetic photos the ranker also learns from"
    )
    p.add_argument("--generic-n", type=int, default=150, help="generic synthetic photos to measure on")
    p.add_argument("--workers", type=int, default=2)
    return p


def _register_box(sample) -> list[list[float]]:
    """The box a reviewer draws around the register's digits: a little loose, upright."""
    points = np.asarray(sample.digit_boxes, float).reshape(-1, 2)
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    mx, my = 0.05 * (x1 - x0), 0.2 * (y1 - y0)
    return [[x0 - mx, y0 - my], [x1 + mx, y0 - my], [x1 + mx, y1 + my], [x0 - mx, y1 + my]]


def _inside(point, box: list[list[float]]) -> bool:
    (x0, y0), (x1, y1) = box[0], box[2]
    return x0 <= point[0] <= x1 and y0 <= point[1] <= y1


def _offered(svc: Service, sid: str) -> str | None:
    """What A would accept on the item now."""
    with svc.sessions() as s:
        return submissions.reader_reading(s.get(tables.Submission, sid))


def review_photos(svc: Service, marked: int, meter_type: MeterType) -> dict[str, int]:
    """Send photos of ``meter_type`` until ``marked`` reviewed ones carry the reviewer's mark."""
    with svc.sessions.begin() as s:
        user = create_user(s, "loop-reviewer", "loop reviewer password", "reviewer", "default")
        reviewer = Reviewer(user.id, user.username, user.role, user.utility, "")
    counts = {"sent": 0, "decided unseen": 0, "marked": 0, "reader right after the mark": 0}
    rng = np.random.default_rng(SEEDS["reviewed"])
    bar = tqdm(total=marked, desc="reviewers marking", unit="photo")
    index = 0
    while counts["marked"] < marked and index < 5 * marked:
        data, sample = render_photo(
            SEEDS["reviewed"], index, size=(1024, 768), split="test", meter_type=meter_type
        )
        index += 1
        if not (sample.readable and sample.mode == "kwh"):
            continue
        number = f"L{index:05d}"
        value = float(sample.value)
        consumers = f"consumer_number,meter_digits,meter_decimals,sanctioned_load_kw\n{number},6,1,5\n"
        history = [(f"2026-{m:02d}-02", max(0.0, value - 240 * (11 - m))) for m in (8, 9, 10)]
        readings = "consumer_number,date,reading\n" + "".join(f"{number},{d},{r:.1f}\n" for d, r in history)
        import_csv(svc.sessions, "default", io.StringIO(consumers), io.StringIO(readings))
        # A consumer's typing mistake sends every photo to a reviewer, whatever the reader sees.
        typed = mistake(sample.value, "one_digit_wrong", rng)
        request = intake.Request("loop", f"loop-{index}", number, typed, SENT_AT, "app", data, "image/jpeg")
        with svc.sessions() as s:
            sub, _ = intake.submit(svc, s, request, lambda utility: True)
            sid = sub.id
        process(svc, sid)
        counts["sent"] += 1
        if not work.claim(svc, reviewer, sid):  # decided without a person
            counts["decided unseen"] += 1
            continue
        box = _register_box(sample)
        with svc.sessions() as s:
            outline = ((s.get(tables.Submission, sid).reading or {}).get("display") or {}).get("quad")
        if outline is None or not _inside(
            np.mean(outline, 0), box
        ):  # the outline is wrong: mark the register
            work.pick_region(svc, reviewer, sid, marked=box)
            counts["marked"] += 1
            counts["reader right after the mark"] += _offered(svc, sid) == sample.value
            bar.update()
        if _offered(svc, sid) == sample.value:
            work.act(svc, reviewer, sid, "accept_reader")
        else:
            work.act(svc, reviewer, sid, "correct", reading=sample.value)
    bar.close()
    return counts


def exact(reader: MeterReader, photos: list[tuple[bytes, object]], meter: Meter | None) -> float:
    return float(np.mean([reader.read(d, meter).digits in (s.digits, nearest_digits(s)) for d, s in photos]))


def main(args: argparse.Namespace) -> None:
    logging.getLogger("meterverify.tasks").setLevel(logging.ERROR)  # no queue here: each job runs in line
    unseen = [
        (d, s)
        for d, s in (
            render_photo(SEEDS["unseen"], i, size=(1024, 768), split="test", meter_type=BIG_SERIAL)
            for i in range(args.unseen)
        )
        if s.readable and s.mode == "kwh"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(args.generic_n, 9001, root / "generic", split="test", progress=False)
        generic = [
            ((root / "generic" / s.image).read_bytes(), s)
            for s in load_manifest(root / "generic")
            if s.readable and s.mode == "kwh"
        ]
        settings = Settings(var_dir=root / "service", submitted_at_max_age_h=10 * 365 * 24)
        svc = Service.from_settings(settings)
        upgrade(svc.engine)
        counts = review_photos(svc, args.marked, BIG_SERIAL)
        exported = export_reviews(svc, root / "from-reviews")
        svc.close()
        argv = [
            "--synth-n",
            str(args.synth_n),
            "--data",
            str(root / "from-reviews"),
            "--out",
            str(root / "run"),
        ]
        argv += ["--serve", str(root / "models"), "--workers", str(args.workers)]
        train_ranker.main(train_ranker.get_args_parser().parse_args(argv))
        served = read_served(root / "models").get("ranker")
        before = MeterReader()
        after = MeterReader(ranker_weights=Path(served["path"])) if served else before
        print(f"\nreviewed through the service: {counts}; exported {exported}")
        print(f"ranker promoted: {'yes, ' + served['version'] if served else 'no (refused by the gate)'}")
        print(f"{'exact reading':<46} {'before':>8} {'after':>8}")
        for name, photos, meter in (
            (f"big-serial, unseen, blind ({len(unseen)})", unseen, None),
            (f"big-serial, unseen, meter known ({len(unseen)})", unseen, Meter(6, 1)),
            (f"generic synthetic, blind ({len(generic)})", generic, None),
        ):
            print(f"{name:<46} {exact(before, photos, meter):8.1%} {exact(after, photos, meter):8.1%}")


if __name__ == "__main__":
    main(get_args_parser().parse_args())
