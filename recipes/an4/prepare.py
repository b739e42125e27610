#!/usr/bin/env python3
"""Prepare CMU AN4 (the `an4_sphere` layout): train / dev / test manifests and the LM text.

The layout: `etc/an4_{train,test}.{transcription,fileids}` and audio under `wav/` as
`<fileid>.sph` (NIST SPHERE, which soundfile reads) or, as on these machines, the same
names with `.flac`. Transcripts lose their `<s>`/`</s>` marks and are lower-cased; spelled
words stay letters separated by spaces ("p i t t s b u r g h"). Whole training speakers are
held out as dev (`--dev-speakers`, default four of the 74); the official test set (130
recordings, 118 transcribed) is the test set. OUT/lm_text.txt holds the training
transcripts, the only text the LM and the lexicon see. Safe to re-run.

Without the data, `--download` fetches the corpus from CMU's public URL into DATA_DIR.

`--tts-reads N` then has Debian's TTS engines read the training transcripts (lm_text.txt;
never a dev or test sentence) N times each with the synthetic corpus' training voices
(recipes/synth/prepare.py: random voice, tempo and pitch per read) into OUT/tts/, whose
train.jsonl is the pre-training corpus of run.sh's TTS stages.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

from asr.audio import duration
from asr.data import Utterance, write_manifest

URL = "http://www.speech.cs.cmu.edu/databases/an4/an4_sphere.tar.gz"
DEV_SPEAKERS = ("fash", "fbbh", "mblw", "mcen")  # two female, two male: 4 of the 74 training speakers
SYNTH_PREPARE = Path(__file__).resolve().parents[1] / "synth" / "prepare.py"


def synthesise(out_dir: Path, reads: int, seed: int) -> Path:
    """OUT/tts/train.jsonl: every line of OUT/lm_text.txt read `reads` times by training voices."""
    tts_dir = out_dir / "tts"
    tts_dir.mkdir(parents=True, exist_ok=True)
    text = (out_dir / "lm_text.txt").read_text() * reads
    sentences = tts_dir / "sentences.txt"
    if not sentences.is_file() or sentences.read_text() != text:
        sentences.write_text(text)
    # --num-dev 0 --num-test 0: every line goes to the synthesiser's train split (training voices
    # only); --voice-set basic: the 100 voices the README's TTS results were measured with.
    subprocess.run([sys.executable, str(SYNTH_PREPARE), "--out-dir", str(tts_dir), "--sentences-file", str(sentences),
                    "--num-dev", "0", "--num-test", "0", "--seed", str(seed),
                    "--voice-set", "basic"], check=True)  # fmt: skip
    return tts_dir / "train.jsonl"


def download(data_dir: Path) -> None:
    if (data_dir / "etc" / "an4_train.transcription").is_file():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    archive = data_dir / "an4_sphere.tar.gz"
    print(f"downloading {URL}")
    urllib.request.urlretrieve(URL, archive)
    with tarfile.open(archive) as tar:  # the archive's top folder is an4/
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if len(parts) > 1:
                member.name = str(Path(*parts[1:]))
                tar.extract(member, data_dir, filter="data")
    archive.unlink()


def read_split(data_dir: Path, split: str) -> list[Utterance]:
    """The transcribed utterances of `split` (train or test); an error names any missing file."""
    etc = data_dir / "etc"
    ids = [line.strip() for line in (etc / f"an4_{split}.fileids").read_text().splitlines() if line.strip()]
    texts = {}
    for number, line in enumerate((etc / f"an4_{split}.transcription").read_text().splitlines(), 1):
        if not line.strip():
            continue
        words, _, uid = line.rpartition("(")
        if not uid.endswith(")"):
            raise SystemExit(f"{etc / f'an4_{split}.transcription'}:{number}: no (utterance-id) at the end of the line")
        texts[uid[:-1]] = " ".join(w for w in words.split() if w not in ("<s>", "</s>")).lower()
    utts = []
    for fileid in ids:
        uid = Path(fileid).name
        if uid not in texts:
            continue  # a test recording without a transcript
        audio = next((data_dir / "wav" / f"{fileid}{ext}" for ext in (".flac", ".sph", ".wav") if (data_dir / "wav" / f"{fileid}{ext}").is_file()), None)
        if audio is None:
            raise SystemExit(f"{data_dir / 'wav' / fileid}.sph: no such audio file (nor .flac, .wav)")
        utts.append(Utterance(uid, audio.resolve(), duration(audio), texts[uid], speaker=Path(fileid).parent.name))
    return utts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, required=True, help="the an4 folder (etc/, wav/)")
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--dev-speakers", default=",".join(DEV_SPEAKERS))
    p.add_argument("--download", action="store_true", help=f"fetch {URL} into DATA_DIR when it is not there")
    p.add_argument("--tts-reads", type=int, default=0, help="also synthesise the training transcripts this many times each (default: 0, none)")
    p.add_argument("--tts-seed", type=int, default=0, help="chooses the TTS voices, tempi and pitches (default: 0)")
    args = p.parse_args()
    if args.download:
        download(args.data_dir)
    if not (args.data_dir / "etc" / "an4_train.transcription").is_file():
        raise SystemExit(f"{args.data_dir}: not an an4_sphere folder (no etc/an4_train.transcription); pass --download to fetch it")
    done = args.out_dir / ".completed"
    if done.exists():
        print(f"{args.out_dir}: already prepared")
    else:
        prepare(args)
        done.touch()
    if args.tts_reads > 0:
        print(f"tts: {synthesise(args.out_dir, args.tts_reads, args.tts_seed)}")
    return 0


def prepare(args: argparse.Namespace) -> None:
    train = read_split(args.data_dir, "train")
    test = read_split(args.data_dir, "test")
    dev_speakers = set(args.dev_speakers.split(","))
    unknown = dev_speakers - {u.speaker for u in train}
    if unknown:
        raise SystemExit(f"--dev-speakers: no training speaker {', '.join(sorted(unknown))}")
    splits = {
        "train": [u for u in train if u.speaker not in dev_speakers],
        "dev": [u for u in train if u.speaker in dev_speakers],
        "test": test,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, utts in splits.items():
        write_manifest(utts, args.out_dir / f"{name}.jsonl")
        print(f"{name}: {len(utts)} utterances, {len({u.speaker for u in utts})} speakers, {sum(u.duration for u in utts) / 60:.1f} min")
    (args.out_dir / "lm_text.txt").write_text("".join(u.text + "\n" for u in splits["train"]))

if __name__ == "__main__":
    sys.exit(main())
