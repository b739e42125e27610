#!/usr/bin/env python3
"""Prepare LibriSpeech (read audiobooks, 16 kHz FLAC): train / dev / test manifests and LM text.

The original layout, as the OpenSLR archives unpack: `LibriSpeech/<subset>/<speaker>/<chapter>/
<speaker>-<chapter>-<n>.flac` beside `<speaker>-<chapter>.trans.txt` (`<id> <UPPER-CASE TEXT>`
per line). DATA_DIR is the folder holding `LibriSpeech/` (or that folder itself).

Two ways to split:
- by subset, the standard way on the full corpus: `--train train-clean-100,train-clean-360
  --dev dev-clean --test test-clean,test-other` (each dev and test subset also gets a manifest
  of its own, OUT/<subset>.jsonl, to score test-clean and test-other apart);
- by speaker, for one subset alone (these machines hold 8 speakers of Mini LibriSpeech's
  train-clean-5): `--test-speakers` and `--dev-speakers` move those speakers' utterances from
  the training subsets to test and dev, so no test voice is heard in training.

OUT/lm_text.txt holds the training transcripts plus the lines of every `--extra-text` file
(one sentence per line, normalised like the transcripts; LibriSpeech's own LM corpus
`librispeech-lm-norm.txt` is one), minus any sentence that is also a dev or test transcript:
the only text the LM sees. OUT/tts_text.txt holds `--tts-lines` lines drawn from that text for
TTS pre-training (each line once before any repeats, so a small text is read by several voices),
and `--tts` has Debian's TTS engines read it with the synthetic corpus' training voices
(recipes/synth/prepare.py) into OUT/tts/. `--download` fetches the named subsets from OpenSLR
first. Safe to re-run.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

from asr.audio import duration
from asr.data import Utterance, write_manifest
from asr.text import normalize_text

# Mini LibriSpeech is OpenSLR resource 31, the full corpus resource 12.
MINI = ("train-clean-5", "dev-clean-2")
URL = "https://www.openslr.org/resources/{resource}/{subset}.tar.gz"
SYNTH_PREPARE = Path(__file__).resolve().parents[1] / "synth" / "prepare.py"


def corpus_root(data_dir: Path) -> Path:
    return data_dir if data_dir.name == "LibriSpeech" else data_dir / "LibriSpeech"


def download(data_dir: Path, subsets: list[str]) -> None:
    root = corpus_root(data_dir)
    for subset in subsets:
        if (root / subset).is_dir():
            continue
        url = URL.format(resource=31 if subset in MINI else 12, subset=subset)
        archive = root.parent / f"{subset}.tar.gz"
        root.parent.mkdir(parents=True, exist_ok=True)
        print(f"downloading {url}")
        urllib.request.urlretrieve(url, archive)
        with tarfile.open(archive) as tar:  # members are LibriSpeech/<subset>/...
            tar.extractall(root.parent, filter="data")
        archive.unlink()


def read_subset(root: Path, subset: str) -> list[Utterance]:
    """Every transcribed utterance of one subset, in id order; an error names a bad line or a missing file."""
    folder = root / subset
    if not folder.is_dir():
        raise SystemExit(f"{folder}: no such subset folder (pass --download to fetch it)")
    utts = []
    for transcript in sorted(folder.glob("*/*/*.trans.txt")):
        speaker = transcript.parent.parent.name
        for number, line in enumerate(transcript.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            uid, _, raw = line.partition(" ")
            text = normalize_text(raw)
            if not text:
                raise SystemExit(f"{transcript}:{number}: empty transcript")
            audio = transcript.parent / f"{uid}.flac"
            if not audio.is_file():
                raise SystemExit(f"{transcript}:{number}: {audio.name} is missing")
            utts.append(Utterance(uid, audio.resolve(), duration(audio), text, speaker))
    if not utts:
        raise SystemExit(f"{folder}: no <speaker>/<chapter>/*.trans.txt transcripts")
    return utts


def split(args: argparse.Namespace, root: Path) -> dict[str, list[Utterance]]:
    """train / dev / test, and each dev and test subset by itself."""
    train = [u for subset in args.train for u in read_subset(root, subset)]
    speakers = {u.speaker for u in train}
    unknown = sorted((set(args.test_speakers) | set(args.dev_speakers)) - speakers)
    if unknown:
        raise SystemExit(f"speaker(s) {', '.join(unknown)} not in {', '.join(args.train)} (its speakers: {', '.join(sorted(speakers))})")
    if set(args.test_speakers) & set(args.dev_speakers):
        raise SystemExit("a speaker cannot be both a dev and a test speaker")
    splits = {
        "train": [u for u in train if u.speaker not in args.dev_speakers and u.speaker not in args.test_speakers],
        "dev": [u for u in train if u.speaker in args.dev_speakers],
        "test": [u for u in train if u.speaker in args.test_speakers],
    }
    for name in ("dev", "test"):
        for subset in getattr(args, name):
            splits[subset] = read_subset(root, subset)
            splits[name] += splits[subset]
    for name in ("train", "dev", "test"):
        if not splits[name]:
            raise SystemExit(f"no {name} utterances: name {name} subsets (--{name}) or {name} speakers (--{name}-speakers)")
    return splits


def lm_text(splits: dict[str, list[Utterance]], extra_files: list[Path]) -> tuple[list[str], int]:
    """The training transcripts and the extra text, minus every dev and test sentence; and how many lines that dropped."""
    held_out = {u.text for u in splits["dev"] + splits["test"]}
    lines = [u.text for u in splits["train"]]
    for path in extra_files:
        if not path.is_file():
            raise SystemExit(f"{path}: no such text file (--extra-text)")
        with path.open(encoding="utf-8") as file:
            lines += [t for t in map(normalize_text, file) if t]
    kept = [t for t in lines if t not in held_out]
    return kept, len(lines) - len(kept)


def prepare(args: argparse.Namespace) -> None:
    splits = split(args, corpus_root(args.data_dir))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, utts in splits.items():
        write_manifest(utts, args.out_dir / f"{name}.jsonl")
        speakers = sorted({u.speaker for u in utts}, key=lambda s: (len(s), s))
        shown = ", ".join(speakers) if len(speakers) <= 10 else f"{len(speakers)} speakers"
        print(f"{name}: {len(utts)} utterances, {sum(u.duration for u in utts) / 60:.1f} min, speakers {shown}")
    text, dropped = lm_text(splits, args.extra_text)
    (args.out_dir / "lm_text.txt").write_text("".join(t + "\n" for t in text))
    print(f"lm_text: {len(text)} lines ({dropped} dropped: dev or test sentences)")
    tts = tts_text(text, args.tts_lines, args.tts_seed)
    (args.out_dir / "tts_text.txt").write_text("".join(t + "\n" for t in tts))
    print(f"tts_text: {len(tts)} lines")


def tts_text(lines: list[str], count: int, seed: int) -> list[str]:
    """`count` lines drawn from `lines` without repeats until every line was drawn, then again."""
    rng, drawn = random.Random(seed), []
    while lines and len(drawn) < count:
        drawn += rng.sample(lines, min(len(lines), count - len(drawn)))
    return drawn


def synthesise(out_dir: Path, seed: int) -> Path:
    """OUT/tts/train.jsonl: OUT/tts_text.txt, each line read by a random training voice."""
    # --num-dev 0 --num-test 0: every line goes to the synthesiser's train split (training voices
    # only); --voice-set basic: the 100 voices the README's TTS results were measured with.
    subprocess.run([sys.executable, str(SYNTH_PREPARE), "--out-dir", str(out_dir / "tts"),
                    "--sentences-file", str(out_dir / "tts_text.txt"), "--num-dev", "0", "--num-test", "0",
                    "--seed", str(seed), "--voice-set", "basic"], check=True)  # fmt: skip
    return out_dir / "tts" / "train.jsonl"


def settings(args: argparse.Namespace) -> dict:
    return {key: [str(v) for v in value] if isinstance(value, list) else str(value) for key, value in sorted(vars(args).items())
            if key not in ("download", "out_dir", "tts")}  # fmt: skip


def subsets(value: str) -> list[str]:
    return [s for s in value.split(",") if s]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, required=True, help="the folder holding LibriSpeech/ (or LibriSpeech/ itself)")
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--train", type=subsets, default=["train-clean-5"], help="training subsets, comma-separated (default: train-clean-5)")
    p.add_argument("--dev", type=subsets, default=[], help="dev subsets, comma-separated (default: none)")
    p.add_argument("--test", type=subsets, default=[], help="test subsets, comma-separated (default: none)")
    p.add_argument("--test-speakers", type=subsets, default=["1970", "2136"],
                   help="speakers of the training subsets held out as test (default: 1970,2136; '' for none)")  # fmt: skip
    p.add_argument("--dev-speakers", type=subsets, default=["4640"],
                   help="speakers of the training subsets held out as dev (default: 4640; '' for none)")  # fmt: skip
    p.add_argument("--extra-text", type=Path, action="append", default=[], help="more LM text, one sentence per line (repeatable)")
    p.add_argument("--tts-lines", type=int, default=1000, help="lines of LM text in tts_text.txt (default: %(default)s)")
    p.add_argument("--tts-seed", type=int, default=0, help="chooses those lines and the TTS voices, tempi and pitches (default: 0)")
    p.add_argument("--tts", action="store_true", help="synthesise tts_text.txt into OUT/tts/")
    p.add_argument("--download", action="store_true", help="fetch the named subsets from OpenSLR when they are not there")
    args = p.parse_args()
    if args.download:
        download(args.data_dir, args.train + args.dev + args.test)
    done = args.out_dir / "prepare.json"
    if done.is_file() and json.loads(done.read_text()) == settings(args):
        print(f"{args.out_dir}: already prepared")
    else:
        prepare(args)
        done.write_text(json.dumps(settings(args), indent=1) + "\n")
    if args.tts:
        print(f"tts: {synthesise(args.out_dir, args.tts_seed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
