"""A region a person gives (a reviewer's mark) is checked before anything reads it."""

from __future__ import annotations

import numpy as np
import pytest

from vision.reader import MIN_REGION, region_quad


def test_a_box_drawn_a_little_past_the_edge_is_kept_on_the_photo_in_order() -> None:
    quad = region_quad(
        [[1030, 90], [900, 90], [900, 130], [1030, 130]], 1024, 768
    )  # any order, past the edge
    assert quad.tolist() == [[900, 90], [1023, 90], [1023, 130], [900, 130]]


@pytest.mark.parametrize(
    ("quad", "words"),
    [
        ([[0, 0], [10, 0], [10, 10]], "four points"),
        ([[0, 0], [100, 0], [100, np.nan], [0, 40]], "four points"),
        ("[[0, 0]]", "four points"),
        ([[5000, 5000], [6000, 5000], [6000, 5100], [5000, 5100]], "outside the photo"),
        ([[10, 10], [200, 10], [200, 10 + MIN_REGION - 2], [10, 10 + MIN_REGION - 2]], "too small"),
    ],
)
def test_a_region_that_cannot_hold_a_register_is_refused_in_words(quad, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        region_quad(quad, 1024, 768)
