#!/usr/bin/env python3
"""Prepare the Kaldi yes/no corpus (OpenSLR SLR1): manifests train.jsonl (31 files) and test.jsonl (29 files).

Each file name lists its 8 words (1 = yes, 0 = no; the speaker says Hebrew "ken"/"lo").
Split as Kaldi's egs/yesno does it: the sorted file list, first 31 for training, the rest for test.
Safe to re-run: a `.completed` marker skips work already done.
"""

import argparse
import sys
import tarfile
import urllib.request
from pathlib import Path

from asr.audio import duration
from asr.data import Utterance, write_manifest

URL = "https://www.openslr.org/resources/1/waves_yesno.tar.gz"
NUM_TRAIN = 31


def download(data_dir: Path) -> Path:
    waves = data_dir / "waves_yesno"
    if not waves.is_dir():
        data_dir.mkdir(parents=True, exist_ok=True)
        archive = data_dir / "waves_yesno.tar.gz"
        print(f"downloading {URL}")
        urllib.request.urlretrieve(URL, archive)
        with tarfile.open(archive) as tar:
            tar.extractall(data_dir, filter="data")
    return waves


def utterance(wav: Path) -> Utterance:
    words = ["yes" if bit == "1" else "no" for bit in wav.stem.split("_")]
    return Utterance(wav.stem, wav.resolve(), duration(wav), " ".join(words), "yesno")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("download/yesno"), help="holds waves_yesno/ (downloaded if absent)")
    parser.add_argument("--out-dir", type=Path, default=Path("data/yesno"))
    args = parser.parse_args()
    if (args.out_dir / ".completed").exists():
        print(f"{args.out_dir} already prepared")
        return 0
    wavs = sorted(download(args.data_dir).glob("*.wav"))
    if len(wavs) != 60:
        print(f"prepare.py: error: expected 60 wav files in {args.data_dir / 'waves_yesno'}, found {len(wavs)}", file=sys.stderr)
        return 1
    utterances = [utterance(w) for w in wavs]
    write_manifest(utterances[:NUM_TRAIN], args.out_dir / "train.jsonl")
    write_manifest(utterances[NUM_TRAIN:], args.out_dir / "test.jsonl")
    (args.out_dir / ".completed").touch()
    print(f"{NUM_TRAIN} train, {len(utterances) - NUM_TRAIN} test utterances -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
