"""CornerNet-S: finds the display in a whole photo as four corner heatmaps plus a "display present" logit.

A small encoder-decoder (stride 4 output) trained from scratch. Corners are read off the heatmaps by a
spatial soft-argmax (DSNT), so they come out with sub-cell precision and the loss is on coordinates.
Input: RGB ``(batch, 3, S, S)`` scaled to [-0.5, 0.5], the whole photo resized to a square.
"""

import torch
import torch.nn.functional as F
from torch import nn


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def _block(cin: int, cout: int) -> nn.Sequential:
    """Downsample by 2, then a depthwise-separable refinement."""
    return nn.Sequential(
        _conv(cin, cout, 2),
        nn.Conv2d(cout, cout, 3, 1, 1, groups=cout, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class CornerNet(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        w = width
        self.stem = _conv(3, w, 2)  # /2
        self.enc2 = _block(w, 2 * w)  # /4
        self.enc3 = _block(2 * w, 4 * w)  # /8
        self.enc4 = _block(4 * w, 6 * w)  # /16
        self.enc5 = _block(6 * w, 8 * w)  # /32
        self.lat4 = nn.Conv2d(6 * w, 4 * w, 1)
        self.lat3 = nn.Conv2d(4 * w, 4 * w, 1)
        self.lat2 = nn.Conv2d(2 * w, 4 * w, 1)
        self.top = nn.Conv2d(8 * w, 4 * w, 1)
        self.head = nn.Sequential(_conv(4 * w, 4 * w), nn.Conv2d(4 * w, 4, 1))
        self.presence = nn.Linear(8 * w, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Corner heatmap logits ``(batch, 4, S/4, S/4)`` and presence logits ``(batch,)``."""
        c2 = self.enc2(self.stem(x))
        c3 = self.enc3(c2)
        c4 = self.enc4(c3)
        c5 = self.enc5(c4)
        p = self.top(c5)
        p = F.interpolate(p, size=c4.shape[-2:], mode="nearest") + self.lat4(c4)
        p = F.interpolate(p, size=c3.shape[-2:], mode="nearest") + self.lat3(c3)
        p = F.interpolate(p, size=c2.shape[-2:], mode="nearest") + self.lat2(c2)
        return self.head(p), self.presence(c5.mean(dim=(2, 3))).squeeze(1)


def soft_argmax(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Expected (x, y) of each heatmap under its spatial softmax, in [0, 1] image units; and the softmax."""
    b, k, h, w = heatmaps.shape
    probs = heatmaps.reshape(b, k, h * w).softmax(-1).reshape(b, k, h, w)
    xs = (torch.arange(w, dtype=probs.dtype) + 0.5) / w
    ys = (torch.arange(h, dtype=probs.dtype) + 0.5) / h
    x = (probs.sum(2) * xs).sum(-1)
    y = (probs.sum(3) * ys).sum(-1)
    return torch.stack([x, y], -1), probs
