from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from meterdata.manifest import load_manifest
from meterdata.synth import generate, render_photo
from meterverify.cli import app


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(80, seed=7, out=out, size=(640, 480), workers=2, progress=False)
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_manifest_is_valid_and_matches_the_images(synth_set: Path) -> None:
    samples = load_manifest(synth_set)
    assert len(samples) == 80
    for s in samples:
        image = cv2.imread(str(synth_set / s.image))
        assert image is not None and image.shape[:2] == (s.height, s.width) == (480, 640)


def test_same_seed_same_bytes_whatever_the_workers(synth_set: Path, tmp_path: Path) -> None:
    generate(80, seed=7, out=tmp_path, size=(640, 480), workers=1, progress=False)
    assert _digest(tmp_path) == _digest(synth_set)


def test_another_seed_gives_other_photos() -> None:
    a, _ = render_photo(1, 0, (640, 480))
    b, _ = render_photo(2, 0, (640, 480))
    assert a != b


def test_labels_are_geometrically_consistent(synth_set: Path) -> None:
    for s in load_manifest(synth_set):
        if not s.readable:
            continue
        assert s.quad and s.digits and s.digit_boxes and len(s.digit_boxes) == len(s.digits)
        quad = np.array(s.quad, np.float32)
        assert cv2.contourArea(quad) > 0, "quad must be clockwise in image coordinates (y down)"
        x0, y0 = quad.min(0) - 3
        x1, y1 = quad.max(0) + 3
        for bx0, by0, bx1, by1 in s.digit_boxes:
            assert x0 <= bx0 < bx1 <= x1 and y0 <= by0 < by1 <= y1
            assert bx0 >= 0 and bx1 <= s.width and by0 >= 0 and by1 <= s.height


def test_readable_digit_area_differs_from_its_surroundings(synth_set: Path) -> None:
    """The labels point at the drawn digits: digit cells hold more edges than the average photo."""
    ratios = []
    for s in load_manifest(synth_set):
        if not s.readable:
            continue
        grey = cv2.imread(str(synth_set / s.image), cv2.IMREAD_GRAYSCALE)
        edges = cv2.Canny(grey, 50, 150) > 0
        x0, y0, x1, y1 = (
            int(v)
            for v in (
                min(b[0] for b in s.digit_boxes),
                min(b[1] for b in s.digit_boxes),
                max(b[2] for b in s.digit_boxes),
                max(b[3] for b in s.digit_boxes),
            )
        )
        ratios.append(edges[y0:y1, x0:x1].mean() / max(edges.mean(), 1e-6))
    assert np.median(ratios) > 1.5


def test_the_mix_covers_kinds_modes_and_negatives(tmp_path: Path) -> None:
    samples = [render_photo(11, i, (320, 240))[1] for i in range(300)]
    kinds = {s.kind for s in samples}
    assert kinds == {"lcd7seg", "drum", "other"}
    assert {s.mode for s in samples if s.digits} >= {"kwh", "kw_md", "date", "time"}
    assert any(s.roll and any(r > 0 for r in s.roll) for s in samples), "some drums roll"
    assert any(s.kind == "other" and s.quad is None and not s.readable for s in samples)
    assert any(s.kind != "other" and not s.readable for s in samples), "unreadable meters too"
    assert 0.4 < np.mean([s.readable for s in samples]) < 0.9
    assert {len(s.digits) for s in samples if s.digits and s.mode == "kwh"} >= {5, 6, 7, 8}


def test_mixed_sizes_span_phone_resolutions() -> None:
    sizes = {render_photo(5, i)[1].width for i in range(60)}
    assert min(sizes) <= 800 and max(sizes) >= 2048


def test_cli_synth_then_show_draws_labels(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "demo"
    result = runner.invoke(
        app,
        [
            "data",
            "synth",
            "--n",
            "12",
            "--seed",
            "1",
            "--out",
            str(out),
            "--size",
            "640x480",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 12 photos" in result.output
    assert (out / "README.md").read_text().startswith("# Synthetic kWh meter photos")
    sheet = tmp_path / "sheet.png"
    result = runner.invoke(app, ["data", "show", str(out), "--out", str(sheet), "--cols", "4"])
    assert result.exit_code == 0, result.output
    image = cv2.imread(str(sheet))
    assert image.shape[1] == 4 * 240 and image.shape[0] >= 3 * 240
    # quads are drawn in pure green or red: the sheet holds such pixels, the raw photos rarely do
    green = (image[..., 1] > 200) & (image[..., 0] < 90) & (image[..., 2] < 90)
    assert green.sum() > 50


def test_cli_rejects_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["data", "synth", "--n", "1", "--out", str(tmp_path), "--size", "big"])
    assert result.exit_code != 0 and "WIDTHxHEIGHT" in result.output
    result = runner.invoke(app, ["data", "show", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "error" in result.output
