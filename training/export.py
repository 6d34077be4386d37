"""Export trained models to ONNX for serving, and the reader to an easyocr custom-model bundle."""

from __future__ import annotations

import shutil
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from vision.ocr.charset import CHARS, INPUT_HEIGHT

MAX_BYTES = 5 * 1024 * 1024


class _ReaderOutputs(nn.Module):
    """The served graph: CTC logits and display-mode logits from one grey strip batch."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.forward_with_mode(image)


def export_reader(model: nn.Module, path: Path) -> Path:
    model = model.eval()
    dummy = torch.zeros(1, 1, INPUT_HEIGHT, 160)
    torch.onnx.export(
        _ReaderOutputs(model),
        (dummy,),
        str(path),
        input_names=["image"],
        output_names=["logits", "mode_logits"],
        dynamic_axes={
            "image": {0: "batch", 3: "width"},
            "logits": {0: "batch", 1: "frames"},
            "mode_logits": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    _check_size(path)
    return path


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ValueError(f"{path}: {size / 1e6:.1f} MB, over the 5 MB limit for shipped weights")


def promote(src: Path, dst: Path) -> Path:
    """Copy an exported model to the shipped weights."""
    _check_size(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


EASYOCR_DIR = Path(__file__).resolve().parent / "easyocr"  # the shipped bundle: training's output, not served
EASYOCR_NAME = "meterdigits"


def export_easyocr(
    model: nn.Module, args: dict, out_dir: Path = EASYOCR_DIR, name: str = EASYOCR_NAME
) -> Path:
    """Write ``name.py`` (the architecture), ``name.yaml`` and ``name.pth`` (``module.``-prefixed weights)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # The architecture lives in training/models/crnn.py; easyocr imports it through this one-line module.
    (out_dir / f"{name}.py").write_text(
        '"""easyocr entry point for the meterverify digit reader."""\n\nfrom training.models.crnn import Model  # noqa: F401\n'
    )
    state = OrderedDict((f"module.{k}", v) for k, v in model.state_dict().items())
    torch.save(state, out_dir / f"{name}.pth")
    yaml = f"""# easyocr custom recognition model: the meterverify digit reader (MeterCRNN, CTC).
network_params:
  input_channel: 1
  width: {args["width"]}
  hidden: {args["hidden"]}
  num_modes: 6
imgH: {INPUT_HEIGHT}
lang_list: ['en']
character_list: '{CHARS}'
"""
    (out_dir / f"{name}.yaml").write_text(yaml)
    _check_size(out_dir / f"{name}.pth")
    return out_dir


class _DetectorOutputs(nn.Module):
    """The served graph: corners in [0, 1] units, the presence logit, and each corner's peak probability."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        from training.models.corner_net import soft_argmax

        heatmaps, presence = self.model(image)
        corners, probs = soft_argmax(heatmaps)
        peak = probs.flatten(2).max(-1).values
        return corners, presence, peak


def export_detector(model: nn.Module, path: Path, side: int) -> Path:
    model = model.eval()
    torch.onnx.export(
        _DetectorOutputs(model),
        (torch.zeros(1, 3, side, side),),
        str(path),
        input_names=["image"],
        output_names=["corners", "presence", "peak"],
        dynamic_axes={
            "image": {0: "batch"},
            "corners": {0: "batch"},
            "presence": {0: "batch"},
            "peak": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    _check_size(path)
    return path


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="Export trained checkpoints: ONNX for serving, and the reader's easyocr bundle."
    )
    parser.add_argument("--reader-checkpoint", type=Path)
    parser.add_argument("--detector-checkpoint", type=Path)
    parser.add_argument(
        "--promote", action="store_true", help="write into the shipped weights (vision/*/weights/)"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/export"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.reader_checkpoint:
        from training.models.crnn import Model

        ckpt = torch.load(args.reader_checkpoint, map_location="cpu", weights_only=False)
        model = Model(len(CHARS) + 1, width=ckpt["args"]["width"], hidden=ckpt["args"]["hidden"])
        model.load_state_dict(ckpt["model"])
        onnx_path = export_reader(model.eval(), args.out / "reader.onnx")
        bundle = export_easyocr(model, ckpt["args"], EASYOCR_DIR if args.promote else args.out / "easyocr")
        if args.promote:
            promote(onnx_path, EASYOCR_DIR.parent / "reader.onnx")
        print(f"reader (epoch {ckpt['epoch']}): {onnx_path}; easyocr bundle: {bundle}")
    if args.detector_checkpoint:
        from training.models.corner_net import CornerNet

        ckpt = torch.load(args.detector_checkpoint, map_location="cpu", weights_only=False)
        model = CornerNet(ckpt["args"]["width"])
        model.load_state_dict(ckpt["model"])
        onnx_path = export_detector(model.eval(), args.out / "detector.onnx", ckpt["args"]["side"])
        if args.promote:
            promote(
                onnx_path,
                Path(__file__).resolve().parents[1] / "vision" / "detect" / "weights" / "detector.onnx",
            )
        print(f"detector (epoch {ckpt['epoch']}): {onnx_path}")


if __name__ == "__main__":
    main()
