"""CTC training (Graves et al. 2006): loss, one epoch, evaluation, checkpoints, resume.

Runs on CUDA with mixed precision (bf16, or fp16 with a grad scaler), pinned memory and
non-blocking copies when a GPU is present, and on the CPU otherwise, from the same code.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from asr.checkpoint import load_checkpoint, model_payload, restore_model, save_checkpoint
from asr.config import ExperimentConfig, TrainConfig, save_config
from asr.data import (
    BadAudioPolicy, Batch, DurationBatchSampler, SpeechDataset, Utterance, check_audio, collate, compute_cmvn,
    drop_untrainable,
)  # fmt: skip
from asr.features import FeatureExtractor
from asr.model import AcousticModel
from asr.scoring import error_rates
from asr.tokenizer import BLANK, Tokenizer

log = logging.getLogger("asr.train")
PROGRESS_EVERY = 30.0  # seconds between progress lines when there is no terminal for a bar
# Settings a resumed run may change: they decide how fast it runs, not what it computes.
RESUME_MAY_CHANGE = ("train.num_workers", "train.num_threads")


class TrainingError(RuntimeError):
    """Training cannot go on (for example: too many non-finite losses in a row)."""


def greedy_ids(logprobs: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
    """logprobs (batch, frames, vocab), lengths (batch,) -> token ids per utterance."""
    best = logprobs.argmax(-1)  # (batch, frames)
    previous = torch.nn.functional.pad(best[:, :-1], (1, 0), value=BLANK)
    frames = torch.arange(best.shape[1], device=best.device)
    keep = (best != BLANK) & (best != previous) & (frames[None, :] < lengths[:, None].to(best.device))
    best, keep = best.cpu(), keep.cpu()  # one device->host copy for the whole batch
    return [row[mask].tolist() for row, mask in zip(best, keep)]


def amp_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `precision`, or None for full fp32."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


@dataclass
class Trainer:
    """Model, optimisation state and the run's settings; `fit` runs the epochs."""

    model: AcousticModel
    config: ExperimentConfig
    tokenizer: Tokenizer
    extractor: FeatureExtractor
    device: torch.device
    steps_per_epoch: int
    bad_audio: BadAudioPolicy | None = None  # default: the config's train.on_bad_audio

    def __post_init__(self) -> None:
        train = self.config.train
        self.bad_audio = self.bad_audio or BadAudioPolicy(train.on_bad_audio)
        self.model.to(self.device)
        self.amp_dtype = amp_dtype(train.precision, self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _lr_lambda(train, self.steps_per_epoch * train.epochs))
        # A grad scaler only matters for fp16; with bf16 or fp32 it is a no-op.
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)
        self.epoch, self.step, self.best_wer, self.bad_in_a_row = 0, 0, math.inf, 0

    def compute_loss(self, batch: Batch) -> torch.Tensor:
        """Mean per-utterance CTC loss of a batch."""
        return self._loss_and_logits(batch)[0]

    def _loss_and_logits(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mean per-utterance CTC loss, logits (batch, frames, vocab), output lengths (batch,)) from one forward pass."""
        nb = self.device.type == "cuda"  # non-blocking copies from pinned memory
        features = batch.features.to(self.device, non_blocking=nb)
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
            lengths = batch.feature_lengths.to(self.device, non_blocking=nb)
            # Truncated BPTT only while training; scoring the dev set runs the whole recurrence.
            tbptt = self.config.train.tbptt_frames if self.model.training else 0
            logits, out_lengths = self.model(features, lengths, tbptt_frames=tbptt)
        # CTC in fp32: the forward-backward sums underflow in half precision.
        logprobs = logits.float().log_softmax(-1).transpose(0, 1)  # (frames, batch, vocab)
        loss = torch.nn.functional.ctc_loss(
            logprobs, batch.targets.to(self.device, non_blocking=nb), out_lengths,
            batch.target_lengths.to(self.device, non_blocking=nb), blank=BLANK, reduction="sum", zero_infinity=True,
        )
        return loss / len(batch.ids), logits, out_lengths

    def train_one_epoch(self, loader: DataLoader) -> float:
        self.model.train()
        bar = tqdm(loader, desc=f"epoch {self.epoch + 1}", dynamic_ncols=True, leave=False, disable=None)
        total, count, started, seen = 0.0, 0, time.perf_counter(), 0
        last_report = started
        for number, batch in enumerate(bar, 1):
            self._handle_bad_audio(batch)
            if not batch.ids:
                continue
            loss = self.compute_loss(batch)
            # isfinite(...).item() is a CPU-GPU sync, once per batch: the price of naming bad batches.
            if not torch.isfinite(loss).item():
                self._bad_batch(batch)
                continue
            self.bad_in_a_row = 0
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scheduler.step()
            self.step += 1
            total, count, seen = total + loss.item() * len(batch.ids), count + len(batch.ids), seen + len(batch.ids)
            bar.set_postfix(loss=f"{total / count:.3f}", utt_s=f"{seen / (time.perf_counter() - started):.1f}")
            if bar.disable and time.perf_counter() - last_report > PROGRESS_EVERY:  # no terminal: log instead
                last_report = time.perf_counter()
                log.info("epoch %d: %d/%d batches, loss %.3f, %.1f utt/s", self.epoch + 1, number, len(loader), total / count, seen / (last_report - started))
        return total / max(count, 1)

    def _handle_bad_audio(self, batch: Batch) -> None:
        for bad in batch.bad:
            self.bad_audio.handle(bad.id, bad.error)

    def _bad_batch(self, batch: Batch) -> None:
        self.bad_in_a_row += 1
        log.warning("non-finite loss, batch skipped; utterances: %s", " ".join(batch.ids))
        if self.bad_in_a_row > self.config.train.max_bad_batches:
            raise TrainingError(
                f"{self.bad_in_a_row} batches in a row had a non-finite loss (limit train.max_bad_batches="
                f"{self.config.train.max_bad_batches}); lower train.lr or check the data"
            )

    @torch.no_grad()
    def evaluate(self, loader: DataLoader, utterances: dict[str, Utterance]) -> tuple[float, float, float]:
        """(loss, CER, WER) with greedy decoding."""
        self.model.eval()
        total, count, refs, hyps = 0.0, 0, [], []
        for batch in loader:
            self._handle_bad_audio(batch)
            if not batch.ids:
                continue
            loss, logits, lengths = self._loss_and_logits(batch)
            total += loss.item() * len(batch.ids)
            count += len(batch.ids)
            hyps += [self.tokenizer.decode(ids) for ids in greedy_ids(logits, lengths)]
            refs += [utterances[i].text for i in batch.ids]
        rates = error_rates(refs, hyps)
        return total / max(count, 1), rates.cer, rates.wer

    def model_payload(self) -> dict:
        """What inference needs (`best.pt`): weights, config, vocabulary, CMVN."""
        return model_payload(self.model, self.config, self.tokenizer, self.extractor)

    def state_dict(self) -> dict:
        state = self.model_payload()
        state.update(
            optimizer=self.optimizer.state_dict(), scheduler=self.scheduler.state_dict(), scaler=self.scaler.state_dict(),
            epoch=self.epoch, step=self.step, best_wer=self.best_wer,
            torch_rng=torch.get_rng_state(), python_rng=_plain(random.getstate()),
        )
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step, self.best_wer = state["epoch"], state["step"], state["best_wer"]
        torch.set_rng_state(state["torch_rng"])
        random.setstate(_tuples(state["python_rng"]))
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])


def _lr_lambda(train: TrainConfig, total_steps: int):
    """Linear warm-up, then cosine decay to `final_lr_ratio`."""
    warmup = max(1, min(train.warmup_steps, total_steps // 2))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return train.final_lr_ratio + (1 - train.final_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


@dataclass
class PreparedData:
    """The utterances training will use, and what was derived from them (or restored on resume)."""

    train: list[Utterance]
    dev: list[Utterance]
    tokenizer: Tokenizer
    extractor: FeatureExtractor


@dataclass
class Loaders:
    train: DataLoader
    dev: DataLoader
    sampler: DurationBatchSampler  # the training batches; `set_epoch` reshuffles them
    dev_by_id: dict[str, Utterance]


def run_training(
    config: ExperimentConfig,
    train_utterances: list[Utterance],
    dev_utterances: list[Utterance],
    exp_dir: Path,
    device: torch.device,
    resume: bool = False,
) -> Path:
    """Train for `config.train.epochs`, keeping `last.pt` and `best.pt` in `exp_dir`; returns best.pt.

    With `resume`, continues from `exp_dir/last.pt`, which must have been made with the same
    settings (but those in `RESUME_MAY_CHANGE`).
    """
    exp_dir.mkdir(parents=True, exist_ok=True)
    _log_to_file(exp_dir / "train.log")
    resume_state = load_resume_state(exp_dir / "last.pt", config) if resume else None
    if config.train.num_threads:
        # Small models on few cores run faster single-threaded than with spinning OpenMP threads.
        torch.set_num_threads(config.train.num_threads)
    torch.manual_seed(config.train.seed)
    random.seed(config.train.seed)
    bad_audio = BadAudioPolicy(config.train.on_bad_audio)
    data = prepare_data(config, train_utterances, dev_utterances, bad_audio, resume_state)
    trainer, loaders = build_trainer(config, data, device, bad_audio, resume_state)
    save_config(config, exp_dir / "config.yaml")
    best = fit(trainer, loaders, exp_dir)
    if bad_audio.summary():
        log.warning("%s", bad_audio.summary())
    return best


def load_resume_state(path: Path, config: ExperimentConfig) -> dict:
    """The training state in `path`; an error naming every setting that differs from `config`."""
    state = load_checkpoint(path)
    _, saved, _, _ = restore_model(state, path)
    changed = [(key, old, new) for key, old, new in saved.differences(config) if key not in RESUME_MAY_CHANGE]
    if changed:
        listed = ", ".join(f"{key} {old!r} -> {new!r}" for key, old, new in changed)
        raise TrainingError(
            f"{path} was made with other settings ({listed}); resume with the settings it was made with, "
            "or train in a new experiment folder"
        )
    log.info("resuming from %s at epoch %d", path, state["epoch"] + 1)
    return state


def prepare_data(
    config: ExperimentConfig, train_utterances: list[Utterance], dev_utterances: list[Utterance],
    bad_audio: BadAudioPolicy, resume_state: dict | None = None,
) -> PreparedData:  # fmt: skip
    """Readable utterances, the vocabulary and the CMVN statistics (both restored when resuming)."""
    train_utterances = check_audio(train_utterances, bad_audio)
    dev_utterances = check_audio(dev_utterances, bad_audio)
    if not train_utterances or not dev_utterances:
        raise TrainingError(f"no usable {'training' if not train_utterances else 'dev'} utterances left after skipping bad audio")
    if resume_state is not None:
        _, _, tokenizer, extractor = restore_model(resume_state)
        return PreparedData(train_utterances, dev_utterances, tokenizer, extractor)
    texts = [u.text for u in train_utterances]
    tokenizer = Tokenizer.from_words(texts) if config.train.units == "word" else Tokenizer.from_texts(texts)
    log.info("computing CMVN statistics over up to %d utterances", config.train.cmvn_utterances)
    extractor = FeatureExtractor(config.features)
    cmvn = compute_cmvn(train_utterances, extractor, config.train.cmvn_utterances, config.train.seed, bad_audio)
    return PreparedData(train_utterances, dev_utterances, tokenizer, FeatureExtractor(config.features, cmvn))


def build_trainer(
    config: ExperimentConfig, data: PreparedData, device: torch.device, bad_audio: BadAudioPolicy, resume_state: dict | None = None
) -> tuple[Trainer, Loaders]:
    """A new model (or the resumed one) with its optimiser, and the batches it trains on."""
    train_cfg = config.train
    model = AcousticModel(config.features.n_mels, data.tokenizer.size, config.model)
    log.info("model: %s, %.2fM parameters, vocabulary %d", config.model.rnn_type, model.num_parameters() / 1e6, data.tokenizer.size)
    train_utterances = drop_untrainable(data.train, data.tokenizer, model.output_lengths)
    sampler = DurationBatchSampler(
        [u.duration for u in train_utterances], train_cfg.max_batch_seconds, seed=train_cfg.seed, sorted_epochs=train_cfg.sortagrad_epochs
    )
    pin = device.type == "cuda"
    train_loader = DataLoader(
        SpeechDataset(train_utterances, data.tokenizer, data.extractor, train=True),
        batch_sampler=sampler, collate_fn=collate, num_workers=train_cfg.num_workers, pin_memory=pin,
    )
    dev_loader = DataLoader(
        SpeechDataset(data.dev, data.tokenizer, data.extractor, train=False),
        batch_sampler=DurationBatchSampler([u.duration for u in data.dev], train_cfg.max_batch_seconds, shuffle=False),
        collate_fn=collate, num_workers=train_cfg.num_workers, pin_memory=pin,
    )
    trainer = Trainer(model, config, data.tokenizer, data.extractor, device, steps_per_epoch=len(sampler), bad_audio=bad_audio)
    if resume_state is not None:
        trainer.load_state_dict(resume_state)
    return trainer, Loaders(train_loader, dev_loader, sampler, {u.id: u for u in data.dev})


def fit(trainer: Trainer, loaders: Loaders, exp_dir: Path) -> Path:
    """Epochs until `train.epochs`: train, score dev, write `last.pt` and (when dev WER improves) `best.pt`."""
    writer = _tensorboard(exp_dir)
    while trainer.epoch < trainer.config.train.epochs:
        loaders.sampler.set_epoch(trainer.epoch)
        started = time.perf_counter()
        train_loss = trainer.train_one_epoch(loaders.train)
        seconds = time.perf_counter() - started
        dev_loss, cer, wer = trainer.evaluate(loaders.dev, loaders.dev_by_id)
        trainer.epoch += 1
        log.info(
            "epoch %d: train loss %.4f, dev loss %.4f, dev CER %.2f%%, dev WER %.2f%%, %.1f s, %.1f utt/s, lr %.2e",
            trainer.epoch, train_loss, dev_loss, 100 * cer, 100 * wer, seconds, len(loaders.train.dataset) / seconds,
            trainer.scheduler.get_last_lr()[0],
        )  # fmt: skip
        if writer is not None:
            for name, value in (("train/loss", train_loss), ("dev/loss", dev_loss), ("dev/cer", cer), ("dev/wer", wer)):
                writer.add_scalar(name, value, trainer.epoch)
        is_best = wer < trainer.best_wer
        if is_best:
            trainer.best_wer = wer
        save_checkpoint(trainer.state_dict(), exp_dir / "last.pt")
        if is_best:
            save_checkpoint(trainer.model_payload(), exp_dir / "best.pt")
    if not (exp_dir / "best.pt").exists():  # e.g. resumed after the last epoch
        save_checkpoint(trainer.model_payload(), exp_dir / "best.pt")
    return exp_dir / "best.pt"


def _log_to_file(path: Path) -> None:
    root = logging.getLogger("asr")
    if root.level == logging.NOTSET:  # the training log records progress even when called as a library
        root.setLevel(logging.INFO)
    if not any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path.resolve() for h in root.handlers):
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        root.addHandler(handler)


def _tensorboard(exp_dir: Path):
    """A SummaryWriter when tensorboard is installed (optional), else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(exp_dir / "tensorboard"))
