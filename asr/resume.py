"""Where a training run starts: its own last checkpoint (resume), or another model's weights
(fine-tuning, `train.init_from`), each refused with an error naming the settings that clash.

A resume restores every rank's random state too (`random_state`, `set_random_state`), so that
a resumed run draws the dropout masks and augmentations an uninterrupted one would have.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import torch

from asr.checkpoint import load_checkpoint, load_checkpoint_or_previous, previous_path, restore_model
from asr.config import ExperimentConfig
from asr.errors import TrainingError
from asr.model import AcousticModel

log = logging.getLogger("asr.train")

# Settings a resumed run may change: they decide how fast it runs, not what it computes.
RESUME_MAY_CHANGE = ("train.num_workers", "train.num_threads")
# Settings that decide what the weights of a model mean; fine-tuning (train.init_from) needs them equal.
FEATURE_SETTINGS = ("features.n_mels", "features.utterance_cmn", "features.running_cmn", "features.running_cmn_prior_seconds")


def has_checkpoint(exp_dir: Path) -> bool:
    """Whether `exp_dir` holds a training state to resume from."""
    return (exp_dir / "last.pt").is_file() or previous_path(exp_dir / "last.pt").is_file()


def load_resume_state(path: Path, config: ExperimentConfig) -> dict:
    """The training state in `path` (or the one before it); an error naming every setting that differs from `config`."""
    state, path = load_checkpoint_or_previous(path)
    _, saved, _, _ = restore_model(state, path)
    changed = [(key, old, new) for key, old, new in saved.differences(config) if key not in RESUME_MAY_CHANGE]
    if changed:
        listed = ", ".join(f"{key} {old!r} -> {new!r}" for key, old, new in changed)
        raise TrainingError(
            f"{path} was made with other settings ({listed}); resume with the settings it was made with, "
            "or train in a new experiment folder"
        )
    log.info("resuming from %s at epoch %d, batch %d", path, state["epoch"] + 1, state.get("batches_done", 0) + 1)
    return state


def load_init_state(config: ExperimentConfig) -> dict | None:
    """The checkpoint `train.init_from` names (None without one); an error naming every
    feature or model setting of it that differs from `config` (dropout rates may differ)."""
    if not config.train.init_from:
        return None
    path = Path(config.train.init_from)
    state = load_checkpoint(path)
    _, saved, _, _ = restore_model(state, path)
    clash = [
        (key, old, new) for key, old, new in saved.differences(config)
        if key in FEATURE_SETTINGS or (key.startswith("model.") and not key.endswith("dropout"))
    ]  # fmt: skip
    if clash:
        listed = ", ".join(f"{key} {old!r} -> {new!r}" for key, old, new in clash)
        raise TrainingError(f"{path} cannot start this model: its settings differ ({listed}); use the ones it was made with")
    log.info("starting from the weights of %s (%s)", path, "its output layer" if config.train.init_output_layer == "keep" else "a new output layer")
    return state


def load_init_weights(model: AcousticModel, weights: dict[str, torch.Tensor], keep_head: bool) -> None:
    """Copy a checkpoint's weights into `model`; without `keep_head` the output layer stays freshly initialised."""
    if not keep_head:
        weights = {k: v for k, v in weights.items() if not k.startswith("head.")}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or any(not k.startswith("head.") for k in missing) or (keep_head and missing):
        raise TrainingError(f"the init_from weights do not fit this model (missing {missing}, unexpected {unexpected})")


def random_state() -> dict:
    """This process's random generators (torch, Python's, CUDA's), as a checkpoint can hold them."""
    state = {"torch": torch.get_rng_state(), "python": _plain(random.getstate())}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    """Put back what `random_state` returned."""
    torch.set_rng_state(state["torch"])
    random.setstate(_tuples(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# Python's random state is nested tuples; checkpoints keep it as nested lists.
def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
