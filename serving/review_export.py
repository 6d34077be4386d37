"""Reviewer corrections as training data: the photos people settled, with where the register is (where a
reviewer picked or marked it, else where the reader found it) and the reading a person confirmed, written in the
dataset format (``datasets/README.md``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from meterdata.manifest import MANIFEST_NAME, Sample, write_manifest
from vision.image import ImageError, decode_photo

from . import tables
from .service import Service
from .store import PhotoMissing, StoreUnavailable

EXTENSION = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIC": "heic"}
# Rejections that say the photo cannot be read (the review UI's reasons, or an API reviewer's own words):
# kept as unreadable examples. A wrong meter or a reused photo says nothing about reading.
UNREADABLE_WORDS = ("unclear", "not clear", "not a meter", "not show a meter", "blurred", "blurry")


def _split(meter: str) -> str:
    """80/10/10 by meter, so a meter's photos never sit in two splits."""
    bucket = int(hashlib.sha256(meter.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def export_reviews(svc: Service, out: Path, utility: str | None = None) -> int:
    """Write every reviewer-settled submission (accepted, or rejected as unclear / not a meter) to ``out``;
    returns how many. Consumer numbers are not written: the meter is named by a hash."""
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    samples = []
    with svc.sessions() as s:
        q = (
            select(tables.Submission, tables.Consumer)
            .join(tables.Consumer, tables.Consumer.number == tables.Submission.consumer_number)
            .where(tables.Submission.status.in_(("accepted", "rejected")))
            .order_by(tables.Submission.decided_at)
        )
        if utility:
            q = q.where(tables.Submission.utility == utility)
        for sub, consumer in s.execute(q):
            decision = sub.decision or {}
            if decision.get("decided_by", "automatic") == "automatic":
                continue
            rejection = " ".join(
                r["message"].lower()
                for r in decision.get("reasons", [])
                if r["code"] == "rejected_by_reviewer"
            )
            readable = sub.status == "accepted"
            if not readable and not any(words in rejection for words in UNREADABLE_WORDS):
                continue
            try:
                data = svc.store.get(sub.photo_sha256)
            except (PhotoMissing, StoreUnavailable):
                continue  # the export goes on; the card counts what was written
            name = f"images/{sub.id}.{EXTENSION.get(sub.photo_type, 'jpg')}"
            (out / name).write_bytes(data)
            meter = hashlib.sha256(f"{consumer.utility}:{consumer.number}".encode()).hexdigest()[:12]
            digits = None
            if readable:
                units, _, frac = sub.verified_reading.partition(".")
                frac = frac.ljust(consumer.meter_decimals, "0")[: consumer.meter_decimals]
                digits = (units + frac).rjust(consumer.meter_digits, "0")
            # Where the register is: where a reviewer picked or marked it, else where the reader found it.
            picked = (sub.reading or {}).get("picked")
            quad = (picked or (sub.reading or {}).get("display") or {}).get("quad")
            try:
                photo = decode_photo(data)  # quads are in the upright photo's pixels: its size goes with them
            except ImageError:
                photo = None
            samples.append(
                Sample(
                    image=name,
                    digits=digits,
                    decimals=consumer.meter_decimals if readable else 0,
                    quad=quad if photo else None,
                    kind="other",
                    readable=readable,
                    split=_split(meter),
                    mode="kwh" if readable else None,
                    meter=meter,
                    width=photo.width if photo else None,
                    height=photo.height if photo else None,
                    extra={
                        "source": "review",
                        "submission_id": sub.id,
                        "reviewer": decision.get("decided_by"),
                        "reader_value": decision.get("proposed_reading"),
                        "typed": sub.typed_reading,
                        "register_from": (
                            ("marked" if picked.get("marked") else "picked") if picked else "reader"
                        ),
                    },
                )
            )
    write_manifest(out / MANIFEST_NAME, samples)
    (out / "README.md").write_text(
        f"# Reviewer corrections ({len(samples)} photos)\n\n"
        f"Exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `meterverify data from-reviews`"
        f"{f' for utility {utility}' if utility else ''}: photos a reviewer settled, with where the register "
        "is (`extra.register_from`: marked or picked by the reviewer, else as the reader found it) and the reading the reviewer confirmed (rejected as unclear or not a meter: "
        "`readable: false`). `kind` is `other` (not recorded per consumer); `meter` is a hash of the consumer, "
        "and splits (80/10/10) never share a meter. The photos are consumers' own: keep this dataset inside the "
        "utility's systems.\n"
    )
    return len(samples)
