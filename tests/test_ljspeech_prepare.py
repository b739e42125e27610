"""Tests for recipes/ljspeech/prepare.py on a tiny generated LJ Speech-style folder (no download)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from asr.data import load_manifest

PREPARE = Path(__file__).resolve().parents[1] / "recipes" / "ljspeech" / "prepare.py"


def _corpus(root: Path, with_audio: int = 6) -> Path:
    """metadata.csv with 9 lines, WAVs (22.05 kHz) for the first `with_audio`; line 8 repeats line 6's sentence."""
    lines = [
        ("LJ001-0001", "Printing, in the only sense", "Printing, in the only sense"),
        ("LJ001-0002", "in being comparatively modern.", "in being comparatively modern."),
        ("LJ001-0003", "For although the Chinese", "For although the Chinese"),
        ("LJ001-0004", "produced the block books, which were", "produced the block books, which were"),
        ("LJ001-0005", "the invention of movable metal letters in the middle of the 15th century",
         "the invention of movable metal letters in the middle of the fifteenth century"),
        ("LJ001-0006", "And it is worth mention", "And it is worth mention"),
        ("LJ003-0001", "Mr. Smith's house", "Mister Smith's house"),
        ("LJ003-0002", "And it is worth mention", "And it is worth mention"),
        ("LJ003-0003", "a text-only line", "a text-only line"),
    ]  # fmt: skip
    (root / "wavs").mkdir(parents=True)
    (root / "metadata.csv").write_text("".join("|".join(fields) + "\n" for fields in lines))
    for uid, _, _ in lines[:with_audio]:
        soundfile.write(root / "wavs" / f"{uid}.wav", np.random.default_rng(1).standard_normal(11025).astype(np.float32) * 0.1, 22050)
    return root


def _prepare(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PREPARE), *map(str, args)], capture_output=True, text=True)


def test_splits_by_position_and_keeps_held_out_text_out_of_the_lm(tmp_path):
    data, out = _corpus(tmp_path / "lj"), tmp_path / "out"
    result = _prepare("--data-dir", data, "--out-dir", out, "--num-dev", "1", "--num-test", "2", "--tts-lines", "5")
    assert result.returncode == 0, result.stderr
    train, dev, test = (load_manifest(out / f"{name}.jsonl") for name in ("train", "dev", "test"))
    assert [u.id for u in train] == ["LJ001-0001", "LJ001-0002", "LJ001-0003"]
    assert [u.id for u in dev] == ["LJ001-0004"] and [u.id for u in test] == ["LJ001-0005", "LJ001-0006"]
    assert test[0].text == "the invention of movable metal letters in the middle of the fifteenth century"  # the normalized column
    assert abs(test[0].duration - 0.5) < 1e-6 and {u.speaker for u in train + dev + test} == {"lj"}
    lm = (out / "lm_text.txt").read_text().splitlines()
    # Training transcripts, then the text-only lines, without the one that repeats a test sentence.
    assert lm == ["printing in the only sense", "in being comparatively modern", "for although the chinese", "mister smith's house", "a text only line"]
    assert sorted((out / "tts_text.txt").read_text().splitlines()) == ["a text only line", "mister smith's house"]
    assert "already prepared" in _prepare("--data-dir", data, "--out-dir", out).stdout


def test_errors_name_the_problem(tmp_path):
    result = _prepare("--data-dir", tmp_path / "nothing", "--out-dir", tmp_path / "out")
    assert result.returncode != 0 and "not an LJ Speech folder" in result.stderr and "--download" in result.stderr
    data = _corpus(tmp_path / "lj", with_audio=2)
    result = _prepare("--data-dir", data, "--out-dir", tmp_path / "o1", "--num-dev", "1", "--num-test", "1")
    assert result.returncode != 0 and "2 utterances with audio leave none to train on" in result.stderr
    bad = _corpus(tmp_path / "bad")
    (bad / "metadata.csv").write_text("LJ001-0001|only two fields\n")
    result = _prepare("--data-dir", bad, "--out-dir", tmp_path / "o2")
    assert result.returncode != 0 and "metadata.csv:1: expected id|raw text|normalized text, got 2 fields" in result.stderr
