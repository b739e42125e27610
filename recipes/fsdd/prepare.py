#!/usr/bin/env python3
"""Prepare the Free Spoken Digit Dataset (FSDD): speaker-disjoint train/dev/test manifests.

Files are `{digit}_{speaker}_{index}.wav` (8 kHz); the transcript is the digit's English
word. Whole speakers are held out: by default george, jackson, lucas and yweweler train,
nicolas is dev and theo is test (`--dev-speakers`, `--test-speakers` change that).
Safe to re-run: a `.completed` marker skips work already done.
"""

import argparse
import io
import sys
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path

from asr.audio import duration
from asr.data import Utterance, write_manifest

URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def download(data_dir: Path) -> Path:
    recordings = data_dir / "recordings"
    if not recordings.is_dir():
        print(f"downloading {URL}")
        with urllib.request.urlopen(URL) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        recordings.mkdir(parents=True)
        for name in archive.namelist():
            if "/recordings/" in name and name.endswith(".wav"):
                (recordings / Path(name).name).write_bytes(archive.read(name))
    return recordings


def utterance(wav: Path) -> Utterance:
    digit, speaker, _ = wav.stem.split("_")
    return Utterance(wav.stem, wav.resolve(), duration(wav), DIGITS[int(digit)], speaker)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("download/fsdd"), help="holds recordings/ (downloaded if absent)")
    parser.add_argument("--out-dir", type=Path, default=Path("data/fsdd"))
    parser.add_argument("--dev-speakers", nargs="+", default=["nicolas"])
    parser.add_argument("--test-speakers", nargs="+", default=["theo"])
    args = parser.parse_args()
    if (args.out_dir / ".completed").exists():
        print(f"{args.out_dir} already prepared")
        return 0
    wavs = sorted(download(args.data_dir).glob("*.wav"))
    if not wavs:
        print(f"prepare.py: error: no wav files in {args.data_dir / 'recordings'}", file=sys.stderr)
        return 1
    utterances = [utterance(w) for w in wavs]
    speakers = Counter(u.speaker for u in utterances)
    for name in args.dev_speakers + args.test_speakers:
        if name not in speakers:
            print(f"prepare.py: error: speaker {name!r} not in the corpus ({', '.join(sorted(speakers))})", file=sys.stderr)
            return 1
    held_out = set(args.dev_speakers) | set(args.test_speakers)
    splits = {
        "train": [u for u in utterances if u.speaker not in held_out],
        "dev": [u for u in utterances if u.speaker in args.dev_speakers],
        "test": [u for u in utterances if u.speaker in args.test_speakers],
    }
    for name, utts in splits.items():
        write_manifest(utts, args.out_dir / f"{name}.jsonl")
        print(f"{name}: {len(utts)} utterances, speakers {', '.join(sorted({u.speaker for u in utts}))}")
    (args.out_dir / ".completed").touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
