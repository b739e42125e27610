#!/usr/bin/env python3
"""The training pipeline's step against the bare LSTM + CTC step on the same batch shapes.

    python tools/bench_train.py --librispeech ../shared/data/librispeech_part/LibriSpeech/train-clean-5 --out benchmarks/train.md

pipeline: `asr.train`'s Trainer step fed by its DataLoader: audio decoding, speed perturbation,
log-mel features, CMVN, SpecAugment, collation (with `--workers` loader processes), the model
(frame stacking + per-layer nn.LSTM, on the CPU over the padded batch with each utterance
reversed within its length for the backward direction, + linear), CTC, backward, clipping,
AdamW, the per-batch reduction. bare: one fused nn.LSTM stack (the same sizes) straight over
the padded batch (the fastest form of the same work; bucketing leaves about 2.5 % padding) +
linear + ctc_loss + backward + AdamW on tensors made up front with the shapes of the same
batches. Each variant
runs in its own process (so peak RSS is its own), alternately, `--repeats` times; the ratio is
bare time / pipeline time for the same batches (1.0 = the pipeline costs nothing). Also
reported: hours of audio per hour of training and the padding fraction of those batches.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr import distributed  # noqa: E402
from asr.config import ExperimentConfig  # noqa: E402
from asr.data import BadAudioPolicy, Utterance  # noqa: E402
from asr.features import num_frames  # noqa: E402
from asr.train import build_trainer, prepare_data  # noqa: E402
from report import emit  # noqa: E402  (tools/report.py, beside this script)

SIZES = {"eesen 4x320": (4, 320), "large 5x512": (5, 512)}


def librispeech(folder: Path) -> list[Utterance]:
    """Utterances of a LibriSpeech subset folder (<speaker>/<chapter>/*.trans.txt + .flac)."""
    import soundfile

    utts = []
    for trans in sorted(folder.glob("*/*/*.trans.txt")):
        for line in trans.read_text().splitlines():
            uid, text = line.split(" ", 1)
            audio = trans.parent / f"{uid}.flac"
            utts.append(Utterance(uid, audio, soundfile.info(str(audio)).duration, text.lower()))
    if not utts:
        raise SystemExit(f"{folder}: no LibriSpeech transcripts (<speaker>/<chapter>/*.trans.txt) found")
    return utts


def experiment(layers: int, hidden: int, workers: int, batch_seconds: float) -> ExperimentConfig:
    return ExperimentConfig().with_overrides({
        "features.n_mels": 80, "model.frontend": "stack", "model.subsampling": 4, "model.num_layers": layers,
        "model.hidden_size": hidden, "model.layer_norm": False, "model.residual": False, "model.dropout": 0.1,
        "train.num_workers": workers, "train.max_batch_seconds": batch_seconds, "train.warmup_steps": 10,
        "train.cmvn_utterances": 50,
    })  # fmt: skip


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_pipeline(config: ExperimentConfig, utts: list[Utterance], device: str, warmup: int, steps: int) -> dict:
    context = distributed.setup(device)  # one process, or a rank under torchrun (--scaling)
    data = prepare_data(config, utts, utts[:2], BadAudioPolicy("fail"))
    trainer, loaders = build_trainer(config, data, context.device, BadAudioPolicy("fail"), context=context)
    loaders.sampler.set_epoch(1)  # shuffled batches, the same as the bare variant's
    loaders.train.dataset.set_epoch(1)
    trainer.model.train()
    batches = iter(loaders.train)
    for _ in range(warmup):
        trainer._train_step(next(batches), False)
    _sync(context.device)
    distributed.barrier(context)
    started = time.perf_counter()
    for _ in range(steps):
        trainer._train_step(next(batches), False)
    _sync(context.device)
    distributed.barrier(context)
    return {"seconds": time.perf_counter() - started, "rank": context.rank}


def batch_shapes(config: ExperimentConfig, utts: list[Utterance], count: int) -> tuple[list[tuple[list[int], list[int]]], int]:
    """((feature frames, target lengths) of each of the first `count` training batches of epoch 1, vocabulary size)."""
    data = prepare_data(config, utts, utts[:2], BadAudioPolicy("fail"))
    _, loaders = build_trainer(config, data, torch.device("cpu"), BadAudioPolicy("fail"))
    loaders.sampler.set_epoch(1)
    train = loaders.train.dataset.utterances
    shapes = []
    for batch in loaders.sampler.batches()[:count]:
        shapes.append(([num_frames(round(train[i].duration * 16000)) for i in batch], [len(data.tokenizer.encode(train[i].text)) for i in batch]))
    return shapes, data.tokenizer.size


def run_bare(config: ExperimentConfig, shapes, vocab: int, device: torch.device, warmup: int) -> dict:
    model = config.model
    rnn = torch.nn.LSTM(80 * 4, model.hidden_size, model.num_layers, batch_first=True, bidirectional=True, dropout=model.dropout).to(device)
    head = torch.nn.Linear(2 * model.hidden_size, vocab).to(device)
    params = [*rnn.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    made = []
    for frames, targets in shapes:  # the batches, made before the clock starts
        lengths = torch.tensor(frames) // 4
        made.append((torch.randn(len(frames), int(lengths.max()), 80 * 4, device=device), lengths,
                     torch.randint(1, vocab, (sum(targets),), device=device), torch.tensor(targets)))  # fmt: skip

    def step(x, lengths, targets, target_lengths):
        out, _ = rnn(x)
        logprobs = head(out).log_softmax(-1).transpose(0, 1)
        loss = torch.nn.functional.ctc_loss(logprobs, targets, lengths.to(device), target_lengths.to(device), reduction="sum", zero_infinity=True)
        optimizer.zero_grad(set_to_none=True)
        (loss / x.shape[0]).backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        optimizer.step()

    for batch in made[:warmup]:
        step(*batch)
    _sync(device)
    started = time.perf_counter()
    for batch in made[warmup:]:
        step(*batch)
    _sync(device)
    return {"seconds": time.perf_counter() - started}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def child(args: argparse.Namespace) -> int:
    """One measurement in this process; prints a JSON line."""
    layers, hidden = SIZES[args.size]
    config = experiment(layers, hidden, args.workers, args.batch_seconds)
    utts = librispeech(args.librispeech)
    device = torch.device(args.device)
    if args.variant == "pipeline":
        result = run_pipeline(config, utts, args.device, args.warmup, args.steps)
        if result["rank"] != 0:
            return 0
    else:
        shapes, vocab = batch_shapes(config, utts, args.warmup + args.steps)
        result = run_bare(config, shapes, vocab, device, args.warmup)
    result["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else peak_rss_mb()
    print(json.dumps(result))
    return 0


def measure(args: argparse.Namespace, size: str, variant: str, workers: int, ranks: int = 0, threads: int = 0) -> dict:
    """One child run; `ranks` > 0 launches that many under torchrun (Gloo on 127.0.0.1), `threads` > 0 sets torch's threads."""
    launcher = [sys.executable]
    if ranks:
        launcher += ["-m", "torch.distributed.run", "--nproc_per_node", str(ranks), "--rdzv_backend", "c10d", "--rdzv_endpoint", "127.0.0.1:0"]
    command = [*launcher, __file__, "--child", "--size", size, "--variant", variant, "--workers", str(workers),
               "--librispeech", str(args.librispeech), "--batch-seconds", str(args.batch_seconds), "--warmup", str(args.warmup),
               "--steps", str(args.steps), "--device", args.device]  # fmt: skip
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{variant} {size} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--librispeech", type=Path, default=ROOT.parent / "shared/data/librispeech_part/LibriSpeech/train-clean-5")
    p.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: " + ", ".join(SIZES))
    p.add_argument("--workers", default="0,2", help="data-loading processes to try for the pipeline (comma-separated)")
    p.add_argument("--batch-seconds", type=float, default=60.0, help="train.max_batch_seconds (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=6, help="timed batches per run")
    p.add_argument("--repeats", type=int, default=2, help="alternating runs of each variant")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--scaling", action="store_true", help="instead: one process (1 and 2 threads) against 2 Gloo ranks of 1 thread, same global batches")
    p.add_argument("--out", type=Path)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--size", help=argparse.SUPPRESS)
    p.add_argument("--variant", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.workers = int(args.workers)
        return child(args)
    utts = librispeech(args.librispeech)
    if args.scaling:
        return scaling(args, utts)
    workers = [int(w) for w in args.workers.split(",")]
    lines = [
        f"`python tools/bench_train.py {' '.join(sys.argv[1:])}`", "",
        f"{len(utts)} utterances, {sum(u.duration for u in utts) / 60:.1f} min; device {args.device}, {torch.get_num_threads()} torch threads; "
        f"batches of at most {args.batch_seconds:g} padded seconds, {args.steps} timed after {args.warmup} warm-up, median of {args.repeats} runs",
        "", "| model | params | variant | s/batch | ratio bare/pipeline | audio h per training h | peak MB |", "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for size in args.sizes.split(","):
        layers, hidden = SIZES[size]
        config = experiment(layers, hidden, 0, args.batch_seconds)
        shapes, vocab = batch_shapes(config, utts, args.warmup + args.steps)
        timed = shapes[args.warmup :]
        audio = sum(f for frames, _ in timed for f in frames) / 100  # seconds of audio in the timed batches
        padded = sum(max(frames) * len(frames) for frames, _ in timed) / 100
        runs = {("bare", 0): []} | {("pipeline", w): [] for w in workers}
        for _ in range(args.repeats):
            for variant, w in runs:  # alternate, so slow spells of the machine hit every variant
                runs[(variant, w)].append(measure(args, size, variant, w))
        bare = statistics.median(r["seconds"] for r in runs[("bare", 0)])
        params = sum(p.numel() for p in torch.nn.LSTM(80 * 4, hidden, layers, bidirectional=True).parameters()) + (2 * hidden + 1) * vocab
        for (variant, w), results in runs.items():
            seconds = statistics.median(r["seconds"] for r in results)
            name = "bare" if variant == "bare" else f"pipeline, {w} workers"
            lines.append(f"| {size} | {params / 1e6:.1f} M | {name} | {seconds / args.steps:.2f} | {bare / seconds:.2f} | "
                         f"{audio / seconds:.0f} | {max(r['peak_mb'] for r in results):.0f} |")  # fmt: skip
            print(lines[-1], flush=True)
        lines.append(f"| {size} | | padding: {100 * (1 - audio / padded):.1f} % of the padded frames | | | | |")
    emit(lines, args.out)
    return 0


def scaling(args: argparse.Namespace, utts: list[Utterance]) -> int:
    """Data-parallel scaling on this machine: the pipeline (0 workers) as 1 process x 1 thread,
    1 process x 2 threads and 2 Gloo ranks x 1 thread over the same global batches."""
    size = args.sizes.split(",")[0]
    variants = {"1 process, 1 thread": (0, 1), "1 process, 2 threads": (0, 2), "2 Gloo ranks, 1 thread each": (2, 1)}
    runs = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, (ranks, threads) in variants.items():
            runs[name].append(measure(args, size, "pipeline", 0, ranks, threads)["seconds"])
    base = statistics.median(runs["1 process, 1 thread"])
    lines = [f"`python tools/bench_train.py {' '.join(sys.argv[1:])}`", "",
             f"{size}, pipeline with 0 workers, {args.steps} global batches of at most {args.batch_seconds:g} padded seconds after "
             f"{args.warmup} warm-up, median of {args.repeats} runs", "",
             "| run | s/batch | speed-up over 1 process x 1 thread |", "|---|---|---|"]  # fmt: skip
    for name, seconds in runs.items():
        lines.append(f"| {name} | {statistics.median(seconds) / args.steps:.2f} | {base / statistics.median(seconds):.2f} |")
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
