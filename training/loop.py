"""The pieces every training loop here shares: one optimisation step, the CTC loss over all frames, frozen
batch-norm statistics for fine-tuning."""

from __future__ import annotations

import torch
from torch import nn

CLIP = 5.0  # gradient norm: CTC's gradients spike on a strip it cannot align


def step(model: nn.Module, optimizer, scheduler, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), CLIP)
    optimizer.step()
    scheduler.step()


def ctc_over_frames(ctc: nn.CTCLoss, log_probs: torch.Tensor, targets, lengths) -> torch.Tensor:
    """CTC of ``(batch, frames, classes)`` log-probabilities, every strip using all its frames."""
    frames = torch.full((log_probs.size(0),), log_probs.size(1), dtype=torch.long)
    return ctc(log_probs.permute(1, 0, 2), targets, frames, lengths)


def freeze_batch_norm(model: nn.Module) -> None:
    """Keep the running statistics a pretrained model learnt on all its data (call after ``model.train()``)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
