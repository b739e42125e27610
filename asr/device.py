"""Which torch device a run uses: the one asked for, else CUDA when present, else the CPU."""

from __future__ import annotations

import torch


def select_device(name: str | torch.device | None = None) -> torch.device:
    """`name` ("cpu", "cuda", "cuda:1", a device) or, when None/empty, cuda if available, else cpu."""
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
