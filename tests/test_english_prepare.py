"""Tests for recipes/english/prepare.py: pooling prepared corpora (tiny generated manifests, no download)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from asr.data import Utterance, load_manifest, write_manifest

PREPARE = Path(__file__).resolve().parents[1] / "recipes" / "english" / "prepare.py"


def _corpus(folder: Path, texts: dict[str, list[str]], lm_text: list[str] | None = None, seconds: float = 0.5) -> Path:
    """A prepared corpus: train/dev/test.jsonl (ids u0, u1, ... per split, speaker s<split>) and optional lm_text.txt."""
    wav = folder / "wav"
    wav.mkdir(parents=True)
    for split, lines in texts.items():
        utts = []
        for n, text in enumerate(lines):
            path = wav / f"{split}{n}.wav"
            soundfile.write(path, np.zeros(int(16000 * seconds), np.float32), 16000)
            utts.append(Utterance(f"u{n}", path, seconds, text, f"s{split}"))
        write_manifest(utts, folder / f"{split}.jsonl")
    if lm_text is not None:
        (folder / "lm_text.txt").write_text("".join(line + "\n" for line in lm_text))
    return folder


def _prepare(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PREPARE), *map(str, args)], capture_output=True, text=True)


def test_pools_train_and_dev_keeps_each_test_set_and_prefixes_ids(tmp_path):
    a = _corpus(tmp_path / "a", {"train": ["one two", "three"], "dev": ["four"], "test": ["five six"]},
                lm_text=["one two", "three", "a text only line", "five six"])
    b = _corpus(tmp_path / "b", {"train": ["seven"], "dev": ["eight"], "test": ["nine", "seven"]})
    tts = _corpus(tmp_path / "tts", {"train": [f"tts {n}" for n in range(10)], "dev": ["x"], "test": ["tts test"]}, seconds=1.0)
    (a / "lm_text.txt").write_text((a / "lm_text.txt").read_text() + "tts test\n")
    out = tmp_path / "out"
    result = _prepare("--out-dir", out, "--corpus", f"a={a}", "--corpus", f"b={b}", "--tts", tts, "--tts-hours", 4 / 3600)
    assert result.returncode == 0, result.stderr

    train = load_manifest(out / "train.jsonl")
    real = [u for u in train if not u.id.startswith("tts/")]
    assert [(u.id, u.speaker, u.text) for u in real] == [("a/u0", "a/strain", "one two"), ("a/u1", "a/strain", "three"), ("b/u0", "b/strain", "seven")]
    assert len([u for u in train if u.id.startswith("tts/")]) == 4  # 4 s of 1 s utterances
    assert all(u.audio.is_file() for u in train)
    assert [u.id for u in load_manifest(out / "dev.jsonl")] == ["a/u0", "b/u0"]  # no TTS in dev
    assert [u.text for u in load_manifest(out / "test_a.jsonl")] == ["five six"]
    assert [u.text for u in load_manifest(out / "test_b.jsonl")] == ["nine", "seven"]
    assert [u.text for u in load_manifest(out / "test_tts.jsonl")] == ["tts test"]

    lm = (out / "lm_text.txt").read_text().splitlines()
    assert "five six" not in lm and "a text only line" in lm  # a's test sentence never reaches the LM
    assert "seven" in lm  # b's training transcripts stand in for its missing lm_text.txt; also a test sentence, but trained on
    assert "four" not in lm and "eight" not in lm and "tts test" not in lm
    summary = json.loads((out / "summary.json").read_text())
    assert summary["a"]["train"]["utterances"] == 2 and summary["tts"]["train"]["utterances"] == 4


def test_tts_sample_is_seeded(tmp_path):
    a = _corpus(tmp_path / "a", {"train": ["one"], "dev": ["two"], "test": ["three"]})
    tts = _corpus(tmp_path / "tts", {"train": [f"tts {n}" for n in range(20)], "dev": ["x"], "test": ["y"]}, seconds=1.0)

    def sample(seed: int, out: str) -> list[str]:
        result = _prepare("--out-dir", tmp_path / out, "--corpus", f"a={a}", "--tts", tts, "--tts-hours", 5 / 3600, "--seed", seed)
        assert result.returncode == 0, result.stderr
        return [u.id for u in load_manifest(tmp_path / out / "train.jsonl") if u.id.startswith("tts/")]

    assert sample(0, "x") == sample(0, "y") != sample(1, "z")


def test_a_missing_manifest_or_a_bad_corpus_argument_is_one_line(tmp_path):
    a = _corpus(tmp_path / "a", {"train": ["one"], "dev": ["two"]})
    result = _prepare("--out-dir", tmp_path / "out", "--corpus", f"a={a}")
    assert result.returncode != 0 and "test.jsonl: no such manifest" in result.stderr and "Traceback" not in result.stderr
    result = _prepare("--out-dir", tmp_path / "out", "--corpus", "no-equals-sign")
    assert result.returncode != 0 and "expected NAME=FOLDER" in result.stderr
    result = _prepare("--out-dir", tmp_path / "out", "--corpus", f"a={a}", "--corpus", f"a={a}")
    assert result.returncode != 0 and "given twice" in result.stderr
