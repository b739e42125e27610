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

from asr.audio import SAMPLE_RATE, AudioError, load
from asr.checkpoint import load_checkpoint, model_payload, restore_model, save_checkpoint
from asr.config import ExperimentConfig, TrainConfig, save_config
from asr.data import Batch, DurationBatchSampler, SpeechDataset, Utterance, check_audio, collate
from asr.features import Cmvn, CmvnAccumulator, Fbank, num_frames
from asr.model import AcousticModel
from asr.scoring import error_rates
from asr.tokenizer import BLANK, Tokenizer

log = logging.getLogger("asr.train")
PROGRESS_EVERY = 30.0  # seconds between progress lines when there is no terminal for a bar


class TrainingError(RuntimeError):
    """Training cannot go on (for example: too many non-finite losses in a row)."""


def select_device(name: str | None) -> torch.device:
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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


def compute_cmvn(utterances: list[Utterance], n_mels: int, max_utterances: int, seed: int) -> Cmvn:
    """Global CMVN statistics from (a seeded sample of) the training utterances, unaugmented."""
    sample = random.Random(seed).sample(utterances, min(max_utterances, len(utterances)))
    fbank, acc = Fbank(n_mels), CmvnAccumulator(n_mels)
    with torch.no_grad():
        for utt in sample:
            try:
                acc.add(fbank(load(utt.audio)[0]))
            except AudioError as err:
                log.warning("CMVN: skipping %s: %s", utt.id, err)
    return acc.result()


def drop_untrainable(utterances: list[Utterance], model: AcousticModel, tokenizer: Tokenizer) -> list[Utterance]:
    """Drop utterances with fewer output frames than transcript tokens (CTC cannot align them)."""
    frames = torch.tensor([num_frames(round(u.duration * SAMPLE_RATE)) for u in utterances])
    out_frames = model.output_lengths(frames).tolist()
    kept = [u for u, n in zip(utterances, out_frames) if n >= len(tokenizer.encode(u.text)) > 0]
    if len(kept) < len(utterances):
        log.warning("dropped %d utterances that are empty or too short for their transcript", len(utterances) - len(kept))
    return kept


@dataclass
class Trainer:
    """Model, optimisation state and the run's settings; `fit` runs the epochs."""

    model: AcousticModel
    config: ExperimentConfig
    tokenizer: Tokenizer
    cmvn: Cmvn
    device: torch.device
    steps_per_epoch: int

    def __post_init__(self) -> None:
        train = self.config.train
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
            logits, out_lengths = self.model(features, batch.feature_lengths.to(self.device, non_blocking=nb))
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
            if self.config.train.on_bad_audio == "fail":
                raise AudioError(f"{bad.error} (utterance {bad.id}; set train.on_bad_audio=skip to skip such files)")
            log.warning("skipping utterance %s: %s", bad.id, bad.error)

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

    def state_dict(self) -> dict:
        state = model_payload(self.model, self.config, self.tokenizer, self.cmvn)
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


def run_training(
    config: ExperimentConfig,
    train_utterances: list[Utterance],
    dev_utterances: list[Utterance],
    exp_dir: Path,
    device: torch.device,
    resume: bool = False,
) -> Path:
    """Train for `config.train.epochs`, keeping `last.pt` and `best.pt` in `exp_dir`; returns best.pt."""
    exp_dir.mkdir(parents=True, exist_ok=True)
    _log_to_file(exp_dir / "train.log")
    train_cfg = config.train
    resume_state = load_checkpoint(exp_dir / "last.pt") if resume else None
    if resume_state is not None:
        _, config, tokenizer, cmvn = restore_model(resume_state, exp_dir / "last.pt")
        train_cfg = config.train
        log.info("resuming from %s at epoch %d", exp_dir / "last.pt", resume_state["epoch"] + 1)
    if train_cfg.num_threads:
        # Small models on few cores run faster single-threaded than with spinning OpenMP threads.
        torch.set_num_threads(train_cfg.num_threads)
    torch.manual_seed(train_cfg.seed)
    random.seed(train_cfg.seed)
    train_utterances = check_audio(train_utterances, train_cfg.on_bad_audio)
    dev_utterances = check_audio(dev_utterances, train_cfg.on_bad_audio)
    if not train_utterances or not dev_utterances:
        raise TrainingError(f"no usable {'training' if not train_utterances else 'dev'} utterances left after skipping bad audio")
    if resume_state is None:
        texts = [u.text for u in train_utterances]
        tokenizer = Tokenizer.from_words(texts) if train_cfg.units == "word" else Tokenizer.from_texts(texts)
        log.info("computing CMVN statistics over up to %d utterances", train_cfg.cmvn_utterances)
        cmvn = compute_cmvn(train_utterances, config.features.n_mels, train_cfg.cmvn_utterances, train_cfg.seed)
    model = AcousticModel(config.features.n_mels, tokenizer.size, config.model)
    log.info("model: %s, %.2fM parameters, vocabulary %d", config.model.rnn_type, model.num_parameters() / 1e6, tokenizer.size)
    train_utterances = drop_untrainable(train_utterances, model, tokenizer)
    save_config(config, exp_dir / "config.yaml")

    sampler = DurationBatchSampler(
        [u.duration for u in train_utterances], train_cfg.max_batch_seconds, seed=train_cfg.seed, sorted_epochs=train_cfg.sortagrad_epochs
    )
    pin = device.type == "cuda"
    train_loader = DataLoader(
        SpeechDataset(train_utterances, tokenizer, config.features, cmvn, train=True),
        batch_sampler=sampler, collate_fn=collate, num_workers=train_cfg.num_workers, pin_memory=pin,
    )
    dev_loader = DataLoader(
        SpeechDataset(dev_utterances, tokenizer, config.features, cmvn, train=False),
        batch_sampler=DurationBatchSampler([u.duration for u in dev_utterances], train_cfg.max_batch_seconds, shuffle=False),
        collate_fn=collate, num_workers=train_cfg.num_workers, pin_memory=pin,
    )
    trainer = Trainer(model, config, tokenizer, cmvn, device, steps_per_epoch=len(sampler))
    if resume_state is not None:
        trainer.load_state_dict(resume_state)
    writer = _tensorboard(exp_dir)
    dev_by_id = {u.id: u for u in dev_utterances}
    while trainer.epoch < train_cfg.epochs:
        sampler.set_epoch(trainer.epoch)
        started = time.perf_counter()
        train_loss = trainer.train_one_epoch(train_loader)
        seconds = time.perf_counter() - started
        dev_loss, cer, wer = trainer.evaluate(dev_loader, dev_by_id)
        trainer.epoch += 1
        log.info(
            "epoch %d: train loss %.4f, dev loss %.4f, dev CER %.2f%%, dev WER %.2f%%, %.1f s, %.1f utt/s, lr %.2e",
            trainer.epoch, train_loss, dev_loss, 100 * cer, 100 * wer, seconds, len(train_utterances) / seconds,
            trainer.scheduler.get_last_lr()[0],
        )
        if writer is not None:
            for name, value in (("train/loss", train_loss), ("dev/loss", dev_loss), ("dev/cer", cer), ("dev/wer", wer)):
                writer.add_scalar(name, value, trainer.epoch)
        is_best = wer < trainer.best_wer
        if is_best:
            trainer.best_wer = wer
        state = trainer.state_dict()
        save_checkpoint(state, exp_dir / "last.pt")
        if is_best:
            save_checkpoint(model_payload(model, config, tokenizer, cmvn), exp_dir / "best.pt")
    if not (exp_dir / "best.pt").exists():  # e.g. resumed after the last epoch
        save_checkpoint(model_payload(model, config, tokenizer, cmvn), exp_dir / "best.pt")
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
