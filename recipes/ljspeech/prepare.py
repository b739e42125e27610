#!/usr/bin/env python3
"""Prepare LJ Speech (one US-English reader, 22.05 kHz): train / dev / test manifests, LM and TTS text.

The original layout: `metadata.csv` (`id|raw text|normalized text`, the normalized column
is used: numbers and abbreviations spelled out) and `wavs/<id>.wav`. Only lines with a
WAV become utterances; on these machines that is 285 of the 13,000 lines (LJ001-0001..0186,
LJ002-0001..0099), the full corpus has 13,100. The split is by position in the book, so
dev and test are passages of their own: in id order, the last `--num-test` utterances with
audio are test, the `--num-dev` before them dev, the rest train.

OUT/lm_text.txt holds the training transcripts and every line without audio, minus any
sentence that is also a dev or test transcript: the only text the LM sees. OUT/tts_text.txt
is a seeded sample of `--tts-lines` of those text-only lines for TTS pre-training, and
`--tts` has Debian's TTS engines read it with the synthetic corpus' training voices
(recipes/synth/prepare.py) into OUT/tts/. Safe to re-run.

Without the data, `--download` fetches LJSpeech-1.1.tar.bz2 (2.6 GB) into DATA_DIR.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

from asr.audio import duration
from asr.data import Utterance, write_manifest
from asr.text import normalize_text

URL = "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"
SPEAKER = "lj"
SYNTH_PREPARE = Path(__file__).resolve().parents[1] / "synth" / "prepare.py"


def download(data_dir: Path) -> None:
    if (data_dir / "metadata.csv").is_file():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    archive = data_dir / "LJSpeech-1.1.tar.bz2"
    print(f"downloading {URL}")
    urllib.request.urlretrieve(URL, archive)
    with tarfile.open(archive) as tar:  # the archive's top folder is LJSpeech-1.1/
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if len(parts) > 1:
                member.name = str(Path(*parts[1:]))
                tar.extract(member, data_dir, filter="data")
    archive.unlink()


def read_metadata(path: Path) -> list[tuple[str, str]]:
    """(id, normalised transcript) for every line of metadata.csv; an error names a bad line."""
    lines = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 3:
            raise SystemExit(f"{path}:{number}: expected id|raw text|normalized text, got {len(fields)} fields")
        text = normalize_text(fields[2])
        if not text:
            raise SystemExit(f"{path}:{number}: empty transcript")
        lines.append((fields[0], text))
    return lines


def split(lines: list[tuple[str, str]], wavs: Path, num_dev: int, num_test: int) -> dict[str, list[Utterance]]:
    with_audio = sorted((uid, text) for uid, text in lines if (wavs / f"{uid}.wav").is_file())
    if len(with_audio) <= num_dev + num_test:
        raise SystemExit(f"{wavs}: {len(with_audio)} utterances with audio leave none to train on after {num_dev} dev and {num_test} test")
    utts = [Utterance(uid, (wavs / f"{uid}.wav").resolve(), duration(wavs / f"{uid}.wav"), text, SPEAKER) for uid, text in with_audio]
    first_test = len(utts) - num_test
    first_dev = first_test - num_dev
    return {"train": utts[:first_dev], "dev": utts[first_dev:first_test], "test": utts[first_test:]}


def text_only(lines: list[tuple[str, str]], splits: dict[str, list[Utterance]]) -> list[str]:
    """The transcripts of lines without audio, minus any sentence a dev or test utterance says."""
    with_audio = {u.id for utts in splits.values() for u in utts}
    held_out = {u.text for u in splits["dev"] + splits["test"]}
    return [text for uid, text in lines if uid not in with_audio and text not in held_out]


def prepare(args: argparse.Namespace) -> None:
    lines = read_metadata(args.data_dir / "metadata.csv")
    splits = split(lines, args.data_dir / "wavs", args.num_dev, args.num_test)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, utts in splits.items():
        write_manifest(utts, args.out_dir / f"{name}.jsonl")
        print(f"{name}: {len(utts)} utterances ({utts[0].id}..{utts[-1].id}), {sum(u.duration for u in utts) / 60:.1f} min")
    extra = text_only(lines, splits)
    lm_text = [u.text for u in splits["train"]] + extra
    (args.out_dir / "lm_text.txt").write_text("".join(t + "\n" for t in lm_text))
    print(f"lm_text: {len(lm_text)} lines ({len(extra)} without audio)")
    sample = random.Random(args.tts_seed).sample(extra, min(args.tts_lines, len(extra)))
    (args.out_dir / "tts_text.txt").write_text("".join(t + "\n" for t in sample))
    print(f"tts_text: {len(sample)} lines")


def synthesise(out_dir: Path, seed: int) -> Path:
    """OUT/tts/train.jsonl: OUT/tts_text.txt read once, each line by a random training voice."""
    sentences = out_dir / "tts_text.txt"
    if not sentences.read_text().strip():
        raise SystemExit(f"{sentences}: no text-only lines to synthesise (the corpus has audio for every line)")
    # --num-dev 0 --num-test 0: every line goes to the synthesiser's train split (training voices only).
    subprocess.run([sys.executable, str(SYNTH_PREPARE), "--out-dir", str(out_dir / "tts"), "--sentences-file", str(sentences),
                    "--num-dev", "0", "--num-test", "0", "--seed", str(seed)], check=True)  # fmt: skip
    return out_dir / "tts" / "train.jsonl"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, required=True, help="the LJSpeech-1.1 folder (metadata.csv, wavs/)")
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--num-dev", type=int, default=25, help="(default: %(default)s)")
    p.add_argument("--num-test", type=int, default=60, help="(default: %(default)s)")
    p.add_argument("--tts-lines", type=int, default=3000, help="text-only lines sampled for TTS pre-training (default: %(default)s)")
    p.add_argument("--tts-seed", type=int, default=0, help="chooses those lines and the TTS voices, tempi and pitches (default: 0)")
    p.add_argument("--tts", action="store_true", help="synthesise tts_text.txt into OUT/tts/")
    p.add_argument("--download", action="store_true", help=f"fetch {URL} into DATA_DIR when it is not there")
    args = p.parse_args()
    if args.download:
        download(args.data_dir)
    if not (args.data_dir / "metadata.csv").is_file():
        raise SystemExit(f"{args.data_dir}: not an LJ Speech folder (no metadata.csv); pass --download to fetch it")
    done = args.out_dir / ".completed"
    if done.exists():
        print(f"{args.out_dir}: already prepared")
    else:
        prepare(args)
        done.touch()
    if args.tts:
        print(f"tts: {synthesise(args.out_dir, args.tts_seed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
