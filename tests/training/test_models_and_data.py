"""The pieces around retraining: meter-type specs, importing photos, the shadow reader, hot reload's safety."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from meterdata.importer import import_photos
from meterdata.manifest import load_manifest
from meterdata.synth.meter_type import MeterType
from serving.served_models import read_served, sha256_file, write_served
from tests.serving.conftest import embedded_settings, running_api
from vision.ocr.model import WEIGHTS


def test_a_meter_type_spec_is_checked() -> None:
    with pytest.raises(ValueError, match="segment_style"):
        MeterType.from_toml('name = "x"\nsegment_style = "curly"\n')
    with pytest.raises(ValueError, match="unknown meter type keys"):
        MeterType.from_toml('name = "x"\ndigitz = 7\n')
    assert MeterType.from_toml('name = "x"\ndigits = 8\n').digits == 8


def test_importing_photos_and_readings(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(photos / name), np.full((120, 160, 3), 128, np.uint8))
    csv = tmp_path / "readings.csv"
    csv.write_text(
        "image,reading,meter_digits,quad,kind\na.jpg,13441.6,7,10 10 150 10 150 60 10 60,lcd7seg\nb.jpg,,,,\n"
    )
    samples = import_photos(photos, csv, tmp_path / "out")
    assert [(s.digits, s.decimals, s.readable) for s in samples] == [("0134416", 1, True), (None, 0, False)]
    assert len(load_manifest(tmp_path / "out")) == 2
    csv.write_text("image,reading\nmissing.jpg,1\na.jpg,12x\n")
    with pytest.raises(ValueError, match="line 2, image.*\n.*line 3, reading"):
        import_photos(photos, csv, tmp_path / "bad")


def test_a_shadow_reader_reads_beside_without_deciding(tmp_path: Path) -> None:
    from serving import tables
    from serving.shadow import report

    with running_api(embedded_settings(tmp_path)) as api:
        home = tmp_path / "models" / "reader" / "v7"
        home.mkdir(parents=True)
        shutil.copy(WEIGHTS, home / "reader.onnx")
        write_served(api.svc.settings.models_dir, {"shadow": {"version": "7", "onnx": str(home / "reader.onnx"),
                                                              "sha256": sha256_file(home / "reader.onnx")}})  # fmt: skip
        api.svc.models._checked = 0  # look now, not in CHECK_S seconds
        body = api.wait(api.submitted(api.photos[0].data, api.numbers[0], api.photos[0].value))
        assert body["status"] == "accepted"
        with api.svc.sessions() as s:
            reading = s.get(tables.Submission, body["id"]).reading
        assert reading["reader_version"] == "shipped" and reading["shadow"]["version"] == "7"
        summary = report(api.svc, tmp_path / "shadow")
        assert (
            summary.startswith("1 submissions read by both")
            and (tmp_path / "shadow" / "report.html").is_file()
        )


def test_a_damaged_promotion_is_not_served(tmp_path: Path) -> None:
    with running_api(embedded_settings(tmp_path)) as api:
        bad = tmp_path / "bad.onnx"
        bad.write_bytes(b"not a model")
        write_served(
            api.svc.settings.models_dir, {"reader": {"version": "9", "onnx": str(bad), "sha256": "0" * 64}}
        )
        api.svc.models._checked = 0
        assert api.svc.reader.version == "shipped"  # kept what works, and said so in the log
        assert read_served(api.svc.settings.models_dir)["reader"]["version"] == "9"


def test_the_new_meter_type_notebook_runs_tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "new_meter_type.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    monkeypatch.setenv("NB_TINY", "1")
    monkeypatch.setenv("NB_WORK", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )  # fmt: skip
    assert "frozen test sets (exported ONNX)" in text
    assert "refused" in text or "promoted" in text
    assert sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])) >= 2


def test_the_gate_refuses_worse_only_when_it_is_not_chance() -> None:
    from training.testsets import Comparison, mcnemar_p

    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(20, 13) > 0.05  # 7 strips of 600 net: noise
    assert mcnemar_p(40, 10) < 0.001  # a real regression
    assert Comparison(0.758, 0.747, mcnemar_p(20, 13)).worse(0.05) is False
    assert Comparison(0.758, 0.708, mcnemar_p(40, 10)).worse(0.05) is True
    assert Comparison(0.70, 0.75, mcnemar_p(10, 40)).worse(0.05) is False  # better is never refused
