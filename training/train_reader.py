"""Train the digit reader (MeterCRNN, CTC) on synthetic display strips and real meter-digit counter strips.

    python -m training.train_reader --synth-train DIR --synth-val DIR --epochs 12 --out runs/reader

Tracks params, metrics and the checkpoint in MLflow (local ./mlruns unless MLFLOW_TRACKING_URI is set),
exports ONNX next to the checkpoint; ``--promote`` copies it to the shipped weights.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from training.checkpoint import add_run_args, prepare_run, save_checkpoint, start_epoch
from training.data.ocr import DigitCrops, ReaderDataset, WidthBatches, collate, pad_batch, synthetic_strips
from training.loop import ctc_over_frames, step
from training.models.crnn import Model
from training.tracking import tracked_run
from vision.ocr.charset import CHARS, INPUT_HEIGHT, MODES
from vision.ocr.ctc import greedy_decode, softmax

REPO = Path(__file__).resolve().parents[1]


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--synth-train",
        type=Path,
        required=True,
        help="synthetic dataset for training (meterverify data synth)",
    )
    p.add_argument("--synth-val", type=Path, required=True, help="synthetic dataset for validation")
    p.add_argument("--digits", type=Path, default=REPO / "datasets" / "meter-digits", help="real digit crops")
    p.add_argument(
        "--copies",
        type=int,
        default=3,
        help="strips per synthetic photo (the first exact, the others jittered)",
    )
    p.add_argument("--jitter", type=float, default=0.04, help="quad jitter, as a share of the display height")
    p.add_argument(
        "--real-share", type=float, default=0.35, help="share of real counter strips in each epoch"
    )
    p.add_argument("--width", type=int, default=16, help="CNN width (channels of the first layer)")
    p.add_argument("--hidden", type=int, default=48, help="LSTM hidden size per direction")
    p.add_argument("--per-epoch", type=int, default=30000, help="strips drawn per epoch")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--mode-weight", type=float, default=0.3, help="weight of the display-mode loss")
    p.add_argument("--out", type=Path, default=Path("runs/reader"))
    add_run_args(p)
    p.add_argument(
        "--promote", action="store_true", help="copy the exported ONNX model to vision/ocr/weights/"
    )
    return p


def augmenter(seed: int | None = None):
    """Photometric and small geometric changes; ``seed`` makes the draws repeatable."""
    import albumentations as A

    return A.Compose(
        [
            A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.4, p=0.6),
            A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=5)], p=0.3),
            A.GaussNoise(std_range=(0.02, 0.12), p=0.3),
            A.ImageCompression(quality_range=(30, 90), p=0.3),
            A.Affine(
                rotate=(-3, 3), shear=(-8, 8), scale=(0.92, 1.04), border_mode=cv2.BORDER_REPLICATE, p=0.5
            ),
            A.RandomGamma(gamma_limit=(60, 160), p=0.3),
            A.CLAHE(p=0.1),
        ],
        seed=seed,
    )


def train_one_epoch(model, loader, optimizer, scheduler, epoch: int, args) -> dict[str, float]:
    model.train()
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    ce = nn.CrossEntropyLoss()
    total, count = 0.0, 0
    bar = tqdm(loader, desc=f"epoch {epoch}", unit="batch", leave=False)
    for images, targets, lengths, modes in bar:
        logits, mode_logits = model.forward_with_mode(images)
        loss = ctc_over_frames(ctc, logits.log_softmax(2), targets, lengths)
        loss = loss + args.mode_weight * ce(mode_logits, modes)
        step(model, optimizer, scheduler, loss)
        total += loss.item() * images.size(0)
        count += images.size(0)
        bar.set_postfix(loss=f"{total / count:.3f}")
    return {"train_loss": total / count}


@torch.no_grad()
def predict(model, images: list[np.ndarray], batch_size: int = 128) -> tuple[list[str], list[int]]:
    """Texts and mode indices for grey strips (sorted by width per batch for speed)."""
    model.eval()
    order = np.argsort([im.shape[1] for im in images])
    texts: list[str] = [""] * len(images)
    modes: list[int] = [0] * len(images)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        logits, mode_logits = model.forward_with_mode(pad_batch([images[i] for i in idx]))
        probs = softmax(logits.numpy())
        for j, i in enumerate(idx):
            texts[i] = "".join(c.char for c in greedy_decode(probs[j]))
            modes[i] = int(mode_logits[j].argmax())
    return texts, modes


def evaluate(model, val_strips, real_strips) -> dict[str, float]:
    """Exact text accuracy on synthetic displays, mode accuracy, and per-digit accuracy on real strips."""
    texts, modes = predict(model, [s[0] for s in val_strips])
    exact = np.mean([t == s[1] for t, s in zip(texts, val_strips, strict=True)])
    mode_acc = np.mean([m == s[2] for m, s in zip(modes, val_strips, strict=True)])
    real_texts, _ = predict(model, [s[0] for s in real_strips])
    hits = total = 0
    for t, (_, truth) in zip(real_texts, real_strips, strict=True):
        total += len(truth)
        if len(t) == len(truth):
            hits += sum(a == b for a, b in zip(t, truth, strict=True))
    return {
        "val_exact": float(exact),
        "val_mode_acc": float(mode_acc),
        "real_val_digit_acc": hits / max(total, 1),
    }


def main(args: argparse.Namespace) -> Path:
    prepare_run(args)

    train_strips = synthetic_strips(args.synth_train, "train", args.copies, args.jitter, args.seed)
    val_strips = synthetic_strips(args.synth_val, "val", 1, args.jitter, args.seed)
    digits = DigitCrops(args.digits, "train", INPUT_HEIGHT)
    val_digits = DigitCrops(args.digits, "val", INPUT_HEIGHT, settled_only=True)
    rng = np.random.default_rng(args.seed)
    real_val = [val_digits.strip(rng) for _ in range(400)]
    dataset = ReaderDataset(train_strips, digits, args.real_share, augmenter(), args.seed)
    batches = WidthBatches(dataset, args.batch_size, args.per_epoch, args.seed)
    loader = DataLoader(
        dataset,
        batch_sampler=batches,
        num_workers=args.workers,
        collate_fn=collate,
        persistent_workers=args.workers > 0,
    )

    model = Model(len(CHARS) + 1, width=args.width, hidden=args.hidden, num_modes=len(MODES))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, args.lr, total_steps=args.epochs * len(loader), pct_start=0.15
    )
    first_epoch = start_epoch(args, model, optimizer, scheduler)

    params = {k: str(v) for k, v in vars(args).items()}
    params.update(
        train_strips=len(train_strips),
        val_strips=len(val_strips),
        parameters=sum(p.numel() for p in model.parameters()),
    )
    ckpt_path = args.out / "checkpoint.pt"
    with tracked_run("reader", params) as log:
        for epoch in range(first_epoch, args.epochs):
            dataset.epoch = batches.epoch = epoch
            start = time.time()
            metrics = train_one_epoch(model, loader, optimizer, scheduler, epoch, args)
            metrics.update(evaluate(model, val_strips, real_val))
            metrics["epoch_seconds"] = time.time() - start
            log(metrics, epoch)
            print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            save_checkpoint(ckpt_path, model, optimizer, scheduler, epoch, args)
        from training.export import export_reader

        onnx_path = export_reader(model, args.out / "reader.onnx")
        log.artifact(ckpt_path)
        log.artifact(onnx_path)
    if args.promote:
        from training.export import promote

        promote(onnx_path, REPO / "vision" / "ocr" / "weights" / "reader.onnx")
    return onnx_path


if __name__ == "__main__":
    main(get_args_parser().parse_args())
