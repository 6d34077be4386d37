"""``meterverify data import``: a folder of real photos and a CSV of their readings into the dataset format.

readings.csv: ``image,reading[,meter_digits][,quad][,kind][,meter][,split]``
- ``image``: the file, relative to the photo folder; ``reading``: as on the display, e.g. ``013441.6`` or
  ``13441.6`` (with ``meter_digits`` the leading zeros are filled in); empty for an unreadable photo.
- ``quad``: the display's corners, 8 numbers ``x0 y0 x1 y1 x2 y2 x3 y3`` clockwise from top-left (optional).
- ``kind``: lcd7seg, drum or other (default other); ``meter``: which meter (splits never share one; default
  the image); ``split``: train, val or test (default 80/10/10 by a hash of the meter).
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

from .manifest import KINDS, MANIFEST_NAME, SPLITS, Sample, load_manifest, write_manifest


def _split(meter: str) -> str:
    bucket = int(hashlib.sha256(meter.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def _sample(row: dict, where: str) -> Sample:
    reading = (row.get("reading") or "").strip()
    digits, decimals = None, 0
    if reading:
        whole, _, frac = reading.partition(".")
        if not (whole + frac).isdigit():
            raise ValueError(f"{where}, reading: {reading[:30]!r} is not digits with an optional point")
        digits, decimals = whole + frac, len(frac)
        if row.get("meter_digits"):
            width = int(row["meter_digits"])
            if len(digits) > width:
                raise ValueError(f"{where}: {reading} has more digits than meter_digits {width}")
            digits = digits.rjust(width, "0")
    quad = None
    if row.get("quad"):
        numbers = [float(v) for v in row["quad"].replace(",", " ").split()]
        if len(numbers) != 8:
            raise ValueError(f"{where}, quad: 8 numbers, x0 y0 ... x3 y3")
        quad = [numbers[i : i + 2] for i in range(0, 8, 2)]
    kind = row.get("kind") or "other"
    if kind not in KINDS:
        raise ValueError(f"{where}, kind: one of {', '.join(KINDS)}")
    meter = row.get("meter") or row["image"]
    split = row.get("split") or _split(meter)
    if split not in SPLITS:
        raise ValueError(f"{where}, split: one of {', '.join(SPLITS)}")
    return Sample(
        image=f"images/{Path(row['image']).name}",
        digits=digits,
        decimals=decimals,
        quad=quad,
        kind=kind,
        readable=digits is not None,
        split=split,
        mode="kwh" if digits else None,
        meter=meter,
    )


def import_photos(photos: Path, readings: Path, out: Path, source: str = "") -> list[Sample]:
    """Check every row (errors name the line), then copy the photos and write the manifest and a card."""
    errors, samples, rows = [], [], []
    with readings.open(encoding="utf-8-sig", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), 2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            where = f"{readings.name} line {line}"
            if not row.get("image") or not (photos / row["image"]).is_file():
                errors.append(f"{where}, image: {row.get('image', '')[:60]!r} is not a file in {photos}")
                continue
            try:
                samples.append(_sample(row, where))
                rows.append(row)
            except ValueError as e:
                errors.append(str(e))
    if errors:
        raise ValueError("\n".join(errors[:50]))
    (out / "images").mkdir(parents=True, exist_ok=True)
    for row in rows:
        shutil.copy(photos / row["image"], out / "images" / Path(row["image"]).name)
    write_manifest(out / MANIFEST_NAME, samples)
    load_manifest(out)  # the format's own check, images included
    readable = sum(s.readable for s in samples)
    (out / "README.md").write_text(
        f"# {out.name}\n\n{len(samples)} photos ({readable} readable), imported by `meterverify data import` from "
        f"{photos} and {readings.name}. {source}\n\nState the photos' source and licence here before sharing.\n"
    )
    return samples
