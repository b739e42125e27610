#!/usr/bin/env python3
"""Prepare the Free Spoken Digit Dataset (FSDD): speaker-disjoint train/dev/test manifests.

Files are `{digit}_{speaker}_{index}.wav` (8 kHz); the transcript is the digit's English
word. Whole speakers are held out: by default george, jackson, lucas and yweweler train,
nicolas is dev and theo is test (`--dev-speakers`, `--test-speakers` change that).
Safe to re-run: a `.completed` marker skips work already done.

Four training speakers are too few to generalise to a fifth, so `--tts-per-digit N`
also has Debian's TTS engines read each digit word N times (recipes/synth/prepare.py:
training voices only, random tempo and pitch, 8 kHz like FSDD) into OUT/tts/, and
writes OUT/train_tts.jsonl = OUT/train.jsonl + the synthetic digits. Dev and test
stay the real held-out speakers.

`--an4-manifest M` (the train.jsonl of recipes/an4/prepare.py) adds real multi-speaker
speech: AN4's training sentences (about 1,700 spoken digits among them, by 70 speakers)
are low-passed to FSDD's 8 kHz rate into OUT/an4_8k/, so both corpora have the same band,
and OUT/train_an4.jsonl = the training manifest above (train_tts.jsonl when there are TTS
digits) + those sentences.
"""

import argparse
import io
import subprocess
import sys
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path

import soundfile
import torchaudio

from asr.audio import duration, load
from asr.data import Utterance, load_manifest, write_manifest

URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SAMPLE_RATE = 8_000  # Hz of the FSDD recordings; the TTS digits are written at this rate too
SYNTH_PREPARE = Path(__file__).resolve().parents[1] / "synth" / "prepare.py"
TTS_DIR = "tts"  # under --out-dir
AN4_DIR = "an4_8k"  # under --out-dir


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


def tts_sentences(per_digit: int) -> str:
    """The sentences file for the synthesiser: each digit word `per_digit` times."""
    return "".join(f"{word}\n" * per_digit for word in DIGITS)


def synthesise_digits(out_dir: Path, per_digit: int, seed: int, jobs: int | None, voice_set: str = "basic") -> Path:
    """Read every digit word `per_digit` times with the synth corpus' training voices.

    Returns the manifest of the synthetic digits. `--num-dev 0 --num-test 0` puts
    every line in the synthesiser's train split, so no dev or test voice of the
    synthetic corpus is used; the synthesiser is itself safe to re-run.
    """
    tts_dir = out_dir / TTS_DIR
    tts_dir.mkdir(parents=True, exist_ok=True)
    sentences = tts_dir / "sentences.txt"
    if not sentences.is_file() or sentences.read_text() != tts_sentences(per_digit):
        sentences.write_text(tts_sentences(per_digit))
    command = [sys.executable, str(SYNTH_PREPARE), "--out-dir", str(tts_dir)]
    command += ["--sentences-file", str(sentences), "--num-dev", "0", "--num-test", "0"]
    command += ["--sample-rate", str(SAMPLE_RATE), "--seed", str(seed), "--voice-set", voice_set]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    subprocess.run(command, check=True)
    return tts_dir / "train.jsonl"


def write_train_tts(out_dir: Path, tts_manifest: Path) -> list[Utterance]:
    """OUT/train_tts.jsonl: the real training speakers, then the synthetic digits."""
    # load_manifest joins relative audio paths onto the manifest's path as given, and
    # write_manifest only shortens paths under the resolved folder: resolve first.
    utterances = load_manifest((out_dir / "train.jsonl").resolve()) + load_manifest(tts_manifest.resolve())
    write_manifest(utterances, out_dir / "train_tts.jsonl")
    return utterances


def band_limit(manifest: Path, out_dir: Path) -> list[Utterance]:
    """Every utterance of `manifest` resampled to FSDD's rate into OUT/an4_8k/ (done once per file)."""
    target = out_dir / AN4_DIR
    target.mkdir(parents=True, exist_ok=True)
    utterances = []
    for utt in load_manifest(manifest.resolve()):
        wav = target / f"{utt.id}.wav"
        if not wav.is_file():
            audio, rate = load(utt.audio)  # 16 kHz mono, whatever the source
            low = torchaudio.functional.resample(audio, rate, SAMPLE_RATE)
            partial = wav.with_suffix(".part.wav")
            soundfile.write(partial, low.numpy(), SAMPLE_RATE, subtype="PCM_16")
            partial.replace(wav)  # an interrupted run never leaves a truncated file behind
        utterances.append(Utterance(utt.id, wav.resolve(), duration(wav), utt.text, utt.speaker))
    return utterances


def write_train_an4(out_dir: Path, base: Path, an4_manifest: Path) -> list[Utterance]:
    """OUT/train_an4.jsonl: `base` (the FSDD training manifest), then AN4 at 8 kHz."""
    utterances = load_manifest(base.resolve()) + band_limit(an4_manifest, out_dir)
    write_manifest(utterances, out_dir / "train_an4.jsonl")
    return utterances


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("download/fsdd"), help="holds recordings/ (downloaded if absent)")
    parser.add_argument("--out-dir", type=Path, default=Path("data/fsdd"))
    parser.add_argument("--dev-speakers", nargs="+", default=["nicolas"])
    parser.add_argument("--test-speakers", nargs="+", default=["theo"])
    parser.add_argument("--tts-per-digit", type=int, default=0, help="also synthesise each digit this many times and write train_tts.jsonl (default: 0, none)")
    parser.add_argument("--tts-seed", type=int, default=0, help="chooses the TTS voices, tempi and pitches (default: 0)")
    parser.add_argument("--tts-jobs", type=int, default=None, help="TTS engines run at once (default: CPU count)")
    parser.add_argument("--tts-voice-set", choices=("basic", "extended"), default="basic", help="the synthesiser's training voices (default: basic, the 100 of the README's results)")
    parser.add_argument("--an4-manifest", type=Path, default=None, help="AN4's train.jsonl (recipes/an4/prepare.py): add its sentences at 8 kHz and write train_an4.jsonl")
    args = parser.parse_args()
    if args.an4_manifest is not None and not args.an4_manifest.is_file():
        print(f"prepare.py: error: {args.an4_manifest}: no such manifest (run recipes/an4/prepare.py first)", file=sys.stderr)
        return 1
    status = prepare_fsdd(args)
    if status == 0 and args.tts_per_digit > 0:
        try:
            tts_manifest = synthesise_digits(args.out_dir, args.tts_per_digit, args.tts_seed, args.tts_jobs, args.tts_voice_set)
        except subprocess.CalledProcessError as error:
            print(f"prepare.py: error: the synthesiser failed (exit {error.returncode})", file=sys.stderr)
            return 1
        utterances = write_train_tts(args.out_dir, tts_manifest)
        print(f"train_tts: {len(utterances)} utterances -> {args.out_dir / 'train_tts.jsonl'}")
    if status == 0 and args.an4_manifest is not None:
        base = args.out_dir / ("train_tts.jsonl" if args.tts_per_digit > 0 else "train.jsonl")
        utterances = write_train_an4(args.out_dir, base, args.an4_manifest)
        print(f"train_an4: {len(utterances)} utterances -> {args.out_dir / 'train_an4.jsonl'}")
    return status


def prepare_fsdd(args: argparse.Namespace) -> int:
    """The real recordings: OUT/{train,dev,test}.jsonl; returns an exit status."""
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
