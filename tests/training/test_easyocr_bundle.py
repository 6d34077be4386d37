"""The reader also ships as an easyocr custom recognition model, loadable offline, agreeing with serving."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from meterdata.synth import render_photo
from vision.geometry import rectify
from vision.ocr import DigitReader
from vision.ocr.charset import INPUT_HEIGHT

BUNDLE = Path(__file__).parents[2] / "training" / "easyocr"


def test_bundle_files_follow_easyocr_conventions() -> None:
    import torch
    import yaml

    config = yaml.safe_load((BUNDLE / "meterdigits.yaml").read_text())
    assert config["lang_list"] == ["en"] and config["imgH"] == INPUT_HEIGHT
    assert config["character_list"] == "0123456789."
    state = torch.load(BUNDLE / "meterdigits.pth", map_location="cpu", weights_only=True)
    assert all(k.startswith("module.") for k in state)
    assert (BUNDLE / "meterdigits.pth").stat().st_size < 5 * 1024 * 1024


@pytest.fixture(scope="module")
def strips() -> list[np.ndarray]:
    import cv2

    out = []
    for i in range(200):
        data, s = render_photo(4711, i, (1024, 768))
        if s.readable and s.quad:
            grey = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
            out.append(rectify(grey, np.array(s.quad, np.float32), INPUT_HEIGHT))
        if len(out) == 40:
            break
    return out


def test_easyocr_reads_like_the_served_model(tmp_path: Path, strips: list[np.ndarray]) -> None:
    import easyocr

    for f in BUNDLE.iterdir():
        shutil.copy(f, tmp_path / f.name)
    reader = easyocr.Reader(
        ["en"],
        gpu=False,
        detector=False,
        recog_network="meterdigits",
        model_storage_directory=str(tmp_path),
        user_network_directory=str(tmp_path),
        download_enabled=False,
        verbose=False,
    )
    served = DigitReader()
    agree = 0
    for strip in strips:
        ours = served.read(strip).text
        theirs = "".join(reader.recognize(strip, detail=0))
        agree += ours == theirs
    assert agree / len(strips) >= 0.9, f"{agree} of {len(strips)} agree"
