"""Tests for recipes/an4/prepare.py on a tiny generated an4_sphere-style folder (no download)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from asr.data import load_manifest

PREPARE = Path(__file__).resolve().parents[1] / "recipes" / "an4" / "prepare.py"


def _corpus(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    train = [("fash", "an251-fash-b", "<s> YES </s>"), ("fash", "an253-fash-b", "<s> R O B E R T </s>"), ("mblw", "an1-mblw-b", "<s> ENTER SIX TWO </s>"),
             ("mcel", "an2-mcel-b", "<s> GO </s>")]  # fmt: skip
    test = [("fjlp", "an416-fjlp-b", "NO"), ("fjlp", "an417-fjlp-b", "ENTER NINE ONE SIX NINE"), ("fjlp", "an418-fjlp-b", None)]
    for split, folder, rows in (("train", "an4_clstk", train), ("test", "an4test_clstk", test)):
        ids, lines = [""] if split == "test" else [], [""] if split == "test" else []  # the real test lists start with a blank line
        for speaker, uid, text in rows:
            audio = root / "wav" / folder / speaker / f"{uid}.flac"
            audio.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(audio, np.random.default_rng(len(uid)).standard_normal(8000).astype(np.float32) * 0.1, 16000)
            ids.append(f"{folder}/{speaker}/{uid}")
            if text is not None:  # one test recording has no transcript
                lines.append(f"{text} ({uid})")
        (root / "etc" / f"an4_{split}.fileids").write_text("\n".join(ids) + "\n")
        (root / "etc" / f"an4_{split}.transcription").write_text("\n".join(lines) + "\n")
    return root


def _prepare(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PREPARE), *map(str, args)], capture_output=True, text=True)


def test_splits_by_speaker_and_cleans_transcripts(tmp_path):
    data = _corpus(tmp_path / "an4")
    out = tmp_path / "out"
    result = _prepare("--data-dir", data, "--out-dir", out, "--dev-speakers", "fash")
    assert result.returncode == 0, result.stderr
    train, dev, test = (load_manifest(out / f"{name}.jsonl") for name in ("train", "dev", "test"))
    assert [u.text for u in dev] == ["yes", "r o b e r t"] and {u.speaker for u in dev} == {"fash"}
    assert {u.speaker for u in train} == {"mblw", "mcel"}
    assert [u.text for u in test] == ["no", "enter nine one six nine"]  # the untranscribed one is left out
    assert all(abs(u.duration - 0.5) < 1e-6 for u in test)
    assert (out / "lm_text.txt").read_text() == "enter six two\ngo\n"  # training text only: no dev, no test
    assert "already prepared" in _prepare("--data-dir", data, "--out-dir", out).stdout


def test_errors_name_the_problem(tmp_path):
    result = _prepare("--data-dir", tmp_path / "nothing", "--out-dir", tmp_path / "out")
    assert result.returncode != 0 and "not an an4_sphere folder" in result.stderr and "--download" in result.stderr
    data = _corpus(tmp_path / "an4")
    (data / "wav" / "an4_clstk" / "mcel" / "an2-mcel-b.flac").unlink()
    result = _prepare("--data-dir", data, "--out-dir", tmp_path / "out")
    assert result.returncode != 0 and "an2-mcel-b.sph: no such audio file" in result.stderr
    assert "no training speaker nobody" in _prepare("--data-dir", _corpus(tmp_path / "b"), "--out-dir", tmp_path / "o2", "--dev-speakers", "nobody").stderr
