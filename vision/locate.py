"""Where the reading is: candidate regions from text detection and our display detector, scored, refined.

A photo holds many numbers: the register, serial numbers, ratings (``5-30 A``, ``3200 imp/kWh``), stickers,
handwritten notes, a neighbour's meter. Each text region the PP-OCRv4 detector finds (and the display quad
of our own detector, and the whole photo when it is a tight crop) is read by the recognizer and scored as a
reading: how many digits it holds against what the meter shows (when the consumer record says), letters
around the digits, how large and central the text is, how sure the recognizer is. The best one is looked at
again, sharper, on a crop around it; a small index beside it (``6B``, ``MD``) says which register is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from .detect.text import TextBox, TextDetector
from .drums import MAX_RED, RED_SHARE, red_decimals, red_share
from .geometry import on_display, order_quad, quad_size, rectify
from .image import Photo
from .ocr.ppocr import HEIGHT, TextLine, TextRecognizer
from .rank import FEATURES, Ranker
from .reading import Meter

# Text shorter than this (pixels of the working image) is print on the housing, not a register.
MIN_TEXT_HEIGHT = 8
MAX_READ = 12  # regions read per pass, tallest first
# A photo this much wider than high may be a tight crop of the counter: read it whole too.
WHOLE_ASPECT = 2.0
_UNIT = re.compile(r"k?\s*w\s*h", re.IGNORECASE)
# A crop this much larger than the region, around it, is looked at again.
REFINE_MARGIN_X, REFINE_MARGIN_Y = 0.6, 1.2
REFINE_TEXT_HEIGHT = 64  # the region's text height in the refining crop, pixels
# A region short of the meter's decimal drums grows by them and this much of a cell more (the drum's frame).
EXTEND_SLACK = 0.3
# Other regions offered to a reviewer beside the chosen one, when the choice was wrong.
RUNNERS_UP = 3


@dataclass
class Candidate:
    quad: np.ndarray  # pixels of the working image, clockwise from top-left
    source: str  # text, line (neighbouring text regions joined), detector, whole
    line: TextLine
    strip: np.ndarray  # what the recognizer read (BGR, 48 high)
    start: int = 0  # the digit run: line.chars[start:end]
    end: int = 0
    score: float = -np.inf
    suffix: str = ""  # the small index beside the register, as read (e.g. "6B"), if any
    meter_line: TextLine | None = (
        None  # the same strip read by the recognizer fine-tuned on meters, once chosen
    )

    @property
    def run(self) -> list:
        return self.line.chars[self.start : self.end]

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.run)

    @property
    def digits(self) -> str:
        return self.text.replace(".", "").replace("?", "")

    @property
    def decimals(self) -> int:
        return decimals_of(self.text)

    @property
    def height(self) -> float:
        return quad_size(self.quad)[1]


def decimals_of(text: str) -> int:
    """Digits after the one decimal point of a run (``"013441.6"`` -> 1); 0 without exactly one inside."""
    dot = text.find(".")
    return len(text) - dot - 1 if text.count(".") == 1 and 0 < dot < len(text) - 1 else 0


_SCREEN = re.compile(r"\d{2}\?\d{2}\?\d{2,4}")  # a date or time: 08-09-23, 05:39:20 (separators are "other")


def digit_run(chars: list) -> tuple[int, int]:
    """The longest run of digits (and decimal points) not broken by another character; a date or a time
    shown on the display counts as one run, separators and all (it is then told apart by its mode)."""
    best, start = (0, 0), 0
    for i in range(len(chars) + 1):
        if i == len(chars) or chars[i].char == "?":
            run = chars[start:i]
            if sum(c.char != "." for c in run) > sum(c.char != "." for c in chars[best[0] : best[1]]):
                best = (start, i)
            start = i + 1
    s, e = best
    while s < e and chars[s].char == ".":
        s += 1
    while e > s and chars[e - 1].char == ".":
        e -= 1
    screen = _SCREEN.search("".join(c.char for c in chars))
    if screen and screen.end() - screen.start() > e - s:
        return screen.start(), screen.end()
    return s, e


def features(
    c: Candidate,
    meter: Meter | None,
    tallest: float,
    centre: np.ndarray,
    diag: float,
    display: np.ndarray | None = None,
) -> np.ndarray:
    """The measures of ``vision.rank.FEATURES`` for one region (``display``: our detector's quad, same pixels)."""
    n = len(c.digits)
    confidences = [ch.confidence for ch in c.run if ch.char != "."]
    known = meter is not None
    exact = known and n == meter.digits
    short = known and meter.digits - 3 <= n < meter.digits
    hsv = cv2.cvtColor(c.strip, cv2.COLOR_BGR2HSV) if c.strip.ndim == 3 else None
    grey = cv2.cvtColor(c.strip, cv2.COLOR_BGR2GRAY) if c.strip.ndim == 3 else c.strip
    values = {
        "confidence": float(np.mean(confidences)) if confidences else 0.0,
        "meter_digits": float(exact),
        "meter_short": float(short),
        "meter_off": float(abs(n - meter.digits)) if known and not (exact or short) else 0.0,
        "no_meter_4_8": float(not known and 4 <= n <= 8),
        "no_meter_long": float(not known and n > 8),
        "letters": float(min(sum(ch.char == "?" for ch in c.line.chars), 4)),
        "dots": float(c.text.count(".") > 1),
        "height": min(1.0, c.height / tallest),
        "off_centre": float(np.linalg.norm(c.quad.mean(0) - centre)) / diag,
        "on_display": float(display is not None and c.source != "detector" and on_display(c.quad, display)),
        "from_detector": float(c.source == "detector"),
        "joined": float(c.source.startswith("line")),
        "colour": float(hsv[..., 1].mean()) / 255 if hsv is not None else 0.0,
        "contrast": float(grey.std()) / 128,
    }
    return np.array([values[name] for name in FEATURES], np.float32)


class Locator:
    def __init__(
        self,
        detector: TextDetector,
        recognizer: TextRecognizer,
        ranker: Ranker | None = None,
        drum_readers: tuple[TextRecognizer, ...] = (),
    ) -> None:
        """``drum_readers``: recognizers that also read a drum caught turning, which the general one leaves
        blank (a grown region's last drums are read by them too)."""
        self.detector = detector
        self.recognizer = recognizer
        self.ranker = ranker or Ranker()
        self.drum_readers = drum_readers

    def candidates(
        self, image: np.ndarray, boxes: list[TextBox], extra: list[tuple[str, np.ndarray]]
    ) -> list[Candidate]:
        """Read every plausible region once and return them unscored."""
        quads = [("text", b.quad) for b in boxes if _plausible(b.quad)]
        quads.sort(key=lambda q: -quad_size(q[1])[1])
        quads = quads[:MAX_READ]
        quads += [("line", q) for q in _joined_lines([q for _, q in quads])]
        quads += extra
        strips = [rectify(image, q, HEIGHT) for _, q in quads]
        lines = self.recognizer.read(strips)
        out = []
        for (source, quad), strip, line in zip(quads, strips, lines, strict=True):
            start, end = digit_run(line.chars)
            out.append(Candidate(order_quad(quad), source, line, strip, start, end))
        return out

    def best(
        self,
        cands: list[Candidate],
        meter: Meter | None,
        shape: tuple[int, ...],
        display: np.ndarray | None = None,
    ) -> Candidate | None:
        """The region the ranker scores highest among those with 3 digits or more (each gets its ``score``)."""
        scored = [c for c in cands if len(c.digits) >= 3]
        if not scored:
            return None
        context = frame(scored, shape)
        rows = np.stack([features(c, meter, *context, display) for c in scored])
        for c, value in zip(scored, self.ranker(rows), strict=True):
            c.score = float(value)
        return max(scored, key=lambda c: c.score)

    def find(
        self, photo: Photo, meter: Meter | None, detector_quad: np.ndarray | None
    ) -> tuple[Candidate | None, list[Candidate]]:
        """The region most likely to show the reading, refined on a sharper crop, or None; and the next best
        regions that lie elsewhere (``RUNNERS_UP`` at most, best first), for a reviewer when the choice is
        wrong."""
        cands = self.gather(photo, detector_quad)
        first = self.best(cands, meter, photo.image.shape, detector_quad)
        if first is None:
            return None, []
        others = runners_up(first, cands)
        refined = self._refine(photo, first, meter)
        if refined is not None and len(refined.digits) < len(first.digits):
            first.suffix = refined.suffix  # the sharper view split the register: keep the first
            refined = None
        chosen = refined or first
        return self._extend(photo, chosen, meter) or chosen, others

    def _extend(self, photo: Photo, region: Candidate, meter: Meter | None) -> Candidate | None:
        """The region grown by the red cells that follow it: a red (or white-on-red) decimal drum is often not
        found as text with the black ones. With a meter known, only by the figures it lacks, when they can be
        its decimals; kept only when it reads the same digits, then the missing ones."""
        if not region.digits:
            return None
        tl, tr, br, bl = region.quad
        pitch = (tr - tl) / len(region.digits)  # one cell along the line (the region's own padding included)
        if meter is not None:
            missing = meter.digits - len(region.digits)
            if not 0 < missing <= meter.decimals:
                return None
        else:  # no meter known: red cells just past the region's end may be its decimal drums
            missing = _red_cells_after(photo.image, region.quad, pitch)
            if not missing:
                return None
        grow = pitch * (missing + EXTEND_SLACK)
        (grown,) = self.candidates(photo.image, [], [("extended", np.array([tl, tr + grow, br + grow, bl]))])
        for line in (grown.line, *(r.read([grown.strip])[0] for r in self.drum_readers)):
            grown.line = line
            grown.start, grown.end = digit_run(line.chars)
            # The figures grown into must sit on red cells, the others not: never a label or the frame read
            # as a figure (an LCD's last figure is never apart from the others).
            if (
                grown.digits[: len(region.digits)] == region.digits
                and len(grown.digits) == len(region.digits) + missing
                and red_figures(grown.strip, line)[1] >= missing
            ):
                grown.score, grown.suffix = region.score, region.suffix
                grown.source = f"{region.source}+extended"
                return grown
        return None

    def gather(self, photo: Photo, detector_quad: np.ndarray | None) -> list[Candidate]:
        """Every region that may be the register, read once: text regions, neighbouring ones joined, our
        detector's display quad and, for a tight crop of the counter, the whole photo."""
        image = photo.image
        boxes = self.detector.detect(image, 640)
        h, w = image.shape[:2]
        extra = [("whole", whole_quad(image))] if w >= WHOLE_ASPECT * h or not boxes else []
        if detector_quad is not None:
            extra.append(("detector", detector_quad))
        return self.candidates(image, boxes, extra)

    def read_quad(self, photo: Photo, quad: np.ndarray, meter: Meter | None = None) -> Candidate:
        """The register a person marked or picked at ``quad`` (working-image pixels), read there. A box drawn by
        hand is loose and upright: the text line inside it that reads best as a register (tilted, without the
        labels beside it) is taken when there is one, else the box itself."""
        (picked,) = self.candidates(photo.image, [], [("picked", np.asarray(quad, np.float32))])
        picked.score = 0.0
        inside = self._closer(photo, picked, meter, margin=(0.1, 0.2), within=0.6)
        options = [c for c in (inside, picked) if c is not None and len(c.digits) >= 3] or [picked]
        if meter is not None:  # the one holding the meter's digit count; else the text line inside
            options.sort(key=lambda c: abs(len(c.digits) - meter.digits))
        return options[0]

    def _refine(self, photo: Photo, first: Candidate, meter: Meter | None) -> Candidate | None:
        """Look again at a crop around the region, with the text about REFINE_TEXT_HEIGHT pixels high."""
        best = self._closer(photo, first, meter, margin=(REFINE_MARGIN_X, REFINE_MARGIN_Y), within=0.3)
        if best is not None:
            best.source = f"{best.source}+refined"
        return best

    def _closer(
        self,
        photo: Photo,
        first: Candidate,
        meter: Meter | None,
        margin: tuple[float, float],
        within: float,
    ) -> Candidate | None:
        """The best region among the text found on a sharper crop around ``first`` (``margin``: of its width
        and height on each side) that lies at least ``within`` inside it; its index read beside it."""
        image = photo.image
        x0, y0 = first.quad.min(0)
        x1, y1 = first.quad.max(0)
        w, h = x1 - x0, y1 - y0
        box = np.array([x0 - margin[0] * w, y0 - margin[1] * h, x1 + margin[0] * w, y1 + margin[1] * h])
        zoom = REFINE_TEXT_HEIGHT / max(first.height, 1.0)
        source = image
        if zoom > 1.2 and photo.factor > 1:  # a sharper decode of a JPEG beats upscaling
            factor = photo.factor
            while factor > 1 and zoom * factor / photo.factor > 1.0:
                factor //= 2
            source = photo.at_factor(factor)
        s = source.shape[1] / image.shape[1]
        bx0, by0 = np.clip(np.floor(box[:2] * s), 0, None).astype(int)
        bx1, by1 = np.minimum(np.ceil(box[2:] * s), (source.shape[1], source.shape[0])).astype(int)
        crop = source[by0:by1, bx0:bx1]
        if crop.shape[0] < 16 or crop.shape[1] < 16:
            return None
        long_side = int(np.clip(max(crop.shape[:2]) * zoom / s, 480, 800))
        boxes = self.detector.detect(crop, long_side)
        offset = np.array([bx0, by0], np.float32)
        to_image = lambda q: (q + offset) / s  # noqa: E731
        first_in_crop = first.quad * s - offset
        near = [b for b in boxes if _overlap(b.quad, first_in_crop) > within]
        best = self.best(self.candidates(crop, near, []), meter, crop.shape)
        if best is None:
            return None
        best.suffix = _suffix(best, [b.quad for b in boxes], crop, self.recognizer)
        best.quad = to_image(best.quad)
        return best


def frame(cands: list[Candidate], shape: tuple[int, ...]) -> tuple[float, np.ndarray, float]:
    """What a region's size and place are measured against: the tallest text (a display quad or the whole photo
    is taller than any text on it, so is left out), the image's centre and half-diagonal."""
    texts = [c.height for c in cands if c.source in ("text", "line")]
    tallest = max(texts or [c.height for c in cands])
    h, w = shape[:2]
    return tallest, np.array([w / 2, h / 2]), float(np.hypot(w, h)) / 2


def red_figures(strip: np.ndarray, line: TextLine) -> tuple[str, int]:
    """The digits of a line's digit run, and how many of the last sit on red cells of ``strip`` (the decimal
    drums, ``vision.drums``), each figure where the line's frames place it."""
    figures = [ch for ch in line.chars[slice(*digit_run(line.chars))] if ch.char.isdigit()]
    scale = strip.shape[1] / max(1, len(line.probs))
    return "".join(ch.char for ch in figures), red_decimals(
        strip, [(ch.frame + 0.5) * scale for ch in figures]
    )


def _red_cells_after(image: np.ndarray, quad: np.ndarray, pitch: np.ndarray) -> int:
    """Red cells (up to ``MAX_RED``) right after a region's end, one ``pitch`` each: decimal drums the text
    region may have left out."""
    tl, tr, br, bl = quad
    red = 0
    while red < MAX_RED:
        start = pitch * red
        cell = rectify(
            image, np.array([tr + start, tr + start + pitch, br + start + pitch, br + start]), HEIGHT
        )
        if red_share(cell) < RED_SHARE:
            break
        red += 1
    return red


def runners_up(chosen: Candidate, cands: list[Candidate]) -> list[Candidate]:
    """The best scored regions that are not the chosen one nor mostly inside another kept region."""
    kept: list[Candidate] = []
    for c in sorted(cands, key=lambda c: -c.score):
        if len(kept) == RUNNERS_UP or not np.isfinite(c.score):
            break
        if c is chosen or any(_overlap(c.quad, k.quad) > 0.5 for k in (chosen, *kept)):
            continue
        kept.append(c)
    return kept


def _plausible(quad: np.ndarray) -> bool:
    w, h = quad_size(quad)
    return h >= MIN_TEXT_HEIGHT and w >= 1.2 * h


def whole_quad(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return np.array([(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)], np.float32)


def _joined_lines(quads: list[np.ndarray]) -> list[np.ndarray]:
    """Neighbouring regions of one text line joined (digits split by a wide gap, a separate red drum)."""
    joined = []
    for i, a in enumerate(quads):
        wa, ha = quad_size(a)
        for b in quads[i + 1 :]:
            wb, hb = quad_size(b)
            if min(ha, hb) / max(ha, hb) < 0.7:
                continue
            ca, cb = a.mean(0), b.mean(0)
            if abs(ca[1] - cb[1]) > 0.35 * max(ha, hb):
                continue
            gap = abs(ca[0] - cb[0]) - (wa + wb) / 2
            if gap < 1.2 * max(ha, hb):
                joined.append(
                    order_quad(cv2.boxPoints(cv2.minAreaRect(np.vstack([a, b]).astype(np.float32))))
                )
    return joined


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller quad's area that lies inside the other."""
    area_a, area_b = abs(cv2.contourArea(a.astype(np.float32))), abs(cv2.contourArea(b.astype(np.float32)))
    if min(area_a, area_b) <= 0:
        return 0.0
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    return float(inter / min(area_a, area_b))


def _suffix(reg: Candidate, quads: list[np.ndarray], image: np.ndarray, recognizer: TextRecognizer) -> str:
    """Small text just right of the register, in its lower half: a register index such as ``6B`` or ``MD``.

    Read from the text regions found there, or else from that place itself (an index is often too faint
    for the text detector). The unit label (``kWh``) sits above it on the same displays and is no index.
    """
    w, h = quad_size(reg.quad)
    tl, tr, br, bl = reg.quad
    along = (tr - tl) / max(np.linalg.norm(tr - tl), 1e-6)  # unit vectors of the register's frame
    down = (bl - tl) / max(np.linalg.norm(bl - tl), 1e-6)

    def at(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        return np.array([tl + along * x + down * y for x, y in corners], np.float32)

    place = at(w - 0.1 * h, 0.4 * h, w + 0.9 * h, 1.05 * h)
    found = [q for q in quads if _inside(q.mean(0), place) and quad_size(q)[1] < 0.8 * h]
    # A full-height figure there (a red decimal drum, a digit the region left out) shows above the place
    # too; an index shows only below it (with at most the unit label above).
    crops = [rectify(image, at(w - 0.1 * h, -0.05 * h, w + 0.9 * h, 0.5 * h), HEIGHT)]
    crops += [rectify(image, q, HEIGHT) for q in found] or [rectify(image, place, HEIGHT)]
    above, *below = recognizer.read(crops)
    if any(ch.isdigit() for ch in _UNIT.sub("", above.raw)):
        return ""
    return " ".join(line.raw.strip() for line in below if line.raw.strip())


def _inside(point: np.ndarray, quad: np.ndarray) -> bool:
    return cv2.pointPolygonTest(quad.astype(np.float32), (float(point[0]), float(point[1])), False) >= 0


def display_mode(region: Candidate) -> str:
    """What the display shows: the kWh register, or another register, a date, a time, the segment test.

    From the text of the register's line (``08-09-23``, ``05:39:20``, ``DATE``) and the small index beside
    it (``TIME``, ``MD``, ``kW``, ``6B``).
    """
    line = region.line.raw.upper()
    index = re.sub(r"[^0-9A-Z]", "", _UNIT.sub("", region.suffix).upper())
    if len(index) < 2:
        # Every register index has two characters or more (1B, H1, MD, TOD1); one character read beside a
        # register is a figure of its own (a drum's edge, the next drum turning into view) or a mark.
        index = ""
    if re.search(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", line) or "DATE" in line + index:
        return "date"
    if re.search(r"\d{1,2}:\d{2}", line) or "TIME" in line + index:
        return "time"
    if len(region.digits) >= 4 and set(region.digits) == {"8"}:
        return "segment_test"
    if "MD" in index or "KW" in index:  # a kW unit beside the register (the kWh one was removed above)
        return "kw_md"
    # Register indices on Indian static meters: 1B..6B (billing history), H1.., a digit read in its place.
    if re.search(r"[0-9BHD]", index):
        return "history"
    return "kwh"
