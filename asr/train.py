"""CTC training (Graves et al. 2006): loss, one epoch, evaluation, checkpoints (`asr.resume` loads them back).

Runs on CUDA with mixed precision (bf16, or fp16 with a grad scaler), pinned memory and
non-blocking copies when a GPU is present, and on the CPU otherwise, from the same code.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from asr import distributed
from asr.checkpoint import model_payload, restore_model, save_checkpoint
from asr.config import PHONE, ExperimentConfig, TrainConfig, save_config
from asr.data import (
    BadAudioPolicy, Batch, SpeechDataset, Utterance, check_audio, collate, compute_cmvn,
    drop_untrainable,
)  # fmt: skip
from asr.errors import TrainingError
from asr.features import FeatureExtractor, end_padding_samples
from asr.model import AcousticModel
from asr.phonetic import Pronouncer, PronunciationError
from asr.resume import load_init_state, load_init_weights, load_resume_state, random_state, set_random_state
from asr.sampler import DurationBatchSampler
from asr.scoring import error_rates
from asr.tokenizer import BLANK, Tokenizer

log = logging.getLogger("asr.train")
PROGRESS_EVERY = 30.0  # seconds between progress lines when there is no terminal for a bar


def dev_end_padding(config: ExperimentConfig) -> int:
    """Silence (16 kHz samples) after each dev utterance: a unidirectional model's dev set is scored
    with the end padding that decoding gives it, so best.pt is chosen the way the model is used."""
    return 0 if config.model.bidirectional else end_padding_samples(config.stream)


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
    """Model, optimisation state and the run's settings; `fit` runs the epochs.

    Under torchrun (`context.distributed`) the model trains wrapped in DistributedDataParallel:
    each rank runs its share of every global batch and the gradients are averaged, scaled so
    that the update equals one process's over the whole batch. `model` stays the plain model
    (checkpoints hold it without DDP's `module.` prefixes).
    """

    model: AcousticModel
    config: ExperimentConfig
    tokenizer: Tokenizer
    extractor: FeatureExtractor
    device: torch.device
    steps_per_epoch: int
    bad_audio: BadAudioPolicy | None = None  # default: the config's train.on_bad_audio
    context: distributed.Context | None = None  # default: a single process on `device`
    words: dict[str, int] = field(default_factory=dict)  # phone units: saved with the model (`model_payload`)

    def __post_init__(self) -> None:
        train = self.config.train
        self.bad_audio = self.bad_audio or BadAudioPolicy(train.on_bad_audio)
        self.context = self.context or distributed.Context(0, 1, self.device)
        self.model.to(self.device)
        self.network = self.model
        if self.context.distributed:
            ids = [self.device] if self.device.type == "cuda" else None
            self.network = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.amp_dtype = amp_dtype(train.precision, self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _lr_lambda(train, self.steps_per_epoch * train.epochs))
        # A grad scaler only matters for fp16; with bf16 or fp32 it is a no-op.
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)
        self.epoch, self.step, self.best_wer, self.best_cer, self.bad_in_a_row = 0, 0, math.inf, math.inf, 0
        # Where the current epoch stands: global batches done, and the loss summed over their utterances.
        self.batches_done, self.loss_total, self.loss_count = 0, 0.0, 0

    def compute_loss(self, batch: Batch) -> torch.Tensor:
        """Mean per-utterance CTC loss of a batch."""
        loss_sum, _, _ = self._loss_sum_and_logits(batch, self.model)
        return loss_sum / len(batch.ids)

    def _loss_sum_and_logits(self, batch: Batch, network: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(CTC loss summed over the batch's utterances, logits (batch, frames, vocab), output lengths (batch,))."""
        nb = self.device.type == "cuda"  # non-blocking copies from pinned memory
        features = batch.features.to(self.device, non_blocking=nb)
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
            lengths = batch.feature_lengths.to(self.device, non_blocking=nb)
            # Truncated BPTT only while training; scoring the dev set runs the whole recurrence.
            tbptt = self.config.train.tbptt_frames if self.model.training else 0
            logits, out_lengths = network(features, lengths, tbptt_frames=tbptt)
        # CTC in fp32: the forward-backward sums underflow in half precision.
        logprobs = logits.float().log_softmax(-1).transpose(0, 1)  # (frames, batch, vocab)
        loss = torch.nn.functional.ctc_loss(
            logprobs, batch.targets.to(self.device, non_blocking=nb), out_lengths,
            batch.target_lengths.to(self.device, non_blocking=nb), blank=BLANK, reduction="sum", zero_infinity=True,
        )
        return loss, logits, out_lengths

    def _idle_loss(self) -> torch.Tensor:
        """A zero loss through the network, for a rank whose share of a batch is empty: DDP needs
        every rank's backward pass to average the gradients."""
        frames = 100  # enough for any front end's receptive field
        features = torch.zeros(1, frames, self.config.features.n_mels, device=self.device)
        logits, _ = self.network(features, torch.tensor([frames], device=self.device))
        return logits.float().sum() * 0.0

    def train_one_epoch(self, loader: Iterable[Batch], checkpoint: Callable[[], None] | None = None) -> float:
        """One pass over `loader` (the rest of the epoch when resumed within it); the mean
        training loss. `checkpoint` is called every `train.checkpoint_every_minutes`."""
        self.model.train()
        total = self.batches_done + len(loader)
        bar = tqdm(loader, desc=f"epoch {self.epoch + 1}", initial=self.batches_done, total=total, dynamic_ncols=True, leave=False,
                   disable=None if self.context.is_main else True)  # fmt: skip
        every = 60 * self.config.train.checkpoint_every_minutes
        started = last_checkpoint = last_report = time.perf_counter()
        seen = 0
        for batch in bar:
            due = checkpoint is not None and every > 0 and self.context.is_main and time.perf_counter() - last_checkpoint >= every
            count, due = self._train_step(batch, due)
            self.batches_done += 1
            seen += count
            if due:
                checkpoint()
                last_checkpoint = time.perf_counter()
            if not self.loss_count:
                continue
            bar.set_postfix(loss=f"{self.loss_total / self.loss_count:.3f}", utt_s=f"{seen / (time.perf_counter() - started):.1f}")
            if bar.disable and self.context.is_main and time.perf_counter() - last_report > PROGRESS_EVERY:  # no terminal: log
                last_report = time.perf_counter()
                log.info("epoch %d: %d/%d batches, loss %.3f, %.1f utt/s", self.epoch + 1, self.batches_done, total,
                         self.loss_total / self.loss_count, seen / (last_report - started))  # fmt: skip
        return self.loss_total / max(self.loss_count, 1)

    def _train_step(self, batch: Batch, checkpoint_due: bool) -> tuple[int, bool]:
        """Forward, backward and update on this rank's share of one global batch.
        Returns (utterances in the global batch, whether rank 0 asked for a checkpoint)."""
        self._handle_bad_audio(batch)
        if batch.ids:
            loss_sum = self._loss_sum_and_logits(batch, self.network)[0]
        else:
            loss_sum = self._idle_loss()
        # One reduction per step tells every rank the global batch's size and summed loss (not
        # finite when any rank's is: all ranks then skip the batch together) and whether rank 0
        # wants a checkpoint. .tolist() is a CPU-GPU sync, once per batch: the price of naming bad batches.
        flags = torch.cat([torch.tensor([len(batch.ids), float(checkpoint_due)], device=self.device), loss_sum.detach().float().reshape(1)])
        count, due, global_loss = distributed.all_reduce_sum(flags, self.context).tolist()
        count, due = int(count), due > 0
        if count == 0:
            return 0, due
        if not math.isfinite(global_loss):
            self._bad_batch(batch)
            return 0, due
        self.bad_in_a_row = 0
        self.optimizer.zero_grad(set_to_none=True)
        # DDP averages gradients over ranks: scale so that the average is the gradient of the global batch's mean loss.
        self.scaler.scale(loss_sum * (self.context.world_size / count)).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.step += 1
        self.loss_total += global_loss
        self.loss_count += count
        return count, due

    def _handle_bad_audio(self, batch: Batch) -> None:
        for bad in batch.bad:
            self.bad_audio.handle(bad.id, bad.error)

    def _bad_batch(self, batch: Batch) -> None:
        self.bad_in_a_row += 1
        if batch.ids:
            log.warning("non-finite loss, batch skipped; utterances: %s", " ".join(batch.ids))
        if self.bad_in_a_row > self.config.train.max_bad_batches:
            raise TrainingError(
                f"{self.bad_in_a_row} batches in a row had a non-finite loss (limit train.max_bad_batches="
                f"{self.config.train.max_bad_batches}); lower train.lr or check the data"
            )

    @torch.no_grad()
    def evaluate(self, loader: Iterable[Batch], utterances: dict[str, Utterance]) -> tuple[float, float, float]:
        """(loss, CER, WER) with greedy decoding, over every rank's share of the dev set."""
        self.model.eval()
        total, count, refs, hyps = 0.0, 0, [], []
        for batch in loader:
            self._handle_bad_audio(batch)
            if not batch.ids:
                continue
            loss_sum, logits, lengths = self._loss_sum_and_logits(batch, self.model)
            total += loss_sum.item()
            count += len(batch.ids)
            hyps += [self.tokenizer.decode(ids) for ids in greedy_ids(logits, lengths)]
            refs += [utterances[i].text for i in batch.ids]
        shares = distributed.gather_objects((total, count, refs, hyps), self.context)
        total, count = sum(s[0] for s in shares), sum(s[1] for s in shares)
        rates = error_rates([r for s in shares for r in s[2]], [h for s in shares for h in s[3]])
        return total / max(count, 1), rates.cer, rates.wer

    def model_payload(self) -> dict:
        """What inference needs (`best.pt`): weights, config, vocabulary, CMVN."""
        return model_payload(self.model, self.config, self.tokenizer, self.extractor, self.words)

    def state_dict(self) -> dict:
        """Everything a resume needs. Every rank must call it (the ranks' random states are gathered)."""
        state = self.model_payload()
        state.update(
            optimizer=self.optimizer.state_dict(), scheduler=self.scheduler.state_dict(), scaler=self.scaler.state_dict(),
            epoch=self.epoch, step=self.step, best_wer=self.best_wer, best_cer=self.best_cer,
            batches_done=self.batches_done, loss_total=self.loss_total, loss_count=self.loss_count,
            random_states=distributed.gather_objects(random_state(), self.context),
        )  # fmt: skip
        return state

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step, self.best_wer = state["epoch"], state["step"], state["best_wer"]
        # Checkpoints written before best_cer existed: a later epoch under 100 % WER still wins.
        self.best_cer = state.get("best_cer", math.inf)
        # Checkpoints written before mid-epoch checkpoints existed hold one process's random state and no position.
        self.batches_done, self.loss_total, self.loss_count = state.get("batches_done", 0), state.get("loss_total", 0.0), state.get("loss_count", 0)
        randoms = state.get("random_states") or [{"torch": state["torch_rng"], "python": state["python_rng"]}]
        if len(randoms) == self.context.world_size:
            set_random_state(randoms[self.context.rank])
        else:  # resumed with another number of ranks: the data order is the same, dropout masks are not
            log.warning("resuming %d rank(s) from a checkpoint of %d: dropout draws new random numbers", self.context.world_size, len(randoms))
            set_random_state(randoms[0])
            torch.manual_seed(self.config.train.seed + 7919 * (self.context.rank + self.epoch + 1))


def _lr_lambda(train: TrainConfig, total_steps: int):
    """Linear warm-up, then cosine decay to `final_lr_ratio`."""
    warmup = max(1, min(train.warmup_steps, total_steps // 2))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return train.final_lr_ratio + (1 - train.final_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


@dataclass
class PreparedData:
    """The utterances training will use, and what was derived from them (or restored on resume)."""

    train: list[Utterance]
    dev: list[Utterance]
    tokenizer: Tokenizer
    extractor: FeatureExtractor
    words: dict[str, int] = field(default_factory=dict)  # phone units: the training text's word counts


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
    device: str | torch.device | None = None,
    resume: bool = False,
) -> Path:
    """Train for `config.train.epochs`, keeping `last.pt` and `best.pt` in `exp_dir`; returns best.pt.

    With `resume`, continues from `exp_dir/last.pt` (or, when that is unreadable, the
    checkpoint before it), which must have been made with the same settings (but those in
    `RESUME_MAY_CHANGE`), at the batch after the one it was written at. Under torchrun every
    rank calls this; `device` None means each rank's own GPU, or the CPU.
    """
    context = distributed.setup(device)
    if context.is_main:
        exp_dir.mkdir(parents=True, exist_ok=True)
        _log_to_file(exp_dir / "train.log")
    else:  # rank 0 speaks for the run; the others only warn
        logging.getLogger("asr").setLevel(logging.WARNING)
    resume_state = load_resume_state(exp_dir / "last.pt", config) if resume else None
    init_state = load_init_state(config) if resume_state is None else None
    if config.train.num_threads:
        # Small models on few cores run faster single-threaded than with spinning OpenMP threads.
        torch.set_num_threads(config.train.num_threads)
    torch.manual_seed(config.train.seed)
    random.seed(config.train.seed)
    bad_audio = BadAudioPolicy(config.train.on_bad_audio)
    # Rank 0 reads the audio headers and computes the statistics; the others receive them.
    data = prepare_data(config, train_utterances, dev_utterances, bad_audio, resume_state, init_state) if context.is_main else None
    data = distributed.broadcast_object(data, context)
    trainer, loaders = build_trainer(config, data, context.device, bad_audio, resume_state, context, init_state)
    if context.is_main:
        save_config(config, exp_dir / "config.yaml")
    best = fit(trainer, loaders, exp_dir)
    if bad_audio.summary():
        log.warning("%s", bad_audio.summary())
    distributed.barrier(context)  # best.pt exists for every rank's caller
    return best


def prepare_data(
    config: ExperimentConfig, train_utterances: list[Utterance], dev_utterances: list[Utterance],
    bad_audio: BadAudioPolicy, resume_state: dict | None = None, init_state: dict | None = None,
) -> PreparedData:  # fmt: skip
    """Readable utterances, the vocabulary and the CMVN statistics: restored when resuming,
    taken from the `train.init_from` model when fine-tuning, else computed from the data."""
    train_utterances = check_audio(train_utterances, bad_audio)
    dev_utterances = check_audio(dev_utterances, bad_audio)
    if not train_utterances or not dev_utterances:
        raise TrainingError(f"no usable {'training' if not train_utterances else 'dev'} utterances left after skipping bad audio")
    words: dict[str, int] = {}
    if config.train.units == PHONE:
        # The model learns phones: every transcript (dev too, so dev CER is the phone error
        # rate) becomes phonetic words; the word counts spell its output back (asr.phonetic).
        words = dict(Counter(w for u in train_utterances for w in u.text.split()))
        train_utterances, dev_utterances = phonetic_utterances(train_utterances, dev_utterances)
    if resume_state is not None:
        _, _, tokenizer, extractor = restore_model(resume_state)
        return PreparedData(train_utterances, dev_utterances, tokenizer, extractor, resume_state.get("words", words))
    texts = [u.text for u in train_utterances]
    new_vocabulary = Tokenizer.from_words(texts) if config.train.units == "word" else Tokenizer.from_texts(texts)
    if init_state is not None:
        # A fine-tuned model keeps the CMVN statistics its weights were trained with, and
        # trains with this run's augmentation (the feature settings themselves must match).
        _, init_config, tokenizer, init_extractor = restore_model(init_state)
        if config.train.init_output_layer == "keep" and init_config.train.units != config.train.units:
            # Letter and phone vocabularies overlap, so the check on tokens below would not catch it.
            raise TrainingError(
                f"{config.train.init_from} was trained with units {init_config.train.units}, this run has {config.train.units}: "
                f"set train.units: {init_config.train.units}, or train.init_output_layer: new for a fresh output layer"
            )
        extractor = FeatureExtractor(config.features, init_extractor.cmvn)
        if config.train.init_output_layer == "new":
            tokenizer = new_vocabulary
        missing = sorted(set(new_vocabulary.tokens) - set(tokenizer.tokens))
        if missing:
            raise TrainingError(
                f"{config.train.init_from} has no output for {', '.join(map(repr, missing[:10]))} of the training text; "
                "start with a new output layer (train.init_output_layer: new)"
            )
        return PreparedData(train_utterances, dev_utterances, tokenizer, extractor, words)
    tokenizer = new_vocabulary
    log.info("computing CMVN statistics over up to %d utterances", config.train.cmvn_utterances)
    extractor = FeatureExtractor(config.features)
    cmvn = compute_cmvn(train_utterances, extractor, config.train.cmvn_utterances, config.train.seed, bad_audio)
    return PreparedData(train_utterances, dev_utterances, tokenizer, FeatureExtractor(config.features, cmvn), words)


def phonetic_utterances(*splits: list[Utterance]) -> tuple[list[Utterance], ...]:
    """Each split with its transcripts in phonetic words (`asr.phonetic`), every word looked up
    once (one espeak-ng run for all splits); a clear error where a word has no pronunciation."""
    pronouncer = Pronouncer()
    try:
        pronouncer.prepare(w for split in splits for u in split for w in u.text.split())
    except PronunciationError as err:
        raise TrainingError(f"phone units: {err}") from None
    return tuple([dataclasses.replace(u, text=pronouncer.text(u.text)) for u in split] for split in splits)


def build_trainer(
    config: ExperimentConfig, data: PreparedData, device: torch.device, bad_audio: BadAudioPolicy,
    resume_state: dict | None = None, context: distributed.Context | None = None, init_state: dict | None = None,
) -> tuple[Trainer, Loaders]:  # fmt: skip
    """A new model (the resumed one, or one starting from `init_state`'s weights) with its
    optimiser, and this rank's share of the batches."""
    train_cfg = config.train
    context = context or distributed.Context(0, 1, device)
    model = AcousticModel(config.features.n_mels, data.tokenizer.size, config.model)
    if init_state is not None and resume_state is None:
        load_init_weights(model, init_state["model"], keep_head=config.train.init_output_layer == "keep")
    log.info("model: %s, %.2fM parameters, vocabulary %d", config.model.rnn_type, model.num_parameters() / 1e6, data.tokenizer.size)
    if context.distributed:  # the same initial weights everywhere, then each rank its own dropout masks
        torch.manual_seed(train_cfg.seed + 7919 * context.rank)
    train_utterances = drop_untrainable(data.train, data.tokenizer, model.output_lengths)
    shard = dict(rank=context.rank, world_size=context.world_size)
    sampler = DurationBatchSampler(
        [u.duration for u in train_utterances], train_cfg.max_batch_seconds, seed=train_cfg.seed, sorted_epochs=train_cfg.sortagrad_epochs,
        **shard,
    )  # fmt: skip
    pin = device.type == "cuda"
    # The loaders draw their worker seeds from their own generators, not from the random stream
    # that dropout uses: a resumed run then draws the same dropout masks as an uninterrupted one.
    train_loader = DataLoader(
        SpeechDataset(train_utterances, data.tokenizer, data.extractor, train=True, seed=train_cfg.seed),
        batch_sampler=sampler, collate_fn=collate, num_workers=train_cfg.num_workers, pin_memory=pin, generator=torch.Generator(),
    )  # fmt: skip
    dev_loader = DataLoader(
        SpeechDataset(data.dev, data.tokenizer, data.extractor, train=False, end_padding=dev_end_padding(config)),
        batch_sampler=DurationBatchSampler([u.duration for u in data.dev], train_cfg.max_batch_seconds, shuffle=False, **shard),
        collate_fn=collate, num_workers=train_cfg.num_workers, pin_memory=pin, generator=torch.Generator(),
    )
    trainer = Trainer(
        model, config, data.tokenizer, data.extractor, device, steps_per_epoch=len(sampler), bad_audio=bad_audio, context=context, words=data.words
    )
    if resume_state is not None:
        trainer.load_state_dict(resume_state)
    return trainer, Loaders(train_loader, dev_loader, sampler, {u.id: u for u in data.dev})


def selection_key(wer: float, cer: float) -> tuple[int, float]:
    """How epochs are ranked for `best.pt`, lower first: by dev WER, but an epoch at 100 % WER or
    more only by its CER, behind every epoch under 100 %.

    An empty transcript scores exactly 100 % WER, and a young model that spells most words
    slightly wrong (plus a few insertions) scores more: by WER alone the first epoch, which
    says almost nothing, would beat ten later ones at half its CER (seen on Mini LibriSpeech).
    """
    return (0, wer) if wer < 1.0 else (1, cer)


def fit(trainer: Trainer, loaders: Loaders, exp_dir: Path) -> Path:
    """Epochs until `train.epochs`: train, score dev, write `last.pt` and (when the dev score improves,
    `selection_key`) `best.pt`.

    `last.pt` is also written within an epoch every `train.checkpoint_every_minutes`; only rank 0 writes.
    Each epoch's figures are appended to `epochs.jsonl` (and, with `train.save_every_epoch`, its
    model is kept as `epoch{N}.pt`).
    """
    main = trainer.context.is_main
    writer = _tensorboard(exp_dir) if main else None

    def checkpoint() -> None:
        state = trainer.state_dict()  # on every rank: it gathers their random states
        if main:
            save_checkpoint(state, exp_dir / "last.pt", keep_previous=True)

    while trainer.epoch < trainer.config.train.epochs:
        loaders.sampler.set_epoch(trainer.epoch, start=trainer.batches_done)
        loaders.train.dataset.set_epoch(trainer.epoch)
        started = time.perf_counter()
        train_loss = trainer.train_one_epoch(loaders.train, checkpoint)
        seconds = time.perf_counter() - started
        dev_loss, cer, wer = trainer.evaluate(loaders.dev, loaders.dev_by_id)
        trainer.epoch += 1
        trainer.batches_done, trainer.loss_total, trainer.loss_count = 0, 0.0, 0
        log.info(
            "epoch %d: train loss %.4f, dev loss %.4f, dev CER %.2f%%, dev WER %.2f%%, %.1f s, %.1f utt/s, lr %.2e",
            trainer.epoch, train_loss, dev_loss, 100 * cer, 100 * wer, seconds, len(loaders.train.dataset) / seconds,
            trainer.scheduler.get_last_lr()[0],
        )  # fmt: skip
        if writer is not None:
            for name, value in (("train/loss", train_loss), ("dev/loss", dev_loss), ("dev/cer", cer), ("dev/wer", wer)):
                writer.add_scalar(name, value, trainer.epoch)
        if main:
            record = {"epoch": trainer.epoch, "train_loss": train_loss, "dev_loss": dev_loss, "dev_cer": cer, "dev_wer": wer,
                      "seconds": round(seconds, 3), "lr": trainer.scheduler.get_last_lr()[0]}  # fmt: skip
            with open(exp_dir / "epochs.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            if trainer.config.train.save_every_epoch:
                save_checkpoint(trainer.model_payload(), exp_dir / f"epoch{trainer.epoch}.pt")
        is_best = selection_key(wer, cer) < selection_key(trainer.best_wer, trainer.best_cer)
        if is_best:
            trainer.best_wer, trainer.best_cer = wer, cer
        checkpoint()
        if is_best and main:
            save_checkpoint(trainer.model_payload(), exp_dir / "best.pt")
    if main and not (exp_dir / "best.pt").exists():  # e.g. resumed after the last epoch
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
