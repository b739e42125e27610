#!/usr/bin/env python3
"""Pool the prepared English corpora into one training set, one dev set and a test set per corpus.

Reads the folders the other recipes' `prepare.py` write (each with train/dev/test.jsonl;
see run.sh stage 0) and writes OUT/:

- `train.jsonl`: every corpus's training utterances, plus a seeded sample of about
  `--tts-hours` of the synthetic corpus' training speech (TTS voices: more speakers than all
  the real corpora together, none of them real);
- `dev.jsonl`: every real corpus's dev utterances (it chooses `best.pt` and the LM weights);
- `test_<corpus>.jsonl`: each corpus's own test set, unchanged (the held-out speakers), and
  `test_tts.jsonl`, the synthetic corpus' test set (voices training never hears);
- `lm_text.txt`: each corpus's LM text (`lm_text.txt` where its recipe writes one, else its
  training transcripts), minus every dev or test transcript of any corpus (the TTS test set's
  too) that is not also a training transcript;
- `summary.json`: utterances and minutes per corpus and split.

Utterance ids and speakers get the corpus name as a prefix (`an4/...`), so ids never collide
and per-speaker statistics stay per corpus. Audio stays where it is (absolute paths).

    python recipes/english/prepare.py --out-dir data/english --corpus an4=data/an4 \
        --corpus librispeech=data/librispeech --corpus ljspeech=data/ljspeech \
        --corpus fsdd=data/fsdd --tts data/synth [--tts-hours 1.0] [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from pathlib import Path

from asr.data import ManifestError, Utterance, load_manifest, write_manifest

SPLITS = ("train", "dev", "test")


def corpus_arg(text: str) -> tuple[str, Path]:
    name, sep, folder = text.partition("=")
    if not sep or not name or not folder or "/" in name:
        raise argparse.ArgumentTypeError(f"expected NAME=FOLDER, got {text!r}")
    return name, Path(folder)


def tagged(utterances: list[Utterance], corpus: str) -> list[Utterance]:
    return [dataclasses.replace(u, id=f"{corpus}/{u.id}", speaker=f"{corpus}/{u.speaker}", audio=u.audio.absolute())
            for u in utterances]


def minutes(utterances: list[Utterance]) -> float:
    return sum(u.duration or 0.0 for u in utterances) / 60


def sample_hours(utterances: list[Utterance], hours: float, seed: int) -> list[Utterance]:
    """A seeded sample of whole utterances, at most `hours` long, in the manifest's order."""
    order = list(range(len(utterances)))
    random.Random(seed).shuffle(order)
    chosen, total = [], 0.0
    for i in order:
        seconds = utterances[i].duration or 0.0
        if total + seconds > hours * 3600:
            continue
        chosen.append(i)
        total += seconds
    return [utterances[i] for i in sorted(chosen)]


def lm_lines(folder: Path, train: list[Utterance]) -> list[str]:
    path = folder / "lm_text.txt"
    if path.is_file():
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [u.text for u in train if u.text]


def prepare(corpora: list[tuple[str, Path]], out_dir: Path, tts: Path | None, tts_hours: float, seed: int) -> dict:
    names = [name for name, _ in corpora]
    if len(set(names)) != len(names):
        raise SystemExit(f"error: a corpus name is given twice: {', '.join(names)}")
    train, dev, lm_text, held_out, summary = [], [], [], set(), {}
    for name, folder in corpora:
        splits = {}
        for split in SPLITS:
            path = folder / f"{split}.jsonl"
            if not path.is_file():
                raise SystemExit(f"error: {path}: no such manifest (run that corpus's prepare.py first)")
            splits[split] = tagged(load_manifest(path), name)
        train += splits["train"]
        dev += splits["dev"]
        write_manifest(splits["test"], out_dir / f"test_{name}.jsonl")
        held_out |= {u.text for u in splits["dev"] + splits["test"]}
        lm_text += lm_lines(folder, splits["train"])
        summary[name] = {split: {"utterances": len(us), "minutes": round(minutes(us), 1)} for split, us in splits.items()}
    if tts is not None and tts_hours > 0:
        synthetic = sample_hours(tagged(load_manifest(tts / "train.jsonl"), "tts"), tts_hours, seed)
        train += synthetic
        tts_test = tagged(load_manifest(tts / "test.jsonl"), "tts")
        write_manifest(tts_test, out_dir / "test_tts.jsonl")
        held_out |= {u.text for u in tts_test}
        lm_text += [u.text for u in synthetic]
        summary["tts"] = {"train": {"utterances": len(synthetic), "minutes": round(minutes(synthetic), 1)}}
    # A dev or test sentence that is also a training transcript (FSDD's digits, AN4's "yes") is
    # what the acoustic model trains on anyway; only the other held-out sentences must stay unseen.
    held_out -= {u.text for u in train}
    kept = [line for line in lm_text if line not in held_out]
    write_manifest(train, out_dir / "train.jsonl")
    write_manifest(dev, out_dir / "dev.jsonl")
    (out_dir / "lm_text.txt").write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    summary["all"] = {"train": {"utterances": len(train), "minutes": round(minutes(train), 1)},
                      "dev": {"utterances": len(dev), "minutes": round(minutes(dev), 1)},
                      "lm_text": {"lines": len(kept), "dropped": len(lm_text) - len(kept)}}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--corpus", type=corpus_arg, action="append", required=True, metavar="NAME=FOLDER",
                   help="a prepared corpus (train/dev/test.jsonl); repeatable")
    p.add_argument("--tts", type=Path, default=None, help="the synthetic corpus' folder (recipes/synth/prepare.py)")
    p.add_argument("--tts-hours", type=float, default=1.0, help="hours of its training speech to add (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="chooses the TTS sample (default: %(default)s)")
    args = p.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        summary = prepare(args.corpus, args.out_dir, args.tts, args.tts_hours, args.seed)
    except ManifestError as err:
        sys.exit(f"error: {err}")
    for name, splits in summary.items():
        print(name + ": " + "; ".join(f"{split} " + ", ".join(f"{v} {k}" for k, v in stats.items()) for split, stats in splits.items()))


if __name__ == "__main__":
    main()
