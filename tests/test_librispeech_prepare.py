"""Tests for recipes/librispeech/prepare.py on a tiny generated LibriSpeech-style tree (no download)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from asr.data import load_manifest

PREPARE = Path(__file__).resolve().parents[1] / "recipes" / "librispeech" / "prepare.py"


def _chapter(root: Path, subset: str, speaker: str, chapter: str, texts: list[str]) -> None:
    folder = root / "LibriSpeech" / subset / speaker / chapter
    folder.mkdir(parents=True)
    lines = []
    for n, text in enumerate(texts):
        uid = f"{speaker}-{chapter}-{n:04d}"
        soundfile.write(folder / f"{uid}.flac", np.random.default_rng(n).standard_normal(8000).astype(np.float32) * 0.1, 16000)
        lines.append(f"{uid} {text}\n")
    (folder / f"{speaker}-{chapter}.trans.txt").write_text("".join(lines))


def _corpus(root: Path) -> Path:
    """train-clean-5 with speakers 1, 2 and 3 (two utterances each), and a test-clean subset with speaker 9."""
    _chapter(root, "train-clean-5", "1", "10", ["HELLO WORLD", "THE DONKEY'S BACK"])
    _chapter(root, "train-clean-5", "2", "20", ["A SECOND SPEAKER", "SAYS THIS"])
    _chapter(root, "train-clean-5", "3", "30", ["A THIRD ONE", "HELLO WORLD"])
    _chapter(root, "test-clean", "9", "90", ["TEST CLEAN SENTENCE"])
    return root


def _prepare(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PREPARE), *map(str, args)], capture_output=True, text=True)


def test_split_by_speaker_keeps_test_voices_and_sentences_out_of_training(tmp_path):
    data, out = _corpus(tmp_path / "data"), tmp_path / "out"
    extra = tmp_path / "extra.txt"
    extra.write_text("Some more text.\nA third one\n\n")
    result = _prepare("--data-dir", data, "--out-dir", out, "--test-speakers", "3", "--dev-speakers", "2", "--extra-text", extra,
                      "--tts-lines", "5")  # fmt: skip
    assert result.returncode == 0, result.stderr
    train, dev, test = (load_manifest(out / f"{name}.jsonl") for name in ("train", "dev", "test"))
    assert [u.id for u in train] == ["1-10-0000", "1-10-0001"] and {u.speaker for u in train} == {"1"}
    assert {u.speaker for u in dev} == {"2"} and [u.id for u in test] == ["3-30-0000", "3-30-0001"]
    assert train[1].text == "the donkey's back" and abs(train[0].duration - 0.5) < 1e-6
    # Training transcripts and the extra text; a sentence a test speaker says is dropped, even from training.
    assert (out / "lm_text.txt").read_text().splitlines() == ["the donkey's back", "some more text"]
    assert "2 dropped" in result.stdout
    # TTS text: 5 lines drawn from those 2, every line before any repeats (3 + 2, in some order).
    tts = (out / "tts_text.txt").read_text().splitlines()
    assert len(tts) == 5 and sorted(tts.count(t) for t in set(tts)) == [2, 3] and set(tts) == {"the donkey's back", "some more text"}
    assert "already prepared" in _prepare("--data-dir", data, "--out-dir", out, "--test-speakers", "3", "--dev-speakers", "2",
                                          "--extra-text", extra, "--tts-lines", "5").stdout  # fmt: skip
    # Other settings prepare again.
    again = _prepare("--data-dir", data / "LibriSpeech", "--out-dir", out, "--test-speakers", "1", "--dev-speakers", "2")
    assert again.returncode == 0 and "already" not in again.stdout
    assert {u.speaker for u in load_manifest(out / "test.jsonl")} == {"1"}
    assert json.loads((out / "prepare.json").read_text())["test_speakers"] == ["1"]


def test_split_by_subset_writes_each_test_subset_too(tmp_path):
    data, out = _corpus(tmp_path / "data"), tmp_path / "out"
    result = _prepare("--data-dir", data, "--out-dir", out, "--test", "test-clean", "--dev-speakers", "2", "--test-speakers", "")
    assert result.returncode == 0, result.stderr
    assert [u.id for u in load_manifest(out / "test.jsonl")] == [u.id for u in load_manifest(out / "test-clean.jsonl")] == ["9-90-0000"]
    assert {u.speaker for u in load_manifest(out / "train.jsonl")} == {"1", "3"}


def test_errors_name_the_problem(tmp_path):
    data = _corpus(tmp_path / "data")
    missing = _prepare("--data-dir", tmp_path / "nothing", "--out-dir", tmp_path / "out")
    assert missing.returncode != 0 and "train-clean-5: no such subset folder" in missing.stderr and "--download" in missing.stderr
    unknown = _prepare("--data-dir", data, "--out-dir", tmp_path / "out", "--test-speakers", "7", "--dev-speakers", "2")
    assert unknown.returncode != 0 and "speaker(s) 7 not in train-clean-5 (its speakers: 1, 2, 3)" in unknown.stderr
    no_dev = _prepare("--data-dir", data, "--out-dir", tmp_path / "out", "--test-speakers", "3", "--dev-speakers", "")
    assert no_dev.returncode != 0 and "no dev utterances" in no_dev.stderr
    (data / "LibriSpeech/train-clean-5/1/10/1-10-0001.flac").unlink()
    gone = _prepare("--data-dir", data, "--out-dir", tmp_path / "out", "--test-speakers", "3", "--dev-speakers", "2")
    assert gone.returncode != 0 and "1-10.trans.txt:2: 1-10-0001.flac is missing" in gone.stderr
