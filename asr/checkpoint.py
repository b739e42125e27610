"""Checkpoints: plain dicts of tensors and primitives, written atomically, read with `weights_only=True`.

A checkpoint holds the resolved config, the vocabulary and the CMVN statistics, so a
model file is all inference needs, and loading one can never run code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from asr.audio import Pathlike
from asr.config import ConfigError, ExperimentConfig
from asr.errors import first_line
from asr.features import Cmvn, FeatureExtractor
from asr.model import AcousticModel
from asr.tokenizer import Tokenizer

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A file is not a usable checkpoint; the message names it."""


def save_checkpoint(payload: dict[str, Any], path: Pathlike) -> None:
    """Write to a temporary file, then rename: a crash never leaves a half-written checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save({"format_version": FORMAT_VERSION, **payload}, tmp)
    tmp.replace(path)


def load_checkpoint(path: Pathlike) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for bad files; report one line
        raise CheckpointError(f"{path}: not a loadable checkpoint ({first_line(err)})") from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: not an asr checkpoint (format version {FORMAT_VERSION} expected)")
    return payload


def model_payload(model: AcousticModel, config: ExperimentConfig, tokenizer: Tokenizer, extractor: FeatureExtractor) -> dict[str, Any]:
    """What inference needs: weights, config, vocabulary, CMVN."""
    cmvn = extractor.cmvn
    return {
        "config": config.to_dict(),
        "tokens": list(tokenizer.tokens),
        "cmvn_mean": cmvn.mean,
        "cmvn_std": cmvn.std,
        "model": model.state_dict(),
    }


def restore_model(payload: dict[str, Any], path: Pathlike = "<checkpoint>") -> tuple[AcousticModel, ExperimentConfig, Tokenizer, FeatureExtractor]:
    """(model, config, tokenizer, feature extractor with the CMVN statistics) from a checkpoint's payload."""
    try:
        config = ExperimentConfig.from_dict(payload["config"])
    except (KeyError, ConfigError) as err:
        raise CheckpointError(f"{path}: bad config in checkpoint ({err})") from None
    tokenizer = Tokenizer(tuple(payload["tokens"]))
    model = AcousticModel(config.features.n_mels, tokenizer.size, config.model)
    model.load_state_dict(payload["model"])
    return model, config, tokenizer, FeatureExtractor(config.features, Cmvn(payload["cmvn_mean"], payload["cmvn_std"]))
