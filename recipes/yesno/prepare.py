#!/usr/bin/env python3
"""Prepare the Kaldi yes/no corpus (OpenSLR SLR1): manifests train.jsonl (31 files), test.jsonl (29 files)
and train_crops.jsonl (the training files plus copies with their first words cut off).

Each file name lists its 8 words (1 = yes, 0 = no; the speaker says Hebrew "ken"/"lo").
Split as Kaldi's egs/yesno does it: the sorted file list, first 31 for training, the rest for test.

With that split every training file starts with "no" and every test file with "yes", so a
model that sees the whole utterance learns "the first word is no". The crops remove that
confound: the words are separated by pauses, found from the frame energy; where exactly 8
speech segments are found, copies starting at each later word (the 2nd to the 8th) are
written to crops/ (cut in the middle of the pause), so training utterances start with either
word and come in every length from one word to eight.
Files whose pauses are not all found are used whole only. Training audio only; test is untouched.
Safe to re-run: a `.completed` marker skips work already done.
"""

import argparse
import sys
import tarfile
import urllib.request
from pathlib import Path

import numpy as np
import soundfile

from asr.audio import duration
from asr.data import Utterance, write_manifest

URL = "https://www.openslr.org/resources/1/waves_yesno.tar.gz"
NUM_TRAIN = 31
WORDS_PER_FILE = 8
CROP_FIRST_WORDS = tuple(range(1, WORDS_PER_FILE))  # crops start after this many words
FRAME_S, HOP_S = 0.025, 0.010  # energy frames
SPEECH_BELOW_PEAK_DB = 35.0  # a frame is speech within this many dB of the file's loudest frame...
SPEECH_ABOVE_FLOOR_DB = 10.0  # ...and this far above its quietest tenth
MIN_PAUSE_S = 0.04  # a shorter dip does not separate words
MIN_WORD_S = 0.10  # a shorter burst is a click, not a word


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


def speech_segments(samples: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """(start, end) sample indices of the stretches of speech between pauses, from frame energies."""
    frame, hop = round(FRAME_S * rate), round(HOP_S * rate)
    count = 1 + (len(samples) - frame) // hop
    frames = np.lib.stride_tricks.sliding_window_view(samples, frame)[::hop][:count]
    db = 10 * np.log10((frames.astype(np.float64) ** 2).mean(1) + 1e-10)
    speech = db > max(db.max() - SPEECH_BELOW_PEAK_DB, np.percentile(db, 10) + SPEECH_ABOVE_FLOOR_DB)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], speech.astype(np.int8), [0]])))
    runs = [[a, b] for a, b in zip(edges[::2], edges[1::2])]  # frame ranges [a, b)
    merged: list[list[int]] = []
    for run in runs:
        if merged and (run[0] - merged[-1][1]) * HOP_S < MIN_PAUSE_S:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    return [(a * hop, b * hop + frame - hop) for a, b in merged if (b - a) * HOP_S >= MIN_WORD_S]


def crops(utt: Utterance, out_dir: Path) -> list[Utterance]:
    """Copies of a training file starting at a later word; none when its pauses are not all found."""
    samples, rate = soundfile.read(str(utt.audio), dtype="float32")
    segments = speech_segments(samples, rate)
    words = utt.text.split()
    if len(segments) != len(words):
        return []
    result = []
    for skip in CROP_FIRST_WORDS:
        cut = (segments[skip - 1][1] + segments[skip][0]) // 2  # the middle of the pause
        # Not spliced behind the file's own leading silence: tried, and training then got
        # stuck for some seeds (recipes/yesno/README.md).
        audio = samples[cut:]
        path = out_dir / "crops" / f"{utt.id}_from{skip + 1}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), audio, rate)
        result.append(Utterance(path.stem, path.resolve(), len(audio) / rate, " ".join(words[skip:]), utt.speaker))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("download/yesno"), help="holds waves_yesno/ (downloaded if absent)")
    parser.add_argument("--out-dir", type=Path, default=Path("data/yesno"))
    args = parser.parse_args()
    if (args.out_dir / ".completed").exists() and (args.out_dir / "train_crops.jsonl").exists():
        print(f"{args.out_dir} already prepared")
        return 0
    wavs = sorted(download(args.data_dir).glob("*.wav"))
    if len(wavs) != 60:
        print(f"prepare.py: error: expected 60 wav files in {args.data_dir / 'waves_yesno'}, found {len(wavs)}", file=sys.stderr)
        return 1
    utterances = [utterance(w) for w in wavs]
    train, test = utterances[:NUM_TRAIN], utterances[NUM_TRAIN:]
    cropped = [c for utt in train for c in crops(utt, args.out_dir)]
    write_manifest(train, args.out_dir / "train.jsonl")
    write_manifest(train + cropped, args.out_dir / "train_crops.jsonl")
    write_manifest(test, args.out_dir / "test.jsonl")
    (args.out_dir / ".completed").touch()
    whole = len(train) - len(cropped) // len(CROP_FIRST_WORDS)
    print(f"{len(train)} train ({len(cropped)} crops; {whole} files used whole only), {len(test)} test utterances -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
