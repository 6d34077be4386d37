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


def add_run_args(p: argparse.ArgumentParser) -> None:
    """Arguments every training script shares: processes, threads, seed, and where to start from."""
    p.add_argument("--workers", type=int, default=1, help="data loader processes")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--resume", type=Path, help="checkpoint to continue from (model, optimizer, schedule, epoch)"
    )
    p.add_argument(
        "--init", type=Path, help="start from this checkpoint's weights with a fresh schedule (fine-tuning)"
    )


def start_epoch(args: argparse.Namespace, model, optimizer, scheduler) -> int:
    """Apply ``--init`` (weights only) or ``--resume`` (the whole run); the epoch to start with."""
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=False)["model"])
    return resume(args.resume, model, optimizer, scheduler) if args.resume else 0


def prepare_run(args: argparse.Namespace) -> None:
    """Seed every generator, set torch's threads, make the output folder: the same start for every script."""
    import random

    import numpy as np

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
