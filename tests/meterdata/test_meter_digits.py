from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from meterdata.manifest import load_manifest
from meterdata.meter_digits import import_meter_digits, meter_group, parse_label

SHIPPED = Path(__file__).parents[2] / "datasets" / "meter-digits"


@pytest.fixture(scope="module")
def shipped():
    return load_manifest(SHIPPED)


def test_shipped_set_is_valid_and_complete(shipped) -> None:
    assert len(shipped) > 16000
    assert "Apache License" in (SHIPPED / "LICENSE").read_text()
    assert "haverland/Tenth-of-step-of-a-meter-digit" in (SHIPPED / "README.md").read_text()
    kinds = Counter(s.kind for s in shipped)
    assert kinds["drum"] > 10000 and kinds["lcd7seg"] > 300


def test_test_split_holds_out_whole_meters(shipped) -> None:
    meters = {split: {s.meter for s in shipped if s.split == split} for split in ("train", "val", "test")}
    assert meters["test"] and not meters["test"] & meters["train"] and not meters["val"] & meters["train"]
    test_kinds = {m.split("/")[0] for m in meters["test"]}
    assert {"powermeter", "watermeter", "gasmeter"} <= test_kinds and test_kinds & {"lcd", "lcd2"}
    n_test = sum(s.split == "test" for s in shipped)
    assert 0.08 < n_test / len(shipped) < 0.25


def test_labels_decode_to_the_pictured_digit(shipped) -> None:
    for s in shipped[:: max(1, len(shipped) // 50)]:
        image = cv2.imread(str(SHIPPED / s.image))
        assert image is not None and min(image.shape[:2]) >= 8
        assert len(s.digits) == 1 and s.roll is not None and 0 <= s.roll[0] < 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("7_abc.jpg", ("7", 0.0, None)),
        ("3.0_abc.jpg", ("3", 0.0, None)),
        ("2.7_446da4.jpg", ("2", 0.7, None)),
        ("9.9_0_dig8_20220613.jpg", ("9", 0.9, "0")),
        ("0.0_0.1_main_dig8.jpg", ("0", 0.0, "0.1")),
        ("10_abc.jpg", ("9", 0.5, None)),
        ("x_abc.jpg", None),
    ],
)
def test_parse_label(name: str, expected) -> None:
    assert parse_label(name) == expected


def test_meter_groups() -> None:
    assert meter_group(Path("powermeter/unknown/timm/1_a.jpg")) == "powermeter/unknown-timm"
    assert meter_group(Path("powermeter/ISKRA T3F-01S1/20230604/1_a.jpg")) == meter_group(
        Path("powermeter/ISKRA.T3F-01S1_20250630/20230604/1_a.jpg")
    )
    assert meter_group(Path("powermeter/ itron_C114U_2/1_a.jpg")) == "powermeter/itron-c114u-2"
    assert meter_group(Path("lcd2/1.0_a.jpg")) == "lcd2/root"


def test_import_dedupes_and_splits(tmp_path: Path) -> None:
    src = tmp_path / "src"
    ok, jpg = cv2.imencode(".jpg", np.full((32, 20, 3), 128, np.uint8))
    for rel, data in [
        ("powermeter/heliowatt/IKN/3.5_a.jpg", jpg.tobytes()),
        ("powermeter/heliowatt/IKN/3.5_b.jpg", jpg.tobytes()),  # duplicate bytes
        ("powermeter/emeter1/4_c.jpg", jpg.tobytes() + b"\0"),
        ("lcd/5_d.jpg", jpg.tobytes() + b"\0\0"),
    ]:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    (src / "README.md").write_text("meter-digits")
    (src / "LICENSE").write_text("Apache License")
    samples = import_meter_digits(src, tmp_path / "out")
    assert len(samples) == 3
    assert {(s.meter, s.split, s.kind) for s in samples} == {
        ("powermeter/heliowatt", "test", "drum"),
        ("powermeter/emeter1", "train", "drum"),
        ("lcd/root", "train", "lcd7seg"),
    }
    assert len(load_manifest(tmp_path / "out")) == 3
    assert "1 byte-identical" in (tmp_path / "out" / "README.md").read_text()
