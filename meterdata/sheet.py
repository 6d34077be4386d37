"""Contact sheets: a grid of thumbnails with each label drawn on, to eyeball a dataset in one picture."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .manifest import Sample, load_manifest

_GREEN, _YELLOW, _RED, _WHITE = (60, 220, 60), (0, 220, 255), (60, 60, 230), (255, 255, 255)


def annotate(image: np.ndarray, sample: Sample) -> np.ndarray:
    """Draw the display quad (green, first corner marked), digit boxes (yellow) on a copy of ``image``."""
    out = image.copy()
    t = max(2, round(max(out.shape[:2]) / 400))
    if sample.quad:
        quad = np.array(sample.quad, np.int32)
        cv2.polylines(out, [quad], True, _GREEN if sample.readable else _RED, t, cv2.LINE_AA)
        cv2.circle(out, tuple(int(v) for v in quad[0]), t * 3, _GREEN, -1)
    for x0, y0, x1, y1 in sample.digit_boxes or []:
        cv2.rectangle(out, (int(x0), int(y0)), (int(x1), int(y1)), _YELLOW, max(1, t // 2))
    return out


def caption(sample: Sample) -> list[str]:
    """Two short lines describing the label: reading and mode, then kind, readability and split."""
    if sample.digits:
        rolling = [i for i, r in enumerate(sample.roll or []) if r > 0]
        first = f"{sample.digits} = {sample.value}" + (f" ~{len(rolling)}" if rolling else "")
        if sample.mode and sample.mode != "kwh":
            first += f" [{sample.mode}]"
    else:
        first = "(no digits)"
    why = sample.extra.get("unreadable_reason")
    second = f"{sample.kind} {sample.split} " + ("readable" if sample.readable else f"UNREADABLE {why or ''}")
    return [first, second.strip()]


def contact_sheet(
    dataset: str | Path,
    n: int = 48,
    cols: int = 8,
    thumb: int = 240,
    split: str | None = None,
) -> np.ndarray:
    """Render the first ``n`` images of a dataset (optionally one split) into one BGR picture."""
    dataset = Path(dataset)
    samples = [s for s in load_manifest(dataset) if split is None or s.split == split][:n]
    if not samples:
        raise ValueError(f"{dataset}: no images to show" + (f" in split {split!r}" if split else ""))
    rows = -(-len(samples) // cols)
    cell_h = thumb + 36
    sheet = np.full((rows * cell_h, cols * thumb, 3), 32, np.uint8)
    for i, sample in enumerate(samples):
        image = cv2.imread(str(dataset / sample.image), cv2.IMREAD_COLOR)
        if image is None:
            continue
        image = annotate(image, sample)
        scale = thumb / max(image.shape[:2])
        small = cv2.resize(
            image,
            (max(1, int(image.shape[1] * scale)), max(1, int(image.shape[0] * scale))),
            interpolation=cv2.INTER_AREA,
        )
        r, c = divmod(i, cols)
        y, x = r * cell_h, c * thumb
        sheet[y : y + small.shape[0], x : x + small.shape[1]] = small
        for k, line in enumerate(caption(sample)):
            colour = _WHITE if k == 0 else (_GREEN if sample.readable else _RED)
            cv2.putText(
                sheet,
                line[:34],
                (x + 3, y + thumb + 14 + 16 * k),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.42,
                colour,
                1,
                cv2.LINE_AA,
            )
    return sheet


def write_contact_sheet(dataset: str | Path, out: str | Path, **kwargs) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), contact_sheet(dataset, **kwargs)):
        raise ValueError(f"{out}: cannot write an image there (use .png or .jpg)")
    return out
