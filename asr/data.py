"""Manifests (JSON Lines), Kaldi data-dir import, the bad-audio policy, CMVN statistics, the
training dataset and collation (batching: `asr.sampler`).

A manifest line: {"id": str, "audio": path, "duration": seconds, "text": str, "speaker": str}.
Relative audio paths resolve against the manifest's folder. `duration` and `speaker` are
optional: a missing duration is read from the audio file's header (manifests made by other
tools often have none).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from asr.audio import SAMPLE_RATE, AudioError, Pathlike, duration, load
from asr.config import BAD_AUDIO_POLICIES, ConfigError
from asr.features import Cmvn, CmvnAccumulator, FeatureExtractor, SpecAugment, end_padded, num_frames, speed_perturb
from asr.text import normalize_text
from asr.tokenizer import Tokenizer

log = logging.getLogger(__name__)

Seconds = float
MANIFEST_FIELDS = ("id", "audio", "text")  # required; "duration" and "speaker" are optional


class ManifestError(ValueError):
    """A manifest line is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Utterance:
    id: str
    audio: Path
    duration: Seconds | None  # None: not in the manifest and the header could not be read (yet)
    text: str
    speaker: str = ""

    def to_json(self, relative_to: Path | None = None) -> str:
        """One manifest line; with `relative_to` (an absolute folder), an audio path under it is written relative to it."""
        audio = self.audio
        if relative_to is not None:
            try:
                audio = audio.absolute().relative_to(relative_to)
            except ValueError:
                audio = audio.absolute()  # a relative path would be read against the manifest's folder
        fields = {"id": self.id, "audio": str(audio)}
        if self.duration is not None:
            fields["duration"] = round(self.duration, 4)
        return json.dumps({**fields, "text": self.text, "speaker": self.speaker})


def load_manifest(path: Pathlike) -> list[Utterance]:
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise ManifestError(f"{path}: cannot read manifest ({err.strerror})") from None
    utterances = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            utterances.append(_parse_line(line, path, number))
    if not utterances:
        raise ManifestError(f"{path}: manifest has no utterances")
    utterances = _fill_durations(utterances, path)
    seen = set()
    for utt in utterances:
        if utt.id in seen:
            raise ManifestError(f"{path}: duplicate utterance id {utt.id!r}")
        seen.add(utt.id)
    return utterances


def _parse_line(line: str, path: Path, number: int) -> Utterance:
    where = f"{path}:{number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise ManifestError(f"{where}: not valid JSON ({err.msg})") from None
    if not isinstance(record, dict):
        raise ManifestError(f"{where}: expected a JSON object")
    missing = [f for f in MANIFEST_FIELDS if f not in record]
    if missing:
        raise ManifestError(f"{where}: missing field(s) {', '.join(missing)}")
    seconds = None
    if record.get("duration") is not None:
        try:
            seconds = float(record["duration"])
        except (TypeError, ValueError):
            raise ManifestError(f"{where}: duration {record['duration']!r} is not a number") from None
        if not seconds > 0:
            raise ManifestError(f"{where}: duration must be positive, got {seconds}")
    audio = Path(record["audio"])
    if not audio.is_absolute():
        audio = path.parent.absolute() / audio
    return Utterance(str(record["id"]), audio, seconds, normalize_text(str(record["text"])), str(record.get("speaker", "")))


def _fill_durations(utterances: list[Utterance], path: Path) -> list[Utterance]:
    """Durations the manifest lacks, from the audio headers (said once per manifest). A file whose
    header cannot be read keeps None: the bad-audio policy deals with it where the audio is used."""
    missing = [i for i, u in enumerate(utterances) if u.duration is None]
    if not missing:
        return utterances
    log.info("%s: %d of %d lines have no duration; reading it from the audio headers", path, len(missing), len(utterances))
    filled = list(utterances)
    for i in missing:
        try:
            filled[i] = dataclasses.replace(utterances[i], duration=duration(utterances[i].audio))
        except AudioError:
            pass
    return filled


def write_manifest(utterances: Sequence[Utterance], path: Pathlike) -> None:
    """Write atomically; audio paths under the manifest's folder are stored relative to it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    folder = path.parent.absolute()
    tmp.write_text("".join(u.to_json(folder) + "\n" for u in utterances))
    tmp.replace(path)


def from_kaldi_dir(data_dir: Pathlike) -> list[Utterance]:
    """Read a Kaldi data dir: `wav.scp` (plain paths only), `text`, optional `utt2spk`."""
    data_dir = Path(data_dir)
    wavs = _read_kaldi_table(data_dir / "wav.scp")
    texts = _read_kaldi_table(data_dir / "text")
    speakers = _read_kaldi_table(data_dir / "utt2spk") if (data_dir / "utt2spk").exists() else {}
    utterances = []
    for utt_id, wav in wavs.items():
        if wav.rstrip().endswith("|"):
            raise ManifestError(f"{data_dir / 'wav.scp'}: {utt_id}: piped commands are not supported, only plain paths")
        if utt_id not in texts:
            raise ManifestError(f"{data_dir / 'text'}: no transcript for {utt_id}")
        audio = Path(wav)
        if not audio.is_absolute():
            audio = (data_dir / audio) if (data_dir / audio).exists() else audio.resolve()
        utterances.append(Utterance(utt_id, audio, duration(audio), normalize_text(texts[utt_id]), speakers.get(utt_id, "")))
    return utterances


def _read_kaldi_table(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise ManifestError(f"{path}: cannot read ({err.strerror})") from None
    table = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        key, _, value = line.strip().partition(" ")
        if not value.strip() and path.name != "text":
            raise ManifestError(f"{path}:{number}: expected '<id> <value>'")
        table[key] = value.strip()
    return table


class BadAudioPolicy:
    """What an unreadable audio file does to a run, "fail" or "skip", and the files it skipped.

    Every place that reads audio from a manifest (header checks, CMVN statistics, training
    and dev batches, evaluation) reports bad files here, so a run has one rule, one message
    format and one summary.
    """

    def __init__(self, policy: str) -> None:
        if policy not in BAD_AUDIO_POLICIES:
            raise ConfigError(f"on_bad_audio must be one of {', '.join(BAD_AUDIO_POLICIES)}; got {policy!r}")
        self.policy = policy
        self.skipped: dict[str, str] = {}  # utterance id -> the error, in the order met

    def handle(self, utt_id: str, error: str | Exception) -> None:
        """Fail with a one-line `AudioError`, or record the file as skipped (said once per utterance)."""
        if self.policy == "fail":
            raise AudioError(f"{error} (utterance {utt_id}; on_bad_audio 'skip' would skip it)")
        if utt_id not in self.skipped:
            self.skipped[utt_id] = str(error)
            log.warning("skipping utterance %s: %s", utt_id, error)

    def summary(self) -> str:
        """'' when nothing was skipped, else one line counting and naming the skipped utterances."""
        if not self.skipped:
            return ""
        ids = list(self.skipped)
        shown = " ".join(ids[:10]) + (f" ... and {len(ids) - 10} more" if len(ids) > 10 else "")
        return f"skipped {len(ids)} utterance(s) with unreadable audio: {shown}"


def check_audio(utterances: Sequence[Utterance], bad_audio: BadAudioPolicy) -> list[Utterance]:
    """Read every file's header; bad ones go to `bad_audio`. Returns the good utterances, each with
    its duration from the header."""
    good = []
    for utt in utterances:
        try:
            seconds = duration(utt.audio)
        except AudioError as err:
            bad_audio.handle(utt.id, err)
            continue
        good.append(utt if utt.duration is not None else dataclasses.replace(utt, duration=seconds))
    return good


def read_audio(utterances: Sequence[Utterance], bad_audio: BadAudioPolicy) -> Iterator[tuple[Utterance, torch.Tensor]]:
    """(utterance, samples (samples,) at 16 kHz) for each readable utterance; unreadable ones go to `bad_audio`."""
    for utt in utterances:
        try:
            samples, _ = load(utt.audio)
        except AudioError as err:
            bad_audio.handle(utt.id, err)
            continue
        yield utt, samples


def compute_cmvn(utterances: Sequence[Utterance], extractor: FeatureExtractor, max_utterances: int, seed: int, bad_audio: BadAudioPolicy) -> Cmvn:
    """Global CMVN statistics from the unaugmented log-mels of (a seeded sample of) `utterances`."""
    sample = random.Random(seed).sample(list(utterances), min(max_utterances, len(utterances)))
    acc = CmvnAccumulator(extractor.config.n_mels)
    with torch.no_grad():
        for _, samples in read_audio(sample, bad_audio):
            acc.add(extractor.log_mel(samples))
    return acc.result()


def drop_untrainable(
    utterances: Sequence[Utterance], tokenizer: Tokenizer, output_lengths: Callable[[torch.Tensor], torch.Tensor]
) -> list[Utterance]:
    """Drop utterances with fewer output frames than transcript tokens (CTC cannot align them).

    `output_lengths`: feature frames (batch,) -> the model's output frames (batch,), e.g.
    `AcousticModel.output_lengths`. Durations must be known (`check_audio` fills them).
    """
    frames = torch.tensor([num_frames(round(u.duration * SAMPLE_RATE)) for u in utterances])
    out_frames = output_lengths(frames).tolist()
    kept = [u for u, n in zip(utterances, out_frames) if n >= len(tokenizer.encode(u.text)) > 0]
    if len(kept) < len(utterances):
        log.warning("dropped %d utterances that are empty or too short for their transcript", len(utterances) - len(kept))
    return kept


@dataclass(frozen=True)
class Example:
    """One utterance ready for the model. `features`: (frames, n_mels); `targets`: (tokens,)."""

    id: str
    features: torch.Tensor
    targets: torch.Tensor


@dataclass(frozen=True)
class BadExample:
    """An utterance whose audio failed to decode; the training loop applies the skip/fail policy."""

    id: str
    error: str


class SpeechDataset(Dataset):
    """Loads audio, computes the model's features (with training-time augmentation) and encodes the transcript.

    The augmentation of an utterance is drawn from its own seed (the run's `seed`, the epoch,
    its index), not from the process's random stream: it is the same whichever worker or rank
    loads it and whether or not the run was interrupted and resumed in between.

    `end_padding` samples of silence follow each utterance of at least one feature window: a
    unidirectional model's dev set is then heard as `asr eval` and the streaming recognizer hear
    it (`StreamConfig.end_padding_ms`).
    """

    def __init__(
        self, utterances: Sequence[Utterance], tokenizer: Tokenizer, extractor: FeatureExtractor, train: bool, seed: int = 0,
        end_padding: int = 0,
    ) -> None:  # fmt: skip
        self.end_padding = end_padding
        self.utterances = list(utterances)
        self.tokenizer = tokenizer
        self.extractor = extractor
        self.config = extractor.config
        self.train = train
        self.seed, self.epoch = seed, 0
        self.specaugment = SpecAugment(self.config) if train and self.config.specaugment else None

    def set_epoch(self, epoch: int) -> None:
        """Must be called before the epoch's DataLoader iterator is made (workers copy the dataset)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, index: int) -> Example | BadExample:
        utt = self.utterances[index]
        try:
            samples, _ = load(utt.audio)
        except AudioError as err:
            return BadExample(utt.id, str(err))
        samples = end_padded(samples, self.end_padding)
        if not self.train:
            return self._example(utt, samples)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(((self.seed * 1_000_003 + self.epoch) * 1_000_000_007 + index) % 2**63)
            return self._example(utt, samples)

    def _example(self, utt: Utterance, samples: torch.Tensor) -> Example:
        if self.train and self.config.speed_perturb:
            speed = self.config.speeds[int(torch.randint(len(self.config.speeds), ()))]
            samples = speed_perturb(samples, speed)
        low, high = self.config.gain_db
        if self.train and high > low:
            samples = samples * 10 ** ((low + (high - low) * float(torch.rand(()))) / 20)
        warp, (low, high) = 1.0, self.config.vtlp
        if self.train and (low, high) != (1.0, 1.0):  # drawn only when on, so runs without it keep their augmentation
            warp = low + (high - low) * float(torch.rand(()))
        with torch.no_grad():
            features = self.extractor(samples, warp)
            if self.specaugment is not None:
                features = self.specaugment(features)
        return Example(utt.id, features, torch.tensor(self.tokenizer.encode(utt.text), dtype=torch.long))


@dataclass(frozen=True)
class Batch:
    """Padded batch. features (batch, frames, n_mels); targets (sum of target lengths,)."""

    ids: list[str]
    features: torch.Tensor
    feature_lengths: torch.Tensor
    targets: torch.Tensor
    target_lengths: torch.Tensor
    bad: list[BadExample]

    def pin_memory(self) -> Batch:
        return Batch(self.ids, self.features.pin_memory(), self.feature_lengths.pin_memory(), self.targets.pin_memory(), self.target_lengths.pin_memory(), self.bad)


def collate(items: Sequence[Example | BadExample]) -> Batch:
    examples = [x for x in items if isinstance(x, Example)]
    bad = [x for x in items if isinstance(x, BadExample)]
    if not examples:
        empty = torch.zeros(0, dtype=torch.long)
        return Batch([], torch.zeros(0, 1, 1), empty, empty, empty, bad)
    features = torch.nn.utils.rnn.pad_sequence([x.features for x in examples], batch_first=True)
    return Batch(
        ids=[x.id for x in examples],
        features=features,
        feature_lengths=torch.tensor([x.features.shape[0] for x in examples]),
        targets=torch.cat([x.targets for x in examples]),
        target_lengths=torch.tensor([len(x.targets) for x in examples]),
        bad=bad,
    )
