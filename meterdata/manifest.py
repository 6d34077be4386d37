"""The dataset manifest: one JSON object per line, one line per image.

The format is documented in ``datasets/README.md``; this module is its single source of truth in code.
``load_manifest`` validates every line and names the bad line and field, so a broken manifest fails
loudly before hours of training are spent on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("lcd7seg", "drum", "other")
SPLITS = ("train", "val", "test")
# What an LCD is showing. Only "kwh" is a consumption reading; the others are distractor modes.
MODES = ("kwh", "kw_md", "date", "time", "segment_test", "history")  # history: a billing-history register
MANIFEST_NAME = "manifest.jsonl"

_DIGITS = re.compile(r"[0-9]*")


class ManifestError(ValueError):
    """A manifest line that breaks the format; the message names the file, line and field."""


@dataclass(frozen=True)
class Sample:
    """One labelled image.

    ``digits`` is the string as displayed, left to right, leading zeros kept; ``decimals`` how many of
    them are after the decimal point (or on red drums). ``quad`` is the display's four corners, clockwise
    from top-left, in image pixels. ``roll`` gives, per digit, how far a drum has turned towards the next
    value (0 for a settled digit, 0.5 half-way).
    """

    image: str
    digits: str | None
    decimals: int
    quad: list[list[float]] | None
    kind: str
    readable: bool
    split: str
    digit_boxes: list[list[float]] | None = None
    mode: str | None = None
    roll: list[float] | None = None
    meter: str | None = None
    width: int | None = None
    height: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> str | None:
        """The reading as a decimal string, e.g. ``"13441.6"`` for digits ``"0134416"``, 1 decimal."""
        if not self.digits:
            return None
        whole = self.digits[: len(self.digits) - self.decimals] or "0"
        whole = whole.lstrip("0") or "0"
        return f"{whole}.{self.digits[-self.decimals :]}" if self.decimals else whole

    def to_json(self) -> str:
        record = {k: v for k, v in asdict(self).items() if k != "extra" and (v is not None or k in _REQUIRED)}
        record.update(self.extra)
        return json.dumps(record, separators=(",", ":"))


_REQUIRED = ("image", "digits", "decimals", "quad", "kind", "readable", "split")
_KNOWN = set(_REQUIRED) | {"digit_boxes", "mode", "roll", "meter", "width", "height"}


def _point_list(value: Any, n: int | None, width: int, name: str) -> list[list[float]]:
    if not isinstance(value, list) or (n is not None and len(value) != n):
        want = f"{n} " if n is not None else ""
        raise ValueError(f"{name}: expected a list of {want}[{', '.join(['number'] * width)}] items")
    for item in value:
        if (
            not isinstance(item, list)
            or len(item) != width
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in item)
        ):
            raise ValueError(f"{name}: each item must be {width} numbers, got {item!r}")
    return [[float(v) for v in item] for item in value]


def parse_record(record: Any) -> Sample:
    """Turn one decoded manifest line into a ``Sample``; raises ``ValueError`` naming the field."""
    if not isinstance(record, dict):
        raise ValueError("line: expected a JSON object")
    for key in _REQUIRED:
        if key not in record:
            raise ValueError(f"{key}: missing")
    image = record["image"]
    if not isinstance(image, str) or not image or image.startswith("/") or ".." in Path(image).parts:
        raise ValueError("image: expected a relative path inside the dataset folder")
    digits = record["digits"]
    if digits is not None and (not isinstance(digits, str) or not _DIGITS.fullmatch(digits)):
        raise ValueError(f"digits: expected a string of 0-9 or null, got {digits!r}")
    decimals = record["decimals"]
    if not isinstance(decimals, int) or isinstance(decimals, bool) or decimals < 0:
        raise ValueError(f"decimals: expected a non-negative integer, got {decimals!r}")
    if decimals > len(digits or ""):
        raise ValueError(f"decimals: {decimals} is more than the {len(digits or '')} digits")
    quad = record["quad"]
    if quad is not None:
        quad = _point_list(quad, 4, 2, "quad")
    kind = record["kind"]
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    readable = record["readable"]
    if not isinstance(readable, bool):
        raise ValueError(f"readable: expected true or false, got {readable!r}")
    if readable and digits is None:
        raise ValueError("digits: a readable image needs its digits")
    split = record["split"]
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {', '.join(SPLITS)}, got {split!r}")
    boxes = record.get("digit_boxes")
    if boxes is not None:
        boxes = _point_list(boxes, len(digits or ""), 4, "digit_boxes")
        if any(x1 <= x0 or y1 <= y0 for x0, y0, x1, y1 in boxes):
            raise ValueError("digit_boxes: each box must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
    mode = record.get("mode")
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
    roll = record.get("roll")
    if roll is not None:
        if (
            not isinstance(roll, list)
            or len(roll) != len(digits or "")
            or not all(isinstance(r, int | float) and 0 <= r < 1 for r in roll)
        ):
            raise ValueError("roll: expected one number in [0, 1) per digit")
        roll = [float(r) for r in roll]
    for key in ("width", "height"):
        v = record.get(key)
        if v is not None and (not isinstance(v, int) or v <= 0):
            raise ValueError(f"{key}: expected a positive integer, got {v!r}")
    meter = record.get("meter")
    if meter is not None and not isinstance(meter, str):
        raise ValueError(f"meter: expected a string, got {meter!r}")
    return Sample(
        image=image,
        digits=digits,
        decimals=decimals,
        quad=quad,
        kind=kind,
        readable=readable,
        split=split,
        digit_boxes=boxes,
        mode=mode,
        roll=roll,
        meter=meter,
        width=record.get("width"),
        height=record.get("height"),
        extra={k: v for k, v in record.items() if k not in _KNOWN},
    )


def iter_manifest(path: str | Path) -> Iterator[tuple[int, Sample]]:
    """Yield ``(line_number, sample)``; the first bad line raises ``ManifestError``."""
    path = Path(path)
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ManifestError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
            try:
                yield lineno, parse_record(record)
            except ValueError as e:
                raise ManifestError(f"{path}:{lineno}: field {e}") from None


def load_manifest(path: str | Path, check_files: bool = True) -> list[Sample]:
    """Load and validate a manifest (a ``manifest.jsonl`` file, or the dataset folder holding one).

    With ``check_files`` every image must exist next to the manifest; a line naming a missing file
    raises ``ManifestError`` too.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    samples = []
    seen: dict[str, int] = {}
    for lineno, sample in iter_manifest(path):
        if sample.image in seen:
            raise ManifestError(
                f"{path}:{lineno}: field image: {sample.image!r} already on line {seen[sample.image]}"
            )
        seen[sample.image] = lineno
        if check_files and not (path.parent / sample.image).is_file():
            raise ManifestError(f"{path}:{lineno}: field image: file {sample.image!r} not found")
        samples.append(sample)
    return samples


def write_manifest(path: str | Path, samples: Iterable[Sample]) -> int:
    """Write samples as JSONL, one per line; returns how many were written."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as f:
        for sample in samples:
            f.write(sample.to_json() + "\n")
            n += 1
    return n
