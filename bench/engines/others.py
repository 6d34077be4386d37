"""tesseract (--psm 7, digit whitelist), ssocr and rapidocr on grey strips; each returns digit strings."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

RAPIDOCR_PYTHON = Path(__file__).resolve().parents[1] / ".venv-rapidocr" / "bin" / "python"


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


def tesseract(strips: list[np.ndarray]) -> list[str] | None:
    if shutil.which("tesseract") is None:
        return None
    out = []
    for strip in strips:
        ok, png = cv2.imencode(".png", strip)
        run = subprocess.run(
            ["tesseract", "stdin", "stdout", "--psm", "7", "-c", "tessedit_char_whitelist=0123456789."],
            input=png.tobytes(),
            capture_output=True,
            timeout=30,
        )
        out.append(_digits(run.stdout.decode(errors="replace")))
    return out


def ssocr(strips: list[np.ndarray]) -> list[str] | None:
    """ssocr expects dark segments on a light background; drums (light on dark) are inverted first."""
    if shutil.which("ssocr") is None:
        return None
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, strip in enumerate(strips):
            dark_on_light = np.median(strip) > 110
            path = Path(tmp) / f"{i}.png"
            cv2.imwrite(str(path), strip if dark_on_light else 255 - strip)
            run = subprocess.run(["ssocr", "-d", "-1", "-T", str(path)], capture_output=True, timeout=30)
            out.append(_digits(run.stdout.decode(errors="replace")) if run.returncode == 0 else "")
    return out


def rapidocr(strips: list[np.ndarray]) -> list[str] | None:
    if not RAPIDOCR_PYTHON.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, strip in enumerate(strips):
            path = Path(tmp) / f"{i}.png"
            cv2.imwrite(str(path), strip)
            paths.append(str(path))
        worker = Path(__file__).with_name("rapidocr_worker.py")
        run = subprocess.run(
            [str(RAPIDOCR_PYTHON), str(worker), *paths], capture_output=True, timeout=1800, text=True
        )
        texts = {r["path"]: r["text"] for r in map(json.loads, run.stdout.splitlines())}
        return [_digits(texts.get(p, "")) for p in paths]


ENGINES = {"tesseract": tesseract, "ssocr": ssocr, "rapidocr": rapidocr}
