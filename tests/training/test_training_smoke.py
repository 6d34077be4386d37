"""Both training scripts run end to end on a tiny set: train, evaluate, checkpoint, resume, export ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from meterdata.synth import generate


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny")
    generate(24, seed=5, out=root / "train", size=(640, 480), split="train", workers=1, progress=False)
    generate(8, seed=6, out=root / "val", size=(640, 480), split="val", workers=1, progress=False)
    return root / "train", root / "val"


@pytest.fixture(autouse=True)
def local_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)


def test_reader_trains_resumes_and_exports(tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from training import train_reader

    train, val = tiny
    out = tmp_path / "reader"
    argv = [
        "--synth-train",
        str(train),
        "--synth-val",
        str(val),
        "--out",
        str(out),
        "--workers",
        "0",
        "--per-epoch",
        "128",
        "--batch-size",
        "32",
        "--epochs",
        "2",
    ]
    real_epoch = train_reader.train_one_epoch

    def dies_in_epoch_1(model, loader, optimizer, scheduler, epoch, args):
        if epoch == 1:
            raise KeyboardInterrupt  # the machine went away mid-run
        return real_epoch(model, loader, optimizer, scheduler, epoch, args)

    monkeypatch.setattr(train_reader, "train_one_epoch", dies_in_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        train_reader.main(train_reader.get_args_parser().parse_args(argv))
    ckpt = torch.load(out / "checkpoint.pt", weights_only=False)
    assert ckpt["epoch"] == 0 and {"model", "optimizer", "scheduler", "args"} <= set(ckpt)
    monkeypatch.setattr(train_reader, "train_one_epoch", real_epoch)
    onnx = train_reader.main(
        train_reader.get_args_parser().parse_args([*argv, "--resume", str(out / "checkpoint.pt")])
    )
    assert torch.load(out / "checkpoint.pt", weights_only=False)["epoch"] == 1
    logits, modes = ort.InferenceSession(str(onnx)).run(None, {"image": np.zeros((1, 1, 32, 96), np.float32)})
    assert logits.shape == (1, 24, 12) and modes.shape == (1, 6)


def test_detector_trains_and_exports(tiny, tmp_path: Path) -> None:
    from training import train_detector

    train, val = tiny
    args = [
        "--synth-train",
        str(train),
        "--synth-val",
        str(val),
        "--out",
        str(tmp_path / "det"),
        "--workers",
        "0",
        "--epochs",
        "1",
        "--side",
        "96",
        "--batch-size",
        "8",
    ]
    onnx = train_detector.main(train_detector.get_args_parser().parse_args(args))
    corners, presence, peak = ort.InferenceSession(str(onnx)).run(
        None, {"image": np.zeros((2, 3, 96, 96), np.float32)}
    )
    assert corners.shape == (2, 4, 2) and presence.shape == (2,) and peak.shape == (2, 4)
    assert ((corners >= 0) & (corners <= 1)).all()


def test_ppocr_fine_tune_runs_resumes_and_exports_a_servable_model(
    tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pretrained recognizer (PP-OCRv6 small) converts to torch, trains, resumes, and goes back into its
    ONNX graph, with its character list."""
    from training import finetune_ppocr
    from training.models.ppocr_rec import pretrained_v6
    from vision.ocr.ppocr import TextRecognizer

    train, val = tiny
    out = tmp_path / "ppocr"
    argv = ["--synth-train", str(train), "--synth-val", str(val), "--out", str(out), "--workers", "0"]
    argv += ["--per-epoch", "8", "--batch-size", "4", "--real", "8", "--epochs", "2", "--copies", "1"]
    real_epoch = finetune_ppocr.train_one_epoch

    def dies_in_epoch_1(rec, loader, optimizer, scheduler, epoch):
        if epoch == 1:
            raise KeyboardInterrupt  # the machine went away mid-run
        return real_epoch(rec, loader, optimizer, scheduler, epoch)

    monkeypatch.setattr(finetune_ppocr, "train_one_epoch", dies_in_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        finetune_ppocr.main(finetune_ppocr.get_args_parser().parse_args(argv))
    ckpt = torch.load(out / "checkpoint.pt", weights_only=False)
    assert ckpt["epoch"] == 0 and {"model", "optimizer", "scheduler", "args"} <= set(ckpt)
    monkeypatch.setattr(finetune_ppocr, "train_one_epoch", real_epoch)
    resume = [*argv, "--resume", str(out / "checkpoint.pt")]
    onnx = finetune_ppocr.main(finetune_ppocr.get_args_parser().parse_args(resume))
    assert torch.load(out / "checkpoint.pt", weights_only=False)["epoch"] == 1
    recognizer = TextRecognizer(onnx)  # dynamic batch and width, the character list, as the original
    lines = recognizer.read([np.full((48, 200, 3), 200, np.uint8), np.full((30, 400, 3), 90, np.uint8)])
    assert len(lines) == 2 and lines[0].probs.shape[1] == 13
    assert len(recognizer.vocabulary) == len(pretrained_v6()[1]) + 2  # blank and space around its characters
    served = ort.InferenceSession(str(pretrained_v6()[0]))
    trained = ort.InferenceSession(str(onnx))
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 48, 160)).astype(np.float32)
    assert not np.allclose(served.run(None, {"x": x})[0], trained.run(None, {"x": x})[0]), "weights changed"


def test_the_served_meter_recognizer_loads_back_for_more_fine_tuning(tmp_path: Path) -> None:
    """Float16 storage (as served) converts back to a trainable float32 model that computes the same."""
    from training.models import ppocr_rec
    from vision.reader import METER_RECOGNIZER

    rec = ppocr_rec.load(METER_RECOGNIZER)
    x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 48, 240)).astype(np.float32)
    served = ort.InferenceSession(str(METER_RECOGNIZER)).run(None, {"x": x})[0]
    with torch.no_grad():
        assert np.abs(rec.model.eval()(torch.from_numpy(x)).numpy() - served).max() < 1e-4
    again = ppocr_rec.export(rec, tmp_path / "again.onnx", half=True)
    assert again.stat().st_size < 0.6 * ppocr_rec.load(METER_RECOGNIZER).graph.ByteSize()
    np.testing.assert_allclose(ort.InferenceSession(str(again)).run(None, {"x": x})[0], served, atol=1e-4)


def test_loose_boxes_hold_the_register_with_a_margin() -> None:
    """The recognizer learns from registers boxed loosely (a text region, a reviewer's box): a loose quad holds
    the tight one; a loose border keeps the strip inside it."""
    import cv2

    from training.data.colour_strips import loose_border, loosen_quad

    rng = np.random.default_rng(0)
    quad = np.array([(100, 50), (300, 60), (298, 110), (98, 100)], np.float32)  # tilted, as photographed
    for _ in range(50):
        loose = loosen_quad(rng, quad)
        assert all(cv2.pointPolygonTest(loose, tuple(map(float, p)), False) > 0 for p in quad)
        assert cv2.contourArea(loose) < 3 * cv2.contourArea(quad)
    strip = rng.integers(0, 255, (48, 200, 3), dtype=np.uint8)
    bordered = [loose_border(strip, rng) for _ in range(20)]
    assert any(b.shape != strip.shape for b in bordered)
    for b in bordered:
        h, w = b.shape[:2]
        assert 48 <= h <= 48 * 1.8 and 200 <= w <= 200 * 1.3
        assert any((b[y : y + 48, x : x + 200] == strip).all() for y in range(h - 47) for x in range(w - 199))
