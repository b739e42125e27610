"""Frozen configuration dataclasses: the single source of defaults.

YAML files and command-line flags override these defaults; the resolved
`ExperimentConfig` is saved inside every checkpoint, so a model file always
says how it was built. Unknown keys are errors, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration file or override names an unknown key or a bad value."""


@dataclass(frozen=True)
class FeatureConfig:
    """Log-mel features and training-time augmentation (see `asr.features`)."""

    n_mels: int = 80
    utterance_cmn: bool = False  # also subtract each utterance's own mean (removes the microphone's colouring)
    specaugment: bool = True
    freq_masks: int = 2
    freq_mask_width: int = 15  # mel bins (Park et al. 2019, "F")
    time_masks: int = 2
    time_mask_width: int = 40  # frames of 10 ms ("T")
    time_mask_max_ratio: float = 0.2  # a time mask never covers more than this share of an utterance
    speed_perturb: bool = True
    speeds: tuple[float, ...] = (0.9, 1.0, 1.1)
    # Random gain in dB (low, high) applied before the features; (0, 0) = off. Quiet
    # recordings lose more of their bands to the log floor, so training at varied levels
    # teaches the model what that looks like.
    gain_db: tuple[float, ...] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if len(self.gain_db) != 2 or self.gain_db[0] > self.gain_db[1]:
            raise ConfigError(f"features.gain_db must be [low, high] with low <= high, got {list(self.gain_db)}")


@dataclass(frozen=True)
class ModelConfig:
    """Conv subsampling front end + recurrent stack + linear head (see `asr.model`)."""

    frontend: str = "conv2d"  # conv2d | stack (concatenate frames, no weights)
    subsampling: int = 4  # 2 or 4: frame rate reduction of the front end
    conv_channels: int = 32
    rnn_type: str = "lstm"  # lstm | gru | rnn (tanh)
    hidden_size: int = 256  # per direction
    num_layers: int = 3
    bidirectional: bool = True
    dropout: float = 0.1  # between recurrent layers
    layer_norm: bool = True  # between recurrent layers
    residual: bool = True  # between recurrent layers of the same width

    def __post_init__(self) -> None:
        _check_choice("model.rnn_type", self.rnn_type, ("lstm", "gru", "rnn"))
        _check_choice("model.frontend", self.frontend, ("conv2d", "stack"))
        _check_choice("model.subsampling", self.subsampling, (2, 4))


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, batching and run control (see `asr.train`)."""

    epochs: int = 20
    max_batch_seconds: float = 200.0  # audio seconds per batch (icefall's --max-duration)
    lr: float = 1e-3
    weight_decay: float = 1e-2
    warmup_steps: int = 200
    final_lr_ratio: float = 0.05  # cosine decay ends at lr * final_lr_ratio
    grad_clip: float = 5.0  # global gradient-norm clip
    seed: int = 0
    precision: str = "auto"  # auto (bf16/fp16 on CUDA, fp32 on CPU) | fp32 | bf16 | fp16
    num_workers: int = 2
    num_threads: int = 0  # torch CPU threads; 0 = torch's default (one per core)
    max_bad_batches: int = 5  # consecutive non-finite losses before training stops
    on_bad_audio: str = "fail"  # fail | skip: what a corrupt file in a manifest does
    cmvn_utterances: int = 1000  # utterances sampled for global CMVN statistics
    sortagrad_epochs: int = 0  # epochs whose batches go shortest first (SortaGrad), then shuffled
    units: str = "char"  # char | word: the output tokens (word: one per word of the training text; small vocabularies)

    def __post_init__(self) -> None:
        _check_choice("train.precision", self.precision, ("auto", "fp32", "bf16", "fp16"))
        _check_choice("train.on_bad_audio", self.on_bad_audio, ("fail", "skip"))
        _check_choice("train.units", self.units, ("char", "word"))


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything needed to rebuild a model and repeat its training."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentConfig:
        return _from_dict(cls, data, "")

    def with_overrides(self, overrides: dict[str, Any]) -> ExperimentConfig:
        """A copy with `{"section.field": value}` overrides applied."""
        data = self.to_dict()
        for dotted, value in overrides.items():
            section, _, name = dotted.partition(".")
            if section not in data or name not in data[section]:
                raise ConfigError(f"unknown config key {dotted!r}")
            data[section][name] = value
        return ExperimentConfig.from_dict(data)


def _check_choice(key: str, value: object, choices: tuple) -> None:
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(map(str, choices))}; got {value!r}")


def load_config(path: str | Path) -> ExperimentConfig:
    """Read a YAML file of (possibly partial) sections over the defaults."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    try:
        return ExperimentConfig.from_dict(data)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def save_config(config: ExperimentConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))


def _to_plain(value: Any) -> Any:
    """Tuples become lists so the dict is YAML- and `weights_only`-friendly."""
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _from_dict(cls: type, data: dict[str, Any], where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(where + k for k in unknown)}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _from_dict(hint, value, f"{where}{name}.")
        else:
            kwargs[name] = _coerce(value, hint, where + name)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check (and gently convert: int -> float, list -> tuple) a value against its type hint."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _) = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(v, item_type, key) for v in value)
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{key}: union types are not supported in configs")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true/false, got {value!r}")
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: expected {hint.__name__}, got {value!r}")
    return value
