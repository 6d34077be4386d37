from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.vision import photos
from vision.image import ImageError, decode_photo, sniff_format


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    """A 1600x1200 picture with an asymmetric mark, to check orientation."""
    image = np.full((1200, 1600, 3), 90, np.uint8)
    cv2.rectangle(image, (100, 100), (500, 300), (0, 0, 255), -1)  # red block, top-left
    return image


def _red_corner(image: np.ndarray) -> str:
    h, w = image.shape[:2]
    quads = {
        "tl": image[: h // 2, : w // 2],
        "tr": image[: h // 2, w // 2 :],
        "bl": image[h // 2 :, : w // 2],
        "br": image[h // 2 :, w // 2 :],
    }
    return max(quads, key=lambda k: (quads[k][..., 2].astype(int) - quads[k][..., 1]).mean())


def test_jpeg_is_decoded_reduced_but_knows_its_size(scene: np.ndarray) -> None:
    big = cv2.resize(scene, (4000, 3000))
    photo = decode_photo(photos.jpeg(big))
    assert (photo.width, photo.height) == (4000, 3000)
    assert photo.factor == 4 and photo.image.shape[:2] == (750, 1000)
    assert photo.scale == 4
    assert photo.at_factor(2).shape[:2] == (1500, 2000)


@pytest.mark.parametrize(
    ("orientation", "corner", "size"),
    [(1, "tl", (1600, 1200)), (3, "br", (1600, 1200)), (6, "tr", (1200, 1600)), (8, "bl", (1200, 1600))],
)
def test_exif_orientation_is_honoured(
    scene: np.ndarray, orientation: int, corner: str, size: tuple[int, int]
) -> None:
    photo = decode_photo(photos.jpeg_with_orientation(scene, orientation))
    assert _red_corner(photo.image) == corner
    assert (photo.width, photo.height) == size
    assert photo.image.shape[1] == size[0]


def test_png_with_alpha_cmyk_and_heic_decode(scene: np.ndarray) -> None:
    for data, fmt in [
        (photos.png_with_alpha(scene), "PNG"),
        (photos.cmyk_jpeg(scene), "JPEG"),
        (photos.heic(scene), "HEIC"),
    ]:
        photo = decode_photo(data)
        assert photo.format == fmt and photo.image.ndim == 3 and photo.image.shape[2] == 3
        assert _red_corner(photo.image) == "tl"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 not a photo at all", "not_an_image"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 100, "corrupt"),
    ],
)
def test_bad_bytes_give_reasons(data: bytes, reason: str) -> None:
    with pytest.raises(ImageError) as err:
        decode_photo(data)
    assert err.value.reason == reason and str(err.value)


def test_truncated_tiny_and_huge(scene: np.ndarray) -> None:
    data = photos.jpeg(scene)
    with pytest.raises(ImageError, match="cut short") as err:
        decode_photo(data[: len(data) // 2])
    assert err.value.reason == "truncated"
    with pytest.raises(ImageError) as err:
        decode_photo(photos.jpeg(np.zeros((1, 1, 3), np.uint8)))
    assert err.value.reason == "too_small"
    # 100 megapixels is decoded at 1/8 scale; 150 is refused before decoding.
    photo = decode_photo(photos.huge_jpeg(10000, 10000))
    assert photo.factor == 8 and max(photo.image.shape) == 1250
    with pytest.raises(ImageError) as err:
        decode_photo(photos.huge_jpeg(15000, 10000))
    assert err.value.reason == "too_many_pixels"


def test_sniff_format() -> None:
    assert sniff_format(b"\x89PNG\r\n\x1a\n....") == "PNG"
    assert sniff_format(b"RIFF\0\0\0\0WEBPVP8 ") == "WEBP"
    assert sniff_format(b"\0\0\0\x18ftypheic") == "HEIC"
    assert sniff_format(b"GIF89a") is None


def test_decompression_bomb_is_refused_cleanly() -> None:
    with pytest.raises(ImageError) as err:
        decode_photo(photos.huge_jpeg(20000, 12000))
    assert err.value.reason == "too_many_pixels"


_BOMB_PROBE = """
import resource, sys
from tests.vision import photos
from vision.image import ImageError, decode_photo, exif_taken, read_header
bomb = photos.png_bomb()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for check in (read_header, exif_taken, decode_photo):
    try:
        check(bomb)
    except ImageError as e:
        assert e.reason == "too_many_pixels", e.reason
    else:
        assert check is exif_taken, check
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_png_bomb_is_refused_from_its_header_without_decoding() -> None:
    # 13000 x 13000 RGBA in 0.7 MB: 676 MB decoded. Its own process, so the peak memory is its own.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _BOMB_PROBE], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 100, f"peak memory grew by {done.stdout.strip()} MB"
