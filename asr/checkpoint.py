"""Checkpoints: plain dicts of tensors and primitives, written atomically, read with `weights_only=True`.

A checkpoint holds the resolved config, the vocabulary and the CMVN statistics, so a
model file is all inference needs, and loading one can never run code.
"""

from __future__ import annotations

import logging
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
log = logging.getLogger("asr.checkpoint")


class CheckpointError(ValueError):
    """A file is not a usable checkpoint; the message names it."""


def save_checkpoint(payload: dict[str, Any], path: Pathlike, keep_previous: bool = False) -> None:
    """Write to a temporary file, flush it to disk, then rename: a crash never leaves a half-written checkpoint.

    With `keep_previous`, the file being replaced stays as `previous_path(path)`, for
    `load_checkpoint_or_previous` to fall back on should `path` turn out unreadable.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as file:
            torch.save({"format_version": FORMAT_VERSION, **payload}, file)
            file.flush()
            os.fsync(file.fileno())
    except OSError as err:  # a full disk, say: say so in one line and leave no partial file behind
        tmp.unlink(missing_ok=True)
        raise CheckpointError(f"{path}: could not write the checkpoint ({first_line(err)})") from None
    if keep_previous and path.exists():
        path.replace(previous_path(path))
    tmp.replace(path)


def previous_path(path: Pathlike) -> Path:
    """Where `save_checkpoint(..., keep_previous=True)` keeps the checkpoint before `path`: last.pt -> last.prev.pt."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


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


def load_checkpoint_or_previous(path: Pathlike) -> tuple[dict[str, Any], Path]:
    """(payload, the file it came from): `path`, or when that is missing or unreadable, the one
    kept before it (with a warning). When neither loads, the error names the last one tried."""
    path = Path(path)
    try:
        return load_checkpoint(path), path
    except CheckpointError as err:
        previous = previous_path(path)
        if not previous.is_file():
            raise
        payload = load_checkpoint(previous)
        log.warning("%s; using the checkpoint before it, %s", err, previous)
        return payload, previous


def model_payload(
    model: AcousticModel, config: ExperimentConfig, tokenizer: Tokenizer, extractor: FeatureExtractor, words: dict[str, int] | None = None
) -> dict[str, Any]:
    """What inference needs: weights, config, vocabulary, CMVN; for a phone model (`train.units:
    phone`) also the training text's word counts, which spell its output without an LM."""
    cmvn = extractor.cmvn
    payload = {
        "config": config.to_dict(),
        "tokens": list(tokenizer.tokens),
        "cmvn_mean": cmvn.mean,
        "cmvn_std": cmvn.std,
        "model": model.state_dict(),
    }
    if words:
        payload["words"] = dict(words)
    return payload


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
