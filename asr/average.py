"""Checkpoint averaging: the element-wise mean of the weights of several epochs of one run.

Averaging the last few epochs' weights (as icefall's `--avg` and ESPnet's
`average_checkpoints` do) smooths the noise of the final optimiser steps. It helps where
the last epochs still move; after a cosine decay to a small learning rate they barely do
(the demo: 45.81 -> 45.75 % WER, recipes/synth/README.md).
It only makes sense within one training run: the checkpoints must share the model and
feature settings, the vocabulary and the CMVN statistics, or averaging refuses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from asr.audio import Pathlike
from asr.checkpoint import CheckpointError, load_checkpoint

EPOCH_FILE = re.compile(r"epoch(\d+)\.pt")
MODEL_KEYS = {"config", "tokens", "cmvn_mean", "cmvn_std", "model"}


def epoch_checkpoints(exp_dir: Pathlike, last: int) -> list[Path]:
    """The `last` newest `epoch{N}.pt` of `exp_dir` (written with `train.save_every_epoch`), oldest first."""
    exp_dir = Path(exp_dir)
    if last < 1:
        raise CheckpointError(f"the number of epochs to average must be at least 1, got {last}")
    found = sorted((int(m.group(1)), p) for p in exp_dir.glob("epoch*.pt") if (m := EPOCH_FILE.fullmatch(p.name)))
    if len(found) < last:
        raise CheckpointError(
            f"{exp_dir}: {len(found)} epoch checkpoints (epoch{{N}}.pt), {last} asked for; training keeps them with train.save_every_epoch"
        )
    return [p for _, p in found[-last:]]


def average_checkpoints(paths: list[Pathlike]) -> dict[str, Any]:
    """A checkpoint payload whose weights are the mean of `paths`' (the newest one's config and
    vocabulary; `averaged_from` names the files). Integer buffers are taken from the newest."""
    if not paths:
        raise CheckpointError("no checkpoints to average")
    paths = [Path(p) for p in paths]
    payloads = [load_checkpoint(p) for p in paths]
    for payload, path in zip(payloads, paths):
        if missing := sorted(MODEL_KEYS - payload.keys()):
            raise CheckpointError(f"{path}: not a model checkpoint (no {', '.join(missing)})")
    first, first_path = payloads[0], paths[0]
    for payload, path in zip(payloads[1:], paths[1:]):
        for section in ("model", "features"):
            if payload["config"].get(section) != first["config"].get(section):
                raise CheckpointError(f"{path}: its {section} settings differ from {first_path}'s; only checkpoints of one run can be averaged")
        if payload["tokens"] != first["tokens"]:
            raise CheckpointError(f"{path}: its vocabulary differs from {first_path}'s; only checkpoints of one run can be averaged")
        if not (torch.equal(payload["cmvn_mean"], first["cmvn_mean"]) and torch.equal(payload["cmvn_std"], first["cmvn_std"])):
            raise CheckpointError(f"{path}: its CMVN statistics differ from {first_path}'s; only checkpoints of one run can be averaged")
    newest = payloads[-1]
    weights = {}
    for name, tensor in newest["model"].items():
        if tensor.is_floating_point():
            # Sum in float64: the mean of many float32 tensors is then exact to float32 rounding.
            total = sum(p["model"][name].double() for p in payloads)
            weights[name] = (total / len(payloads)).to(tensor.dtype)
        else:
            weights[name] = tensor
    return {key: newest[key] for key in ("config", "tokens", "cmvn_mean", "cmvn_std")} | {
        "model": weights,
        "averaged_from": [p.name for p in paths],
    }
