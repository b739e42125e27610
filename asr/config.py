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


def setting(default: Any, help: str, **metadata: Any) -> Any:
    """A config field with its help text (the CLI shows it beside the default). Extra metadata:
    `aliases`, more flag spellings (`("--beam",)`); `choices`, the values allowed (checked
    here, and offered by the CLI); `metavar`, the flag's placeholder."""
    return field(default=default, metadata={"help": help, **metadata})


@dataclass(frozen=True)
class FeatureConfig:
    """Log-mel features and training-time augmentation (see `asr.features`)."""

    n_mels: int = setting(80, "mel bands of the log-mel filterbank")
    utterance_cmn: bool = setting(
        False, "also subtract each utterance's own mean (removes the microphone's colouring); needs the whole utterance, so it cannot stream"
    )
    running_cmn: bool = setting(False, "also subtract the mean of the frames so far: the causal version of utterance_cmn, which streams")
    running_cmn_prior_seconds: float = setting(
        1.0, "running_cmn's warm-up: the mean starts as this many seconds of frames at the global mean (0 after CMVN)"
    )
    specaugment: bool = setting(True, "frequency and time masks on training features (Park et al. 2019)")
    freq_masks: int = setting(2, "frequency masks per utterance")
    freq_mask_width: int = setting(15, "widest frequency mask, mel bins (Park et al.'s F)")
    time_masks: int = setting(2, "time masks per utterance")
    time_mask_width: int = setting(40, "widest time mask, 10 ms frames (Park et al.'s T)")
    time_mask_max_ratio: float = setting(0.2, "a time mask never covers more than this share of an utterance")
    speed_perturb: bool = setting(True, "play each training utterance at a random one of `speeds` (Ko et al. 2015)")
    speeds: tuple[float, ...] = setting((0.9, 1.0, 1.1), "speed perturbation factors")
    # Quiet recordings lose more of their bands to the log floor, so training at varied
    # levels teaches the model what that looks like.
    gain_db: tuple[float, ...] = setting((0.0, 0.0), "random gain in dB [low, high] before the features; [0, 0] = off")
    vtlp: tuple[float, ...] = setting(
        (1.0, 1.0),
        "vocal tract length perturbation (Jaitly & Hinton 2013): each training utterance's frequencies scaled by a random "
        "factor in [low, high] (above 1: formants up, a man's voice towards a woman's; tempo and pitch kept); [1, 1] = off",
    )

    def __post_init__(self) -> None:
        if len(self.gain_db) != 2 or self.gain_db[0] > self.gain_db[1]:
            raise ConfigError(f"features.gain_db must be [low, high] with low <= high, got {list(self.gain_db)}")
        if len(self.vtlp) != 2 or not 0.5 <= self.vtlp[0] <= self.vtlp[1] <= 2.0:
            raise ConfigError(f"features.vtlp must be [low, high] with 0.5 <= low <= high <= 2, got {list(self.vtlp)}")
        if self.utterance_cmn and self.running_cmn:
            raise ConfigError("features.utterance_cmn and features.running_cmn exclude each other: pick one")
        if self.running_cmn_prior_seconds < 0:
            raise ConfigError("features.running_cmn_prior_seconds must be >= 0")


@dataclass(frozen=True)
class ModelConfig:
    """Conv subsampling front end + recurrent stack + linear head (see `asr.model`)."""

    frontend: str = setting("conv2d", "conv2d (strided convolutions) or stack (concatenate frames, no weights)", choices=("conv2d", "stack"))
    subsampling: int = setting(4, "frame-rate reduction of the front end", choices=(2, 4))
    conv_channels: int = setting(32, "channels of each conv2d layer")
    rnn_type: str = setting("lstm", "recurrent layer type (rnn: tanh)", choices=("lstm", "gru", "rnn"))
    hidden_size: int = setting(256, "recurrent units per direction")
    num_layers: int = setting(3, "recurrent layers")
    bidirectional: bool = setting(True, "bidirectional layers (offline) or forward only")
    dropout: float = setting(0.1, "dropout between recurrent layers")
    layer_norm: bool = setting(True, "layer norm between recurrent layers")
    residual: bool = setting(True, "residual connections between recurrent layers of the same width")
    lookahead: int = setting(
        0, "output frames of future context after a unidirectional stack (a row convolution, Wang et al. 2016); 0 = none"
    )
    rnn_impl: str = setting("torch", "torch's layers (cuDNN / fused CPU kernels) or our own cells (asr.cells)", choices=("torch", "native"))
    rnn_activation: str = setting("tanh", "the plain RNN's nonlinearity", choices=("tanh", "relu"))
    rnn_layer_norm: bool = setting(False, "layer norm on the gate pre-activations and the LSTM cell state (Ba et al. 2016); native cells")
    peephole: bool = setting(False, "LSTM peephole connections from the cell state to the gates; native cells")
    input_dropout: float = setting(0.0, "variational dropout on each layer's input, one mask per sequence; native cells")
    recurrent_dropout: float = setting(0.0, "variational dropout on the recurrent state, one mask per sequence (Gal & Ghahramani 2016); native cells")
    weight_dropout: float = setting(0.0, "dropout on the recurrent weight matrices (DropConnect, Merity et al. 2017); native cells")

    def __post_init__(self) -> None:
        _check_choices(self, "model")
        native_only = [k for k in ("rnn_layer_norm", "peephole", "input_dropout", "recurrent_dropout", "weight_dropout") if getattr(self, k)]
        if native_only and self.rnn_impl != "native":
            raise ConfigError(f"model.{', model.'.join(native_only)} need model.rnn_impl: native (our own cells)")
        if self.peephole and self.rnn_type != "lstm":
            raise ConfigError("model.peephole needs model.rnn_type: lstm")
        if not all(0 <= p < 1 for p in (self.input_dropout, self.recurrent_dropout, self.weight_dropout, self.dropout)):
            raise ConfigError("model dropout rates must be in [0, 1)")
        if self.lookahead < 0 or (self.lookahead and self.bidirectional):
            raise ConfigError("model.lookahead must be >= 0, and it needs model.bidirectional: false")


BAD_AUDIO_POLICIES = ("fail", "skip")
PHONE = "phone"  # train.units: phones, spelled back in words when decoding (asr.phonetic)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, batching and run control (see `asr.train`)."""

    epochs: int = setting(20, "passes over the training data")
    max_batch_seconds: float = setting(200.0, "padded audio seconds per batch (icefall's max-duration)")
    lr: float = setting(1e-3, "peak learning rate (AdamW)")
    weight_decay: float = setting(1e-2, "AdamW weight decay")
    warmup_steps: int = setting(200, "steps of linear learning-rate warm-up")
    final_lr_ratio: float = setting(0.05, "the cosine decay ends at lr * final_lr_ratio")
    grad_clip: float = setting(5.0, "global gradient-norm clip")
    seed: int = setting(0, "seed of the model's initialisation, batching and augmentation")
    precision: str = setting("auto", "auto: bf16 (or fp16) on CUDA, fp32 on CPU", choices=("auto", "fp32", "bf16", "fp16"))
    num_workers: int = setting(2, "data-loading worker processes")
    num_threads: int = setting(0, "torch CPU threads; 0 = torch's default (one per core)")
    max_bad_batches: int = setting(5, "consecutive non-finite losses before training stops")
    on_bad_audio: str = setting("fail", "what an unreadable audio file in a manifest does", choices=BAD_AUDIO_POLICIES)
    cmvn_utterances: int = setting(1000, "utterances sampled for the global CMVN statistics")
    sortagrad_epochs: int = setting(0, "first epochs whose batches go shortest first (SortaGrad), then shuffled")
    units: str = setting(
        "char", "output tokens (word: one per word of the training text, small vocabularies; phone: the training words' "
        "CMUdict pronunciations, spelled back in words when decoding)", choices=("char", "word", PHONE)
    )
    tbptt_frames: int = setting(0, "truncated BPTT: recurrent chunks of this many output frames, state detached between them; 0 = full BPTT")
    init_from: str = setting("", "fine-tune: start from this checkpoint's weights (its feature and model settings must be these), with this run's own optimiser and schedule")
    init_output_layer: str = setting(
        "keep", "with init_from: keep its vocabulary and output layer, or new: this data's vocabulary and a fresh output layer", choices=("keep", "new")
    )
    save_every_epoch: bool = setting(False, "also keep each epoch's model as epoch{N}.pt (for learning curves: tools/learning_curve.py)")
    checkpoint_every_minutes: float = setting(
        0.0, "also write last.pt within an epoch this often (with the position in it, so a resume goes on at the next batch); 0 = at epoch ends only"
    )

    def __post_init__(self) -> None:
        _check_choices(self, "train")
        if self.tbptt_frames < 0:
            raise ConfigError("train.tbptt_frames must be >= 0")
        if self.checkpoint_every_minutes < 0:
            raise ConfigError("train.checkpoint_every_minutes must be >= 0")


@dataclass(frozen=True)
class BeamSearchOptions:
    """Pruning and scoring of the CTC prefix beam search (`asr.decode.prefix_beam`); scores are natural logs.

    alpha, beta, unk_offset apply only with an LM: a completed word adds
    alpha * ln p_LM(word | history) + beta, and an out-of-vocabulary word also unk_offset.
    """

    beam_size: int = setting(16, "hypotheses kept after each frame", aliases=("--beam",))
    token_topk: int = setting(8, "tokens tried per frame")
    token_min_logprob: float = setting(-10.0, "tokens below this log-prob are not tried")
    beam_threshold: float = setting(20.0, "drop hypotheses this far (natural log) below the best")
    blank_skip_threshold: float = setting(1.0, "frames whose blank probability is above this only extend blanks; 1 = never")
    alpha: float = setting(0.5, "LM weight (on natural-log LM scores)")
    beta: float = setting(1.0, "bonus per word (natural log)")
    unk_offset: float = setting(-10.0, "extra score of a word outside the LM vocabulary")
    nbest: int = setting(1, "hypotheses to return, best first")

    def __post_init__(self) -> None:
        if self.beam_size < 1 or self.token_topk < 1 or self.nbest < 1:
            raise ConfigError("beam_size, token_topk and nbest must be >= 1")
        if not 0.0 < self.blank_skip_threshold <= 1.0:
            raise ConfigError("blank_skip_threshold must be in (0, 1]")
        if self.alpha < 0 or self.beam_threshold < 0:
            raise ConfigError("alpha and beam_threshold must be >= 0")


GREEDY, BEAM = "greedy", "beam"


@dataclass(frozen=True)
class DecodeConfig:
    """Which decoder turns log-probs into text, and with what (see `asr.decode.factory`).

    Saved in the checkpoint like every section, so a model decodes the way its recipe chose
    unless told otherwise. `lm` and `lexicon` are paths, relative ones resolved from the
    working directory when the decoder is built.
    """

    decoder: str = setting(GREEDY, "best path, or CTC prefix beam search", choices=(GREEDY, BEAM))
    lm: str = setting("", "word n-gram LM (.arpa or .arpa.gz) for the beam search; empty = none", metavar="ARPA")
    lexicon: str = setting("", "file of the words the beam search may output, one per line; empty = any", metavar="FILE")
    hotwords: tuple[str, ...] = setting(
        (), "WORD:WEIGHT pairs: a bonus (natural log) when WORD is decoded", aliases=("--hotword",), metavar="WORD:WEIGHT"
    )
    beam: BeamSearchOptions = field(default_factory=BeamSearchOptions)

    def __post_init__(self) -> None:
        _check_choices(self, "decode")
        if self.decoder == GREEDY and (self.lm or self.lexicon or self.hotwords or self.beam.nbest > 1):
            raise ConfigError("decode.lm, decode.lexicon, decode.hotwords and an N-best list need decode.decoder: beam")

    def describe(self, omit: tuple[str, ...] = ()) -> str:
        """One line naming every setting (but the beam options in `omit`), for logs and reports."""
        if self.decoder == GREEDY:
            return GREEDY
        names = [f.name for f in dataclasses.fields(self.beam) if f.name not in omit]
        options = " ".join(f"{name}={getattr(self.beam, name)}" for name in names)
        return f"beam {options} lm={self.lm or '-'} lexicon={self.lexicon or '-'} hotwords={','.join(self.hotwords) or '-'}"


@dataclass(frozen=True)
class StreamConfig:
    """Chunked recognition of a live or file stream, and where its segments end (`asr.stream`).

    Endpoint rules, the shape sherpa-onnx and WeNet use; silence is an output frame whose
    blank posterior is above `blank_threshold` (WeNet's 0.8). A segment ends after
    `silence_after_speech` seconds of silence once it holds speech (sherpa-onnx 1.2 s, WeNet
    1 s, Vosk 0.5 s: 0.8 s is shorter than the first two, since pauses inside a sentence rarely
    last that long, and less jumpy than Vosk's); after `silence_without_speech` seconds with no
    speech at all (sherpa-onnx 2.4 s: the decoder starts afresh, nothing is reported); or when it
    is `max_segment` seconds long (both use 20 s), which also bounds the decoder's memory.

    `end_padding_ms` of silence follow the last sample of a unidirectional model's input, offline
    (`Transcriber`) and streamed (`Recognizer.finish`) alike: without it, the last frames hear
    nothing but zeros beyond the end of the audio, and a word cut off by a tightly trimmed file
    loses its last letters (FSDD's digits: "thre", "seve", "zer"). sherpa-onnx pads the same way.
    """

    chunk_ms: int = setting(160, "audio per chunk fed to the recognizer, milliseconds (a multiple of 10)")
    endpointing: bool = setting(True, "end segments at pauses (else one segment, ended by the end of the stream)")
    blank_threshold: float = setting(0.8, "an output frame is silence when its blank posterior is above this")
    silence_after_speech: float = setting(0.8, "seconds of silence after speech that end a segment")
    silence_without_speech: float = setting(2.4, "seconds of silence with no speech that restart the segment")
    max_segment: float = setting(20.0, "longest segment, seconds")
    end_padding_ms: int = setting(
        300,
        "silence appended after the last sample before a unidirectional model's end, offline and streamed alike, "
        "so a word that ends with the audio is still heard out (sherpa-onnx's tail padding); 0 = none",
    )

    def __post_init__(self) -> None:
        if self.chunk_ms <= 0 or self.chunk_ms % 10:
            raise ConfigError(f"stream.chunk_ms must be a positive multiple of 10 ms, got {self.chunk_ms}")
        if not 0 < self.blank_threshold < 1:
            raise ConfigError("stream.blank_threshold must be in (0, 1)")
        if min(self.silence_after_speech, self.silence_without_speech, self.max_segment) <= 0:
            raise ConfigError("stream.silence_after_speech, silence_without_speech and max_segment must be > 0")
        if self.end_padding_ms < 0:
            raise ConfigError(f"stream.end_padding_ms must be >= 0, got {self.end_padding_ms}")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything needed to rebuild a model, repeat its training and decode with it."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)

    def __post_init__(self) -> None:
        if self.train.tbptt_frames and self.model.bidirectional:
            raise ConfigError("train.tbptt_frames needs model.bidirectional: false (a backward direction would see the future)")

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentConfig:
        return _from_dict(cls, data, "")

    def with_overrides(self, overrides: dict[str, Any]) -> ExperimentConfig:
        """A copy with `{"section.field": value}` overrides applied (`"decode.beam.alpha"` for nested ones)."""
        data = self.to_dict()
        for dotted, value in overrides.items():
            *path, name = dotted.split(".")
            node = data
            for part in path:
                node = node.get(part) if isinstance(node, dict) else None
            if not path or not isinstance(node, dict) or name not in node or isinstance(node[name], dict):
                raise ConfigError(f"unknown config key {dotted!r}")
            node[name] = value
        return ExperimentConfig.from_dict(data)

    def differences(self, other: ExperimentConfig) -> list[tuple[str, Any, Any]]:
        """(dotted key, this value, the other's value) for every setting that differs, sorted by key."""
        mine, theirs = _flatten(self.to_dict()), _flatten(other.to_dict())
        return [(key, mine[key], theirs[key]) for key in sorted(mine) if mine[key] != theirs[key]]


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _check_choices(config: Any, section: str) -> None:
    """Every field with `choices` in its metadata holds one of them."""
    for f in dataclasses.fields(config):
        choices, value = f.metadata.get("choices"), getattr(config, f.name)
        if choices is not None and value not in choices:
            raise ConfigError(f"{section}.{f.name} must be one of {', '.join(map(str, choices))}; got {value!r}")


def load_config(path: str | Path, base: ExperimentConfig | None = None) -> ExperimentConfig:
    """Read a YAML file of (possibly partial) sections over `base` (default: the dataclass defaults)."""
    overrides = read_overrides(path)
    try:
        return (base or ExperimentConfig()).with_overrides(overrides)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def read_overrides(path: str | Path, sections: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A YAML config file as `{"section.field": value}` overrides, keys checked against the dataclasses.

    `sections`: the only sections the file may hold (others are an error naming them).
    """
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
        _check_keys(ExperimentConfig, data, "")
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    if sections is not None and set(data) - set(sections):
        others = ", ".join(sorted(set(data) - set(sections)))
        raise ConfigError(f"{path}: only the {', '.join(sections)} section(s) apply here, not {others}")
    return _flatten(data)


def save_config(config: ExperimentConfig, path: str | Path, sections: tuple[str, ...] | None = None) -> None:
    """Write `config` as YAML (only `sections`, when given), loadable by `load_config`."""
    data = config.to_dict()
    if sections is not None:
        data = {name: data[name] for name in sections}
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False))


def _check_keys(cls: type, data: Any, where: str) -> None:
    """Every key of `data` names a field of `cls`, and sections are mappings (values are checked later)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where.rstrip('.') or 'config'}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(where + k for k in unknown)}")
    for name, value in data.items():
        if dataclasses.is_dataclass(hints[name]):
            _check_keys(hints[name], value, f"{where}{name}.")


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
