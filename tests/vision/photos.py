"""Odd and broken uploads, made in memory, for the decode and read tests."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def jpeg_with_orientation(image: np.ndarray, orientation: int) -> bytes:
    pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    pil.save(out, "JPEG", exif=exif, quality=92)
    return out.getvalue()


def png_with_alpha(image: np.ndarray) -> bytes:
    rgba = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    rgba[: rgba.shape[0] // 3, :, 3] = 0
    ok, buf = cv2.imencode(".png", rgba)
    assert ok
    return buf.tobytes()


def cmyk_jpeg(image: np.ndarray) -> bytes:
    pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).convert("CMYK")
    out = io.BytesIO()
    pil.save(out, "JPEG", quality=90)
    return out.getvalue()


def heic(image: np.ndarray) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).save(out, "HEIF", quality=80)
    return out.getvalue()


def huge_jpeg(width: int = 10000, height: int = 10000) -> bytes:
    """A real 100-megapixel JPEG (flat, so it is small and quick to make)."""
    image = np.full((height, width, 3), 128, np.uint8)
    return jpeg(image, 50)


def png_bomb(side: int = 13000) -> bytes:
    """A PNG of side x side RGBA pixels, all zero: well under a megabyte, gigabytes once decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer = zlib.compressobj(9)
    row = bytes(1 + side * 4)  # filter byte + pixels
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
