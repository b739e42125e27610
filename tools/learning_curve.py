#!/usr/bin/env python3
"""Test WER against training minutes: every epoch's model of a run, scored greedily and with a decode config.

    python tools/learning_curve.py exp/synth_stream data/synth/test.jsonl \\
        --config exp/synth_stream/decode-lm.yaml --out benchmarks/synth_curve.md --png benchmarks/synth_curve.png

The run must have been trained with `train.save_every_epoch: true` (it keeps `epoch{N}.pt`);
its `epochs.jsonl` gives each epoch's training seconds, summed into minutes of training (dev
scoring and checkpoint writing are left out). Each `--config` (a YAML decode section, such as
the `decode-lm.yaml` that `asr tune-lm` writes) adds a column beside greedy decoding. Training
minutes are those of the machine and the load the run had; the tool only reads them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr.config import DecodeConfig, ExperimentConfig, read_overrides  # noqa: E402
from asr.data import BadAudioPolicy, load_manifest, read_audio  # noqa: E402
from asr.scoring import error_rates  # noqa: E402
from report import emit  # noqa: E402


def epoch_minutes(exp_dir: Path) -> dict[int, float]:
    """Epoch -> training minutes at its end, from epochs.jsonl (a resumed run's repeated epoch counts once, the last)."""
    path = exp_dir / "epochs.jsonl"
    if not path.is_file():
        raise SystemExit(f"{path}: no such file (train with a version of asr that writes it)")
    seconds = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        seconds[record["epoch"]] = record["seconds"]
    total, minutes = 0.0, {}
    for epoch in sorted(seconds):
        total += seconds[epoch]
        minutes[epoch] = total / 60
    return minutes


def decode_config(path: Path | None) -> DecodeConfig:
    if path is None:
        return DecodeConfig()
    return ExperimentConfig().with_overrides(read_overrides(path, ("decode",))).decode


def score(model_path: Path, manifest: list, decodes: list[DecodeConfig]) -> list[tuple[float, float]]:
    """(WER, CER) of the model under each decode config."""
    from asr.transcribe import load_model

    model = load_model(model_path, "cpu")
    decoders = [model.decoder(d) for d in decodes]
    hyps: list[list[str]] = [[] for _ in decoders]
    for _, samples in read_audio(manifest, BadAudioPolicy("fail")):
        for column, decoder in zip(hyps, decoders):
            column.append(model.transcribe(samples, decoder=decoder).text)
    refs = [u.text for u in manifest]
    return [(r.wer, r.cer) for r in (error_rates(refs, h) for h in hyps)]


def plot(rows: list[dict], names: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, name in enumerate(names):
        ax.plot([r["minutes"] for r in rows], [100 * r["scores"][i][0] for r in rows], marker="o", label=name)
    ax.set_xlabel("training minutes")
    ax.set_ylabel("test WER %")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("exp_dir", type=Path, help="a training run's folder, with epoch{N}.pt and epochs.jsonl")
    p.add_argument("manifest", type=Path, help="the test manifest")
    p.add_argument("--config", type=Path, action="append", default=[], help="a decode YAML to score with as well (repeatable)")
    p.add_argument("--every", type=int, default=1, help="score every N-th epoch (and the last)")
    p.add_argument("--out", type=Path, default=None, help="also write the table here (markdown)")
    p.add_argument("--png", type=Path, default=None, help="also draw WER against minutes here")
    args = p.parse_args(argv)
    minutes = epoch_minutes(args.exp_dir)
    epochs = [e for e in sorted(minutes) if (args.exp_dir / f"epoch{e}.pt").is_file()]
    if not epochs:
        raise SystemExit(f"{args.exp_dir}: no epoch{{N}}.pt (train with train.save_every_epoch: true)")
    epochs = [e for e in epochs if e % args.every == 0 or e == epochs[-1]]
    names = ["greedy"] + [c.stem for c in args.config]
    decodes = [DecodeConfig()] + [decode_config(c) for c in args.config]
    manifest = load_manifest(args.manifest)
    rows = []
    for epoch in epochs:
        rows.append({"epoch": epoch, "minutes": minutes[epoch], "scores": score(args.exp_dir / f"epoch{epoch}.pt", manifest, decodes)})
        print(f"epoch {epoch}: " + ", ".join(f"{n} WER {100 * s[0]:.2f}%" for n, s in zip(names, rows[-1]["scores"])), file=sys.stderr)
    lines = [
        f"Test WER / CER against training minutes: `{args.exp_dir}` on `{args.manifest}` ({len(manifest)} utterances).",
        "",
        f"`python tools/learning_curve.py {' '.join(sys.argv[1:] if argv is None else argv)}`",
        "",
        "| epoch | training minutes | " + " | ".join(f"{n} WER | {n} CER" for n in names) + " |",
        "|---|---|" + "---|---|" * len(names),
    ]
    for r in rows:
        cells = " | ".join(f"{100 * w:.2f} % | {100 * c:.2f} %" for w, c in r["scores"])
        lines.append(f"| {r['epoch']} | {r['minutes']:.1f} | {cells} |")
    emit(lines, args.out)
    if args.png is not None:
        plot(rows, names, args.png, f"{args.exp_dir.name}: test WER against training time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
