"""Decoding uploaded photos safely: format sniffing, size limits, EXIF orientation, reduced-scale JPEG decode.

Whatever arrives (a truncated JPEG, a 100-megapixel panorama, a PNG with alpha, a CMYK JPEG, an iPhone HEIC,
or not an image at all) ends either as a ``Photo`` or as an ``ImageError`` with a reason code and a message
a person understands. Nothing here hangs or exhausts memory: dimensions are read from the header first.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .geometry import quad_size

MAX_BYTES = 40 * 1024 * 1024
MAX_PIXELS_JPEG = 120_000_000  # decoded at 1/8 scale, so still cheap
MAX_PIXELS_OTHER = 50_000_000  # PNG, WebP, HEIC have no reduced decode
MIN_SIDE = 64
# Pillow's own decompression-bomb guard, at our limit (it refuses outright at twice this).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS_JPEG
# Decode so that the long side is at least this many pixels: enough to read a display, cheap to detect on.
WORKING_SIDE = 1000

_EXIF_ORIENTATION = 0x0112
_ROTATIONS = {3: cv2.ROTATE_180, 6: cv2.ROTATE_90_CLOCKWISE, 8: cv2.ROTATE_90_COUNTERCLOCKWISE}
_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


class ImageError(ValueError):
    """A photo we cannot use; ``reason`` is a stable code, the message is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Photo:
    """A decoded photo, upright. ``image`` may be smaller than the original: ``scale`` original px per px."""

    data: bytes
    format: str
    width: int  # original size, after EXIF orientation
    height: int
    orientation: int
    image: np.ndarray  # BGR uint8
    factor: int  # the JPEG reduction used (1, 2, 4, 8)

    @property
    def scale(self) -> float:
        return self.width / self.image.shape[1]

    def at_factor(self, factor: int) -> np.ndarray:
        """Decode again at another reduction (JPEG only; others are already full size)."""
        if factor == self.factor or self.format != "JPEG":
            return self.image
        return _orient(_imdecode(self.data, factor), self.orientation)

    def for_region(self, quad: np.ndarray, min_height: float) -> tuple[np.ndarray, np.ndarray]:
        """The image to cut the region ``quad`` (pixels of ``image``) from, and the quad in it: ``image``, or a
        sharper decode when the region is less than ``min_height`` pixels high there (a second decode costs as
        much as the first: only when needed, and no sharper than needed)."""
        height = quad_size(quad)[1]
        factor = self.factor
        while factor > 1 and height * self.factor / factor < min_height:
            factor //= 2
        if factor == self.factor:
            return self.image, quad
        image = self.at_factor(factor)
        return image, quad * (image.shape[1] / self.image.shape[1])


def sniff_format(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc"):
        return "HEIC"
    if data[:2] == b"BM":
        return "BMP"
    return None


def _imdecode(data: bytes, factor: int) -> np.ndarray:
    flags = _REDUCED[factor] | cv2.IMREAD_IGNORE_ORIENTATION
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None:
        raise ImageError("corrupt", "the image data is damaged and cannot be decoded")
    return image


def _orient(image: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) so the image is upright."""
    if orientation == 2:
        return cv2.flip(image, 1)
    if orientation == 4:
        return cv2.flip(image, 0)
    if orientation == 5:
        return cv2.transpose(image)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(image), cv2.ROTATE_180)
    rotation = _ROTATIONS.get(orientation)
    return cv2.rotate(image, rotation) if rotation is not None else image


def decode_photo(data: bytes, working_side: int = WORKING_SIDE) -> Photo:
    """Decode an upload; raises ``ImageError`` with a reason code for anything unusable."""
    if not data:
        raise ImageError("empty", "the file is empty")
    if len(data) > MAX_BYTES:
        raise ImageError(
            "too_large", f"the file is {len(data) / 1e6:.0f} MB; the limit is {MAX_BYTES // 2**20} MB"
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageError("not_an_image", "the file is not a JPEG, PNG, WebP or HEIC image")
    if fmt == "HEIC":
        return _decode_heic(data)
    width, height, orientation = read_header(data, fmt)
    if fmt == "JPEG" and data.rfind(b"\xff\xd9", max(0, len(data) - 65536)) < 0:
        raise ImageError("truncated", "the JPEG is cut short (incomplete upload?)")
    factor = 1
    if fmt == "JPEG":
        while factor < 8 and max(width, height) / (factor * 2) >= working_side:
            factor *= 2
    image = _orient(_imdecode(data, factor), orientation)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return Photo(data, fmt, width, height, orientation, image, factor)


def read_header(data: bytes, fmt: str | None = None) -> tuple[int, int, int]:
    """(width, height, EXIF orientation) from the header alone, nothing decoded; ``ImageError`` if damaged or
    too big for its format (checked before anything else is read, so a small file that would decode into
    gigabytes costs nothing). ``fmt``: what ``sniff_format`` said, when the caller asked it already."""
    if (fmt or sniff_format(data)) == "HEIC":
        return _heic_header(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # sizes are checked below
            with Image.open(io.BytesIO(data)) as header:  # reads the header only
                width, height = header.size
                _check_size(width, height, MAX_PIXELS_JPEG if header.format == "JPEG" else MAX_PIXELS_OTHER)
                orientation = int(_header_exif(header).get(_EXIF_ORIENTATION, 1) or 1)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError("too_many_pixels", "the image has far too many pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError("corrupt", "the image header is damaged") from None
    return width, height, orientation


def _header_exif(header: Image.Image) -> Image.Exif:
    """The EXIF block the header holds. Pillow's PNG ``getexif`` decodes the whole image when no eXIf chunk
    came before the pixels; such a PNG has no EXIF worth that."""
    if header.format == "PNG" and "exif" not in header.info:
        return Image.Exif()
    return header.getexif()


def _heic_header(data: bytes) -> tuple[int, int, int]:
    """A HEIC container's size, checked, without decoding (libheif decodes on first access to the pixels)."""
    try:
        from pillow_heif import open_heif

        heif = open_heif(data, convert_hdr_to_8bit=True)
        width, height = heif.size
    except Exception:
        raise ImageError("corrupt", "the HEIC image is damaged and cannot be decoded") from None
    _check_size(width, height, MAX_PIXELS_OTHER)
    return width, height, 1


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            "too_small", f"the image is {width}x{height} pixels; at least {MIN_SIDE} on each side is needed"
        )
    if width * height > max_pixels:
        raise ImageError(
            "too_many_pixels",
            f"the image is {width * height / 1e6:.0f} megapixels; the limit is {max_pixels // 1_000_000}",
        )


def _decode_heic(data: bytes) -> Photo:
    try:
        from pillow_heif import open_heif
    except ImportError:  # pragma: no cover - pillow-heif is a base dependency
        raise ImageError("unsupported_format", "HEIC photos are not supported here; send a JPEG") from None
    try:
        heif = open_heif(data, convert_hdr_to_8bit=True)
        width, height = heif.size
        _check_size(width, height, MAX_PIXELS_OTHER)
        pil = heif.to_pillow()
        orientation = int(pil.getexif().get(_EXIF_ORIENTATION, 1) or 1)
        rgb = np.asarray(pil.convert("RGB"))
    except ImageError:
        raise
    except Exception:
        raise ImageError("corrupt", "the HEIC image is damaged and cannot be decoded") from None
    # libheif already applies the rotation stored in the container; EXIF orientation is informational there.
    image = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    return Photo(data, "HEIC", image.shape[1], image.shape[0], orientation, image, 1)


_EXIF_IFD, _DATETIME_ORIGINAL, _OFFSET_ORIGINAL, _DATETIME = 0x8769, 0x9003, 0x9011, 0x0132


def exif_taken(data: bytes) -> str | None:
    """When the camera says the photo was taken, as ISO 8601 (``2026-11-02T09:58:11`` and ``+05:30`` when the
    camera wrote its offset); None when there is no such EXIF tag (messaging apps strip it) or it is odd."""
    try:
        with Image.open(io.BytesIO(data)) as header:
            exif = _header_exif(header)
            sub = exif.get_ifd(_EXIF_IFD)
            when = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
            offset = sub.get(_OFFSET_ORIGINAL)
    except Exception:  # a damaged EXIF block is no reason to refuse a photo
        return None
    if not isinstance(when, str) or len(when) < 19:
        return None
    text = when[:10].replace(":", "-") + "T" + when[11:19]
    if isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-":
        text += offset
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return None
    return text
