"""MeterCRNN: the digit reader. A small CNN + BiLSTM read with CTC, plus a display-mode head.

This file is self-contained (torch only) because it is also the architecture file of the easyocr bundle:
easyocr imports it as ``<name>.py`` and builds ``Model(num_class, **network_params)``; ``forward(image,
text)`` returns per-frame class logits ``(batch, frames, num_class)`` with class 0 the CTC blank.
Input: grey images ``(batch, 1, 32, width)`` scaled to [-1, 1]; one frame per 4 pixels of width.
"""

import torch
from torch import nn


def _conv(cin: int, cout: int, kernel=3, padding=1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, padding=padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class Model(nn.Module):
    def __init__(
        self, num_class: int, input_channel: int = 1, width: int = 32, hidden: int = 96, num_modes: int = 6
    ):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _conv(input_channel, w),
            nn.MaxPool2d(2, 2),  # 16 x W/2
            _conv(w, 2 * w),
            nn.MaxPool2d(2, 2),  # 8 x W/4
            _conv(2 * w, 3 * w),
            _conv(3 * w, 3 * w),
            nn.MaxPool2d((2, 1), (2, 1)),  # 4 x W/4
            _conv(3 * w, 4 * w),
            nn.MaxPool2d((2, 1), (2, 1)),  # 2 x W/4
            _conv(4 * w, 4 * w, kernel=(2, 3), padding=(0, 1)),  # 1 x W/4
        )
        self.rnn = nn.LSTM(4 * w, hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * hidden, num_class)
        self.mode_head = nn.Linear(4 * w, num_modes)

    def sequence(self, image: torch.Tensor) -> torch.Tensor:
        return self.features(image).squeeze(2).permute(0, 2, 1)  # batch, frames, channels

    def forward(self, image: torch.Tensor, text: torch.Tensor | None = None) -> torch.Tensor:
        seq, _ = self.rnn(self.sequence(image))
        return self.classifier(seq)

    def forward_with_mode(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """CTC logits and display-mode logits, from one pass over the features."""
        feats = self.sequence(image)
        seq, _ = self.rnn(feats)
        return self.classifier(seq), self.mode_head(feats.mean(dim=1))
