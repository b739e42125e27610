"""Tests for recipes/fsdd/prepare.py: speaker-disjoint splits and the TTS digits stage.

The recordings are tiny generated stand-ins (noise named like FSDD's files), so
nothing is downloaded; the TTS test needs Debian's engines.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asr.data import Utterance, load_manifest, write_manifest

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "fsdd"
SPEAKERS = ("george", "jackson", "lucas", "yweweler", "nicolas", "theo")
MISSING_TOOLS = [t for t in ("espeak-ng", "flite", "festival", "sox") if shutil.which(t) is None]
needs_engines = pytest.mark.skipif(
    bool(MISSING_TOOLS), reason=f"needs the TTS engines: apt-get install {' '.join(MISSING_TOOLS)}"
)


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fsdd = _load("fsdd_prepare", RECIPE / "prepare.py")


def _fake_recordings(data_dir: Path) -> None:
    """One 0.3 s noise file per digit and speaker, named `{digit}_{speaker}_0.wav`."""
    recordings = data_dir / "recordings"
    recordings.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for digit in range(10):
        for speaker in SPEAKERS:
            noise = 0.1 * rng.standard_normal(2400).astype(np.float32)
            soundfile.write(recordings / f"{digit}_{speaker}_0.wav", noise, fsdd.SAMPLE_RATE)


def test_tts_sentences_repeat_every_digit():
    lines = fsdd.tts_sentences(3).splitlines()
    assert len(lines) == 30
    assert {word: lines.count(word) for word in fsdd.DIGITS} == dict.fromkeys(fsdd.DIGITS, 3)


def test_train_tts_keeps_audio_paths_right(tmp_path, monkeypatch):
    out = tmp_path / "fsdd"
    real = tmp_path / "recordings" / "0_george_0.wav"
    write_manifest([Utterance("0_george_0", real, 0.3, "zero", "george")], out / "train.jsonl")
    tts = out / "tts"
    write_manifest([Utterance("synth00000", tts / "wav" / "synth00000.wav", 0.5, "one", "flite:awb")], tts / "train.jsonl")
    monkeypatch.chdir(tmp_path)  # relative --out-dir, as run.sh passes it
    fsdd.write_train_tts(Path("fsdd"), Path("fsdd/tts/train.jsonl"))

    lines = [json.loads(line) for line in (out / "train_tts.jsonl").read_text().splitlines()]
    assert [e["audio"] for e in lines] == [str(real.resolve()), "tts/wav/synth00000.wav"]
    assert [u.audio for u in load_manifest(out / "train_tts.jsonl")] == [real.resolve(), (tts / "wav" / "synth00000.wav").resolve()]


def test_an4_sentences_join_training_at_fsdds_rate(tmp_path):
    _fake_recordings(tmp_path / "download")
    an4 = tmp_path / "an4"
    an4.mkdir()
    t = np.arange(16000, dtype=np.float32) / 16000
    # 500 Hz survives the 8 kHz rate, 6 kHz does not: the band of FSDD's recordings.
    soundfile.write(an4 / "u1.flac", 0.3 * np.sin(2 * np.pi * 500 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t), 16000)
    write_manifest([Utterance("cen1-mblw-b", an4 / "u1.flac", 1.0, "enter six two", "mblw")], an4 / "train.jsonl")
    out = tmp_path / "fsdd"
    command = [sys.executable, str(RECIPE / "prepare.py"), "--data-dir", str(tmp_path / "download"), "--out-dir", str(out)]
    missing = subprocess.run([*command, "--an4-manifest", str(tmp_path / "none.jsonl")], capture_output=True, text=True)
    assert missing.returncode == 1 and "none.jsonl: no such manifest" in missing.stderr
    subprocess.run([*command, "--an4-manifest", str(an4 / "train.jsonl")], check=True, capture_output=True, cwd=ROOT)
    train, joined = load_manifest(out / "train.jsonl"), load_manifest(out / "train_an4.jsonl")
    assert joined[: len(train)] == train and len(joined) == len(train) + 1
    added = joined[-1]
    assert (added.id, added.text, added.speaker) == ("cen1-mblw-b", "enter six two", "mblw")
    audio, rate = soundfile.read(added.audio)
    assert rate == fsdd.SAMPLE_RATE and abs(added.duration - 1.0) < 1e-3
    spectrum = np.abs(np.fft.rfft(audio))
    assert spectrum[500] > 100 * spectrum[3900:].max()  # 1 Hz bins: the tone kept, nothing left near 4 kHz


@needs_engines
def test_prepare_cli_with_tts_digits(tmp_path):
    _fake_recordings(tmp_path / "download")
    out = tmp_path / "fsdd"
    command = [sys.executable, str(RECIPE / "prepare.py"), "--data-dir", str(tmp_path / "download")]
    command += ["--out-dir", str(out), "--tts-per-digit", "2", "--tts-jobs", "2"]
    subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)

    splits = {name: load_manifest(out / f"{name}.jsonl") for name in ("train", "dev", "test", "train_tts")}
    assert {u.speaker for u in splits["dev"]} == {"nicolas"}
    assert {u.speaker for u in splits["test"]} == {"theo"}
    assert len(splits["train"]) == 40
    tts = splits["train_tts"][40:]
    assert splits["train_tts"][:40] == splits["train"]
    assert sorted(u.text for u in tts) == sorted(fsdd.DIGITS * 2)
    for utt in tts:
        info = soundfile.info(str(utt.audio))
        assert (info.samplerate, info.channels) == (fsdd.SAMPLE_RATE, 1)

    # Every synthetic digit is read by a voice from the synthetic corpus' train split.
    sys.path.insert(0, str(ROOT / "recipes" / "synth"))
    try:
        synth = _load("synth_prepare_for_fsdd", ROOT / "recipes" / "synth" / "prepare.py")
    finally:
        sys.path.remove(str(ROOT / "recipes" / "synth"))
    train_voices = {v.speaker for voices in synth.split_voices("train").values() for v in voices}
    assert {u.speaker for u in tts} <= train_voices

    again = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    assert "already prepared" in again.stdout
    assert load_manifest(out / "train_tts.jsonl") == splits["train_tts"]
