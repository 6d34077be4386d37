"""Train the display detector (CornerNet-S) on synthetic whole photos.

    python -m training.train_detector --synth-train DIR --synth-val DIR --epochs 8 --out runs/detector

Tracks params, metrics and the checkpoint in MLflow, exports ONNX; ``--promote`` ships it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from training.checkpoint import add_run_args, prepare_run, save_checkpoint, start_epoch
from training.data.detect import DetectorDataset, load_sets
from training.loop import step
from training.models.corner_net import CornerNet, soft_argmax
from training.tracking import tracked_run
from vision.geometry import quad_iou

REPO = Path(__file__).resolve().parents[1]


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--synth-train", type=Path, required=True)
    p.add_argument("--synth-val", type=Path, required=True)
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        help="a dataset with register quads to learn from too (train split; val split validates), e.g. "
        "reviewers' marks from `meterverify data from-reviews`; repeatable",
    )
    p.add_argument("--side", type=int, default=192, help="input size (square)")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--sigma", type=float, default=1.0, help="target heatmap spread, in output cells")
    p.add_argument("--out", type=Path, default=Path("runs/detector"))
    add_run_args(p)
    p.add_argument(
        "--promote", action="store_true", help="copy the exported ONNX model to vision/detect/weights/"
    )
    return p


def heatmap_targets(coords: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """Normalised Gaussian bumps at ``coords`` (batch, 4, 2 in [0, 1]) on a ``size`` grid."""
    grid = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    dx = (grid[None, None, None, :] - coords[..., 0, None, None]) * size
    dy = (grid[None, None, :, None] - coords[..., 1, None, None]) * size
    g = torch.exp(-(dx**2 + dy**2) / (2 * sigma**2))
    return g / g.sum(dim=(2, 3), keepdim=True).clamp_min(1e-8)


def losses(model, images, targets, present, sigma: float) -> tuple[torch.Tensor, dict[str, float]]:
    heatmaps, presence = model(images)
    coords, probs = soft_argmax(heatmaps)
    size = heatmaps.shape[-1]
    mask = present > 0.5
    presence_loss = F.binary_cross_entropy_with_logits(presence, present)
    if mask.any():
        coord_loss = (coords[mask] - targets[mask]).abs().sum(-1).mean() * size
        target_maps = heatmap_targets(targets[mask], size, sigma)
        shape_loss = -(target_maps * torch.log(probs[mask] + 1e-8)).sum(dim=(2, 3)).mean()
    else:
        coord_loss = shape_loss = torch.zeros(())
    loss = coord_loss + 0.1 * shape_loss + presence_loss
    return loss, {"coord": coord_loss.item(), "shape": shape_loss.item(), "presence": presence_loss.item()}


def train_one_epoch(model, loader, optimizer, scheduler, epoch: int, args) -> dict[str, float]:
    model.train()
    total, count = 0.0, 0
    bar = tqdm(loader, desc=f"epoch {epoch}", unit="batch", leave=False)
    for images, targets, present in bar:
        loss, parts = losses(model, images, targets, present, args.sigma)
        step(model, optimizer, scheduler, loss)
        total += loss.item() * images.size(0)
        count += images.size(0)
        bar.set_postfix(loss=f"{total / count:.3f}", coord=f"{parts['coord']:.2f}")
    return {"train_loss": total / count}


@torch.no_grad()
def evaluate(model, loader) -> dict[str, float]:
    """Presence accuracy, display hit rate (IoU >= 0.5) and mean corner error (share of the image side)."""
    model.eval()
    hits = found = positives = correct = n = 0
    errors = []
    for images, targets, present in loader:
        heatmaps, presence = model(images)
        coords, _ = soft_argmax(heatmaps)
        predicted = presence > 0
        correct += (predicted == (present > 0.5)).sum().item()
        n += len(images)
        for i in range(len(images)):
            if present[i] > 0.5:
                positives += 1
                errors.append((coords[i] - targets[i]).norm(dim=-1).mean().item())
                if predicted[i]:
                    found += 1
                    hits += quad_iou(coords[i].numpy(), targets[i].numpy()) >= 0.5
    return {
        "val_presence_acc": correct / max(n, 1),
        "val_hit_rate": hits / max(positives, 1),
        "val_recall": found / max(positives, 1),
        "val_corner_error": float(np.mean(errors)) if errors else 0.0,
    }


def main(args: argparse.Namespace) -> Path:
    prepare_run(args)
    train_sets = [(args.synth_train, "train"), *((d, "train") for d in args.data)]
    val_sets = [(args.synth_val, "val"), *((d, "val") for d in args.data)]
    train = DetectorDataset(*load_sets(train_sets), args.side, augment=True, seed=args.seed)
    val = DetectorDataset(*load_sets(val_sets), args.side, augment=False)
    loader = DataLoader(
        train,
        args.batch_size,
        shuffle=True,
        num_workers=args.workers,
        drop_last=True,
        persistent_workers=args.workers > 0,
    )
    val_loader = DataLoader(val, 64, num_workers=0)

    model = CornerNet(args.width)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, args.lr, total_steps=args.epochs * len(loader), pct_start=0.15
    )
    first_epoch = start_epoch(args, model, optimizer, scheduler)
    params = {k: str(v) for k, v in vars(args).items()}
    params.update(
        train_photos=len(train), val_photos=len(val), parameters=sum(p.numel() for p in model.parameters())
    )
    ckpt_path = args.out / "checkpoint.pt"
    with tracked_run("detector", params) as log:
        for epoch in range(first_epoch, args.epochs):
            train.epoch = epoch
            start = time.time()
            metrics = train_one_epoch(model, loader, optimizer, scheduler, epoch, args)
            metrics.update(evaluate(model, val_loader))
            metrics["epoch_seconds"] = time.time() - start
            log(metrics, epoch)
            print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            save_checkpoint(ckpt_path, model, optimizer, scheduler, epoch, args)
        from training.export import export_detector

        onnx_path = export_detector(model, args.out / "detector.onnx", args.side)
        log.artifact(ckpt_path)
        log.artifact(onnx_path)
    if args.promote:
        from training.export import promote

        promote(onnx_path, REPO / "vision" / "detect" / "weights" / "detector.onnx")
    return onnx_path


if __name__ == "__main__":
    main(get_args_parser().parse_args())
