"""Synthetic photos on which the shipped reader shows one of the review findings of issue 19, chosen by what
the reader does on them (so they follow the model, like ``clear_photos``):

- ``other_screen``: a kWh register the reader takes for another screen (history, MD, date);
- ``dropped_drum``: a drum meter whose red decimal drum the reader leaves out;
- ``label_read``: a label or rating read instead of the register, while one of the other regions the reader
  offers a reviewer is the register (``region`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from meterdata.synth.scene import render_photo
from tests.serving.helpers import MeterPhoto
from verification import Reading

FINDINGS_SEED = 4243  # never trained on
KINDS = ("other_screen", "dropped_drum", "label_read")


@dataclass(frozen=True)
class FindingPhoto:
    photo: MeterPhoto
    blind_digits: str | None
    region: int = 0  # label_read: the region (1...) that shows the register
    register: tuple[float, float, float, float] = (0, 0, 0, 0)  # x0, y0, x1, y1 around its digits (pixels)


def _kind(sample, blind, reader, data: bytes) -> tuple[str, int] | None:
    if blind.reason and blind.reason.startswith("display_mode_"):
        return "other_screen", 0
    decimals = Reading.parse(sample.value).decimals
    if sample.kind == "drum" and decimals and blind.readable and blind.digits == sample.digits[:-1]:
        return "dropped_drum", 0
    if blind.digits != sample.digits:
        for k, other in enumerate(blind.others, start=1):
            if reader.read_region(data, other["quad"]).digits == sample.digits:
                return "label_read", k
    return None


def one_digit_typo(value: str) -> str:
    """The value with its last whole digit changed: a consumer's typing mistake."""
    whole, point, decimals = value.partition(".")
    last = str((int(whole[-1]) + 3) % 10)
    return whole[:-1] + last + point + decimals


def _around(boxes) -> tuple[float, float, float, float]:
    """The box a person would draw around the register's digits: their corners, with a little margin."""
    points = np.asarray(boxes, float).reshape(-1, 2)
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    mx, my = 0.04 * (x1 - x0), 0.15 * (y1 - y0)
    return (x0 - mx, y0 - my, x1 + mx, y1 + my)


@cache
def finding_photos() -> dict[str, FindingPhoto]:
    """One photo of each kind in ``KINDS``; for the first two, the reader does not confirm the true value typed
    on its own (a label read instead of the register reaches a reviewer with a typing mistake)."""
    from vision.reader import default_reader
    from vision.reading import Meter

    reader = default_reader()
    found: dict[str, FindingPhoto] = {}
    for index in range(400):
        data, sample = render_photo(FINDINGS_SEED, index, size=(1024, 768), split="test")
        if not (sample.digits and sample.mode == "kwh") or float(sample.value) < 100:
            continue  # a kWh reading big enough for a history below it
        meter = Meter(len(sample.digits), Reading.parse(sample.value).decimals)
        blind = reader.read(data, meter)
        kind = _kind(sample, blind, reader, data)
        if kind is None or kind[0] in found:
            continue
        if kind[0] != "label_read" and reader.verify(data, sample.value, meter).typed_verdict == "matches":
            continue  # the true value typed is accepted without a reviewer: not this finding
        photo = MeterPhoto(data, sample.value, sample.digits, meter.decimals)
        found[kind[0]] = FindingPhoto(photo, blind.digits, kind[1], _around(sample.digit_boxes))
        if len(found) == len(KINDS):
            return found
    raise RuntimeError(f"no photo shows {sorted(set(KINDS) - set(found))}")
