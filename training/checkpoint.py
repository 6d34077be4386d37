"""Checkpoints as the torchvision references keep them: model, optimizer, scheduler, epoch and arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def save_checkpoint(path: Path, model, optimizer, scheduler, epoch: int, args: argparse.Namespace) -> None:
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "args": vars(args),
    }
    torch.save(state, path)


def resume(path: Path, model, optimizer, scheduler) -> int:
    """Restore a run from its checkpoint; returns the epoch to continue with."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    return ckpt["epoch"] + 1
