from __future__ import annotations

import json
from pathlib import Path

import pytest

from meterdata.manifest import ManifestError, Sample, load_manifest, parse_record, write_manifest

GOOD = {
    "image": "images/a.jpg",
    "digits": "0134416",
    "decimals": 1,
    "quad": [[10, 10], [110, 12], [108, 40], [9, 38]],
    "kind": "lcd7seg",
    "readable": True,
    "split": "train",
}


def _write(folder: Path, records: list[dict], make_files: bool = True) -> Path:
    (folder / "images").mkdir(exist_ok=True)
    with (folder / "manifest.jsonl").open("w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
            if make_files:
                (folder / r["image"]).write_bytes(b"x")
    return folder


def test_good_record_round_trips(tmp_path: Path) -> None:
    sample = parse_record(GOOD)
    assert sample.value == "13441.6"
    write_manifest(tmp_path / "manifest.jsonl", [sample])
    (tmp_path / "images").mkdir()
    (tmp_path / "images/a.jpg").write_bytes(b"x")
    assert load_manifest(tmp_path) == [sample]


@pytest.mark.parametrize(
    ("digits", "decimals", "value"),
    [
        ("0134416", 1, "13441.6"),
        ("00000", 0, "0"),
        ("0012", 2, "0.12"),
        ("9", 0, "9"),
        ("123456", 2, "1234.56"),
    ],
)
def test_value_places_the_decimal_point(digits: str, decimals: int, value: str) -> None:
    assert parse_record({**GOOD, "digits": digits, "decimals": decimals}).value == value


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quad": [[1, 2], [3, 4]]}, "quad"),
        ({"quad": [[1, 2], [3, 4], [5, 6], [7, "x"]]}, "quad"),
        ({"digits": "12a4"}, "digits"),
        ({"decimals": 9}, "decimals"),
        ({"decimals": -1}, "decimals"),
        ({"kind": "analog"}, "kind"),
        ({"readable": "yes"}, "readable"),
        ({"split": "dev"}, "split"),
        ({"image": "/etc/passwd"}, "image"),
        ({"image": "../outside.jpg"}, "image"),
        ({"digit_boxes": [[0, 0, 5, 5]]}, "digit_boxes"),
        ({"digits": "12", "decimals": 0, "digit_boxes": [[0, 0, 5, 5], [9, 0, 5, 5]]}, "digit_boxes"),
        ({"mode": "kvarh"}, "mode"),
        ({"roll": [0.5]}, "roll"),
        ({"digits": None, "decimals": 0}, "digits"),
        ({"width": 0}, "width"),
    ],
)
def test_bad_line_names_line_and_field(tmp_path: Path, change: dict, field: str) -> None:
    other = {**GOOD, "image": "images/b.jpg"}
    _write(tmp_path, [other, {**GOOD, **change}], make_files=False)
    with pytest.raises(ManifestError) as err:
        load_manifest(tmp_path, check_files=False)
    assert "manifest.jsonl:2: field " + field in str(err.value)


def test_missing_field_is_named(tmp_path: Path) -> None:
    record = dict(GOOD)
    del record["split"]
    _write(tmp_path, [record], make_files=False)
    with pytest.raises(ManifestError, match=r":1: field split: missing"):
        load_manifest(tmp_path, check_files=False)


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "manifest.jsonl").write_text(json.dumps(GOOD) + "\n{not json\n")
    with pytest.raises(ManifestError, match=r":2: not valid JSON"):
        load_manifest(tmp_path, check_files=False)


def test_missing_image_file_and_duplicates_are_errors(tmp_path: Path) -> None:
    _write(tmp_path, [GOOD], make_files=False)
    with pytest.raises(ManifestError, match=r":1: field image: file 'images/a.jpg' not found"):
        load_manifest(tmp_path)
    _write(tmp_path, [GOOD, GOOD])
    with pytest.raises(ManifestError, match=r":2: field image: .* already on line 1"):
        load_manifest(tmp_path)


def test_negative_needs_no_digits_and_extras_survive() -> None:
    sample = parse_record(
        {
            **GOOD,
            "digits": None,
            "decimals": 0,
            "quad": None,
            "readable": False,
            "kind": "other",
            "effects": ["glare"],
        }
    )
    assert sample.value is None
    assert json.loads(sample.to_json())["effects"] == ["glare"]
    assert json.loads(sample.to_json())["quad"] is None


def test_sample_is_hashable_by_value() -> None:
    assert isinstance(parse_record(GOOD), Sample)
