"""Tests for recipes/yesno/prepare.py: pauses found from frame energy, and the crops cut at them.

The audio is generated (noise bursts for words, quiet gaps for pauses), so nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import soundfile

from asr.data import Utterance

ROOT = Path(__file__).resolve().parents[1]
RATE = 8000


def _prepare():
    spec = importlib.util.spec_from_file_location("yesno_prepare", ROOT / "recipes" / "yesno" / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _speech(words: int, gap_s: float, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """Lead-in, then `words` bursts of 0.3 s separated by `gap_s` of near-silence; returns audio and burst starts."""
    quiet = lambda seconds: rng.normal(0, 1e-4, round(seconds * RATE))  # noqa: E731
    pieces, starts, at = [quiet(0.5)], [], round(0.5 * RATE)
    for i in range(words):
        starts.append(at)
        pieces.append(rng.normal(0, 0.2, round(0.3 * RATE)))
        at += round(0.3 * RATE)
        gap = quiet(gap_s if i < words - 1 else 0.5)
        pieces.append(gap)
        at += len(gap)
    return np.concatenate(pieces).astype(np.float32), starts


def test_speech_segments_find_each_word():
    prepare = _prepare()
    samples, starts = _speech(8, 0.2, np.random.default_rng(0))
    segments = prepare.speech_segments(samples, RATE)
    assert len(segments) == 8
    for (begin, end), start in zip(segments, starts):
        assert abs(begin - start) <= 0.03 * RATE and end > begin


def test_crops_start_at_each_later_word(tmp_path):
    prepare = _prepare()
    samples, starts = _speech(8, 0.2, np.random.default_rng(1))
    path = tmp_path / "0_1_0_0_1_1_0_1.wav"
    soundfile.write(path, samples, RATE)
    text = "no yes no no yes yes no yes"
    crops = prepare.crops(Utterance(path.stem, path, len(samples) / RATE, text), tmp_path / "out")
    assert [c.text for c in crops] == [" ".join(text.split()[k:]) for k in range(1, 8)]
    for crop, start in zip(crops, starts[1:]):
        audio, rate = soundfile.read(crop.audio, dtype="float32")
        assert rate == RATE and crop.duration == len(audio) / RATE
        lead_in = len(samples) - len(audio)  # the crop is the tail from the middle of the pause
        assert start - 0.2 * RATE < lead_in < start


def test_no_crops_when_pauses_are_missing(tmp_path):
    prepare = _prepare()
    samples, _ = _speech(8, 0.0, np.random.default_rng(2))  # one breath: no pause to cut at
    path = tmp_path / "1_1_1_1_1_1_1_1.wav"
    soundfile.write(path, samples, RATE)
    assert prepare.crops(Utterance(path.stem, path, 1.0, " ".join(["yes"] * 8)), tmp_path / "out") == []
