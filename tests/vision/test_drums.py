"""Red decimal drums: told by their colour, and kept in the register when the text region leaves them out
(issue 20: the red drum left out was a third of the real failures)."""

from __future__ import annotations

import numpy as np
import pytest

from meterdata.synth.scene import render_photo
from vision.drums import red_decimals
from vision.reader import default_reader
from vision.reading import Meter

BLACK, RED, WHITE = (20, 20, 20), (30, 30, 190), (230, 230, 230)


def _strip(cells: list[tuple[int, int, int]], width: int = 30) -> tuple[np.ndarray, list[float]]:
    strip = np.zeros((48, width * len(cells), 3), np.uint8)
    for i, colour in enumerate(cells):
        strip[:, i * width : (i + 1) * width] = colour
        strip[14:34, i * width + 10 : i * width + 20] = WHITE  # the figure
    return strip, [i * width + width / 2 for i in range(len(cells))]


@pytest.mark.parametrize(
    ("cells", "decimals"),
    [
        ([BLACK] * 5 + [RED], 1),
        ([BLACK] * 5 + [RED] * 2, 2),
        ([BLACK] * 6, 0),
        ([RED] * 6, 0),  # a red housing or backlight colours every cell: no decimals from colour
        ([BLACK, RED, BLACK, BLACK, BLACK, RED], 0),  # a red mark among the figures: unsure, none
    ],
)
def test_decimal_drums_are_the_red_cells_at_the_right_end(cells, decimals: int) -> None:
    assert red_decimals(*_strip(cells)) == decimals


def _settled_drum_photos(n: int):
    """Drum-meter photos with red decimal drums at rest, of the generator's several styles (drawn figures or
    real crops tinted red, one or two red drums, with or without a printed comma, plates of several colours)."""
    index = 0
    while n:
        data, sample = render_photo(4321, index, size=(1024, 768), split="test")
        index += 1
        if sample.kind == "drum" and sample.decimals and sample.readable and not any(sample.roll):
            n -= 1
            yield data, sample


def test_the_red_drums_are_kept_and_read_as_decimals_wherever_the_register_is_found() -> None:
    reader, found = default_reader(), 0
    for data, sample in _settled_drum_photos(16):
        meter = Meter(len(sample.digits), sample.decimals)
        reading = reader.read(data, meter)
        whole = sample.digits[: -sample.decimals]
        if not (reading.digits or "").startswith(whole):
            continue  # another number read: the locator's failure, not the drums'
        found += 1
        assert (reading.digits, reading.decimals) == (sample.digits, sample.decimals)
    assert found >= 12
