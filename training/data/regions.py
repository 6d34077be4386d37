"""Ranker training data: each photo's candidate regions as the served locator gathers them, measured, and which
of them is the register (a reviewer's mark, or the labelled display of a synthetic photo)."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from meterdata.manifest import Sample, load_manifest
from vision.geometry import on_display


@dataclass
class Photo:
    """One photo's regions: their features, and which of them are the register."""

    rows: np.ndarray  # regions x features
    register: np.ndarray  # bool per region


def is_register(region: np.ndarray, digits: str, quad: np.ndarray, truth: Sample) -> bool:
    """The region lies on the labelled register ``quad`` and holds its digits (the decimal drum may be apart)."""
    return on_display(region, quad) and abs(len(digits) - len(truth.digits)) <= truth.decimals


_reader = None


def _look(job: tuple[str, str, dict]) -> list[Photo]:
    """One photo's regions as the served locator gathers them, measured with the meter's register known (as
    when a typed value is verified) and not (a blind read): two examples (run in a worker process)."""
    global _reader
    from meterdata.manifest import parse_record
    from vision.image import ImageError, decode_photo
    from vision.locate import features, frame
    from vision.reader import MeterReader
    from vision.reading import Meter

    root, name, record = job
    truth = parse_record(record)
    _reader = _reader or MeterReader()
    try:
        photo = decode_photo((Path(root) / name).read_bytes())
    except ImageError:
        return []
    found = _reader.detector.detect(photo.image)
    scale = photo.image.shape[1] / photo.width  # labels are in photo pixels, regions in the working image's
    display = found.quad if found is not None else None
    regions = [c for c in _reader.locator.gather(photo, display) if len(c.digits) >= 3]
    if not regions:
        return []
    quad = np.asarray(truth.quad, np.float32) * scale
    register = np.array([is_register(c.quad, c.digits, quad, truth) for c in regions])
    context = frame(regions, photo.image.shape)
    return [
        Photo(np.stack([features(c, meter, *context, display) for c in regions]), register)
        for meter in (Meter(len(truth.digits), truth.decimals), None)
    ]


def look_at(root: Path, split: str | None, workers: int, what: str) -> list[Photo]:
    """The regions of every readable photo with a register quad in ``root`` (``split``: only that split), each
    photo twice (meter known and not); photos whose register no region holds are left out (nothing to rank)."""
    samples = [
        s
        for s in load_manifest(root)
        if s.readable
        and s.digits
        and s.quad is not None
        and s.mode in (None, "kwh")
        and split in (None, s.split)
    ]
    jobs = [(str(root), s.image, _record(s)) for s in samples]
    with ProcessPoolExecutor(workers) as pool:
        looked = list(tqdm(pool.map(_look, jobs, chunksize=4), total=len(jobs), desc=what, unit="photo"))
    return [p for pair in looked for p in pair if p.register.any()]


def _record(s: Sample) -> dict:
    return json.loads(s.to_json())
